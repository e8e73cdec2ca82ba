#!/usr/bin/env python
"""Train a translator: ``recurrent-seq2seq`` (LSTM + attention) or ``transformer-seq2seq``.

    python recipes/finetune_translation.py --model_family transformer-seq2seq --config_name tiny \\
        --dataset_name number-translation --source_lang en --target_lang de --output_dir runs/mt \\
        --max_steps 2000 --learning_rate 1e-3 --predict_with_generate --generation_num_beams 4

``--dataset_name`` takes anything ``nlpseq.load_corpus`` does, including a folder of parallel text files
(``train.en`` + ``train.de``, ``val.*``), e.g. ``--dataset_name ../shared/data/multi30k``.

Runs on ``Seq2SeqTrainer`` with ``DataCollatorForSeq2Seq``; with ``--predict_with_generate`` the
evaluation decodes with ``generate()`` and reports sacreBLEU, chrF and exact match
(``nlpseq.metrics.translation_metrics``), and ``--do_predict`` writes
the test split's translations to ``generated_predictions.txt`` (one per line, as ``run_translation.py`` does).
``--max_source_length`` / ``--max_target_length`` truncate each side (default: ``--max_length``).
"""

from pathlib import Path

from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainingArguments, TrainerCallback, set_seed
from transformers.trainer_utils import PredictionOutput

from nlpseq import prepare_translation
from nlpseq.metrics import decode_texts, translation_metrics
from nlpseq.results import run_and_report, write_lines
from nlpseq.rows import check_rows, translation_fields
from nlpseq.training import (
    DataArguments,
    ModelArguments,
    Seq2SeqTrainer,
    build_config,
    build_model,
    check_translation_columns,
    load_data,
    load_or_train_tokenizer,
    run_recipe,
)


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer``."""
    return run_recipe(run, Seq2SeqTrainingArguments, task="translation", argv=argv, callbacks=callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, training_args: Seq2SeqTrainingArguments,
        callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_data(data_args, training_args.seed)
    check_translation_columns(data, data_args)
    data = check_rows(data, translation_fields(data, data_args.source_lang, data_args.target_lang), "translation")
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, "translation", training_args.output_dir)
    with training_args.main_process_first(desc="tokenize"):
        data = prepare_translation(data, tokenizer, data_args.source_lang, data_args.target_lang,
                                   max_source_length=data_args.max_source_length or data_args.max_length,
                                   max_target_length=data_args.max_target_length or data_args.max_length,
                                   num_proc=data_args.preprocessing_num_workers)
    config = build_config(model_args, tokenizer, "translation", decoder_start_token_id=tokenizer.bos_token_id)
    model = build_model(model_args, config, "translation")
    model.generation_config.max_length = (training_args.generation_max_length or data_args.max_target_length
                                          or data_args.max_length)
    model.generation_config.num_beams = training_args.generation_num_beams or 1

    trainer = Seq2SeqTrainer(model=model, args=training_args, train_dataset=data["train"],
                             eval_dataset=data["validation"], processing_class=tokenizer,
                             data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                             compute_metrics=translation_metrics(tokenizer)
                             if training_args.predict_with_generate else None, callbacks=callbacks)

    def write_translations(output: PredictionOutput, output_dir: Path) -> None:
        write_lines(output_dir / "generated_predictions.txt", decode_texts(tokenizer, output.predictions))

    return run_and_report(trainer, data, tokenizer, data_args,
                          f"A {data_args.source_lang}->{data_args.target_lang} translation model.",
                          write_predictions=write_translations if training_args.predict_with_generate else None)


if __name__ == "__main__":
    main()
