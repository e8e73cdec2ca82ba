#!/usr/bin/env python
"""Pretrain a causal language model (``decoder`` or ``recurrent``) by next-token prediction.

    python recipes/pretrain_clm.py --model_family decoder --config_name tiny --dataset_name stdlib-docs \\
        --output_dir runs/clm --max_steps 200 --per_device_train_batch_size 16 --learning_rate 1e-3

Every ``TrainingArguments`` flag works (``--bf16``, ``--resume_from_checkpoint``, ``--report_to`` ...), and
the same command runs under ``torchrun --nproc_per_node N`` or ``accelerate launch``. Writes the model,
tokenizer, ``all_results.json`` (with ``eval_perplexity``) and a model card into ``--output_dir``.
"""

from transformers import DataCollatorForLanguageModeling, TrainerCallback, TrainingArguments, set_seed

from nlpseq import group_texts, tokenize_dataset
from nlpseq.data import require_columns
from nlpseq.rows import check_rows, text_fields
from nlpseq.run_lock import lock_output_dir
from nlpseq.training import (
    DataArguments,
    ModelArguments,
    Trainer,
    build_config,
    build_model,
    check_arguments,
    finish,
    load_data,
    load_or_train_tokenizer,
    parse_args,
    resolve_resume,
)


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer`` (e.g.
    ``TimeLimitCallback(10)`` for a wall-clock budget)."""
    model_args, data_args, training_args = parse_args(ModelArguments, DataArguments, TrainingArguments,
                                                      argv=argv, task="clm")
    check_arguments(model_args, training_args, "clm", data_args)
    with lock_output_dir(training_args, data_args.overwrite_output_dir):
        return run(model_args, data_args, training_args, callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments,
        callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_data(data_args, training_args.seed)
    require_columns(data["train"], [data_args.text_column], "language-model pretraining")
    data = check_rows(data, text_fields(data_args.text_column), "language-model pretraining")  # no None texts
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, "clm", training_args.output_dir)
    config = build_config(model_args, tokenizer, "clm")
    model = build_model(model_args, config, "clm")
    with training_args.main_process_first(desc="tokenize"):
        blocks = group_texts(tokenize_dataset(data, tokenizer, data_args.text_column), data_args.block_size)

    trainer = Trainer(model=model, args=training_args, train_dataset=blocks["train"],
                      eval_dataset=blocks["validation"], processing_class=tokenizer,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False), callbacks=callbacks)
    result = trainer.train(resume_from_checkpoint=resolve_resume(training_args))
    metrics = {**result.metrics, **trainer.evaluate()}
    return finish(trainer, metrics, tokenizer, data_args, "A language model pretrained by next-token prediction.",
                  perplexity=True)


if __name__ == "__main__":
    main()
