#!/usr/bin/env python
"""Train (or fine-tune) a token classifier, e.g. named-entity tagging: ``encoder`` or ``recurrent`` (RNN, LSTM or
GRU cells: ``--config_overrides cell=gru``).

    # from scratch on the built-in tagging task (PER, LOC, ORG in IOB2)
    python recipes/finetune_token_classification.py --model_family encoder --dataset_name entity-tagging \\
        --output_dir runs/ner --max_steps 300
    # a pretrained encoder (pretrain_mlm.py's output) on CoNLL-style files: a list of words and one tag per word
    python recipes/finetune_token_classification.py --model_family encoder --model_name_or_path runs/mlm \\
        --train_file ner_train.jsonl --validation_file ner_dev.jsonl --output_dir runs/ner-enc

The columns are ``--text_column`` / ``--label_column`` (aliases ``--text_column_name`` / ``--label_column_name``),
falling back to ``tokens`` / ``ner_tags`` as ``run_ner.py`` does. Tags may be names or a ``ClassLabel`` sequence,
in IOB1, IOB2 or IOBES. Words are split into sub-words; the first sub-word of each word carries its tag and the
others -100. Reports entity-level precision, recall and F1 (seqeval's conventions, the local ``seqeval`` module
in ``nlpseq/metrics``) and token accuracy; ``--do_predict`` writes ``predictions.txt`` (the test split's tags, one
sentence per line). The result loads in ``pipeline("token-classification", aggregation_strategy="simple")``.
"""

from pathlib import Path

import numpy as np
from transformers import DataCollatorForTokenClassification, TrainerCallback, TrainingArguments, set_seed
from transformers.trainer_utils import PredictionOutput

from nlpseq import metrics
from nlpseq.data import require_columns
from nlpseq.labels import labels_of_checkpoint
from nlpseq.results import run_and_report, write_lines
from nlpseq.token_classification import (
    IGNORED,
    check_tag_rows,
    prepare_token_classification,
    tag_names,
)
from nlpseq.training import (
    DataArguments,
    ModelArguments,
    Trainer,
    build_config,
    build_model,
    load_data,
    load_or_train_tokenizer,
    pick_columns,
    run_recipe,
)

TASK = "token-classification"


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer``."""
    return run_recipe(run, TrainingArguments, task=TASK, argv=argv, callbacks=callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments,
        callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_data(data_args, training_args.seed)
    pick_columns(data["train"].column_names, data_args, TASK)
    require_columns(data["train"], [data_args.text_column, data_args.label_column], "token classification")
    check_tag_rows(data, data_args.text_column, data_args.label_column)
    checkpoint = labels_of_checkpoint(model_args.model_name_or_path, data_args.label_column)
    names = tag_names(data, data_args.label_column, checkpoint.names if checkpoint else None)
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, TASK, training_args.output_dir)
    with training_args.main_process_first(desc="tokenize"):
        data = prepare_token_classification(data, tokenizer, names, data_args.text_column, data_args.label_column,
                                            max_length=data_args.max_length,
                                            num_proc=data_args.preprocessing_num_workers)
    config = build_config(model_args, tokenizer, TASK, num_labels=len(names), id2label=dict(enumerate(names)),
                          label2id={n: i for i, n in enumerate(names)})
    model = build_model(model_args, config, TASK)

    trainer = Trainer(model=model, args=training_args, train_dataset=data["train"], eval_dataset=data["validation"],
                      processing_class=tokenizer, data_collator=DataCollatorForTokenClassification(tokenizer),
                      compute_metrics=metrics.token_classification_metrics(names), callbacks=callbacks)

    def write_tags(output: PredictionOutput, output_dir: Path) -> None:
        predicted = np.argmax(output.predictions, axis=-1)
        write_lines(output_dir / "predictions.txt", [" ".join(names[p] for p, t in zip(row, tags) if t != IGNORED)
                                                     for row, tags in zip(predicted, output.label_ids)])

    return run_and_report(trainer, data, tokenizer, data_args, f"A token classifier (tags: {', '.join(names)}).",
                          write_predictions=write_tags)


if __name__ == "__main__":
    main()
