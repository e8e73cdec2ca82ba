#!/usr/bin/env python
"""Fine-tune (or train from scratch) a sequence classifier: ``bow``, ``recurrent``, ``encoder``, ``decoder`` or ``ssm``.

    # from scratch on the built-in topic labels
    python recipes/finetune_classification.py --model_family recurrent --config_overrides cell=lstm \\
        --dataset_name stdlib-docs --output_dir runs/cls-lstm --num_train_epochs 3 --learning_rate 3e-3
    # from a pretrained checkpoint (e.g. the output of pretrain_mlm.py), on your own CSV
    python recipes/finetune_classification.py --model_family encoder --model_name_or_path runs/mlm \\
        --dataset_name reviews.csv --text_column review --label_column stars --output_dir runs/cls-enc

One label vocabulary for the run (``nlpseq.labels``): fitted on the training split (or the checkpoint's
``label2id``), stored in the config, applied to every split; labels with a fraction (0.5, 1.7) make it a
regression. Reports accuracy and macro-F1 (MSE, MAE and Pearson's r for regression) on the validation split
(``eval_results.json``) and on the test split when it has labels (``predict_results.json``); the test split is
predicted, labelled or not (GLUE's test splits have none), into ``predict_results.txt``: ``index<TAB>prediction`` per
row, as ``run_classification.py`` writes it.
"""

from pathlib import Path

import numpy as np
from datasets import DatasetDict
from transformers import DataCollatorWithPadding, TrainerCallback, TrainingArguments, set_seed
from transformers.trainer_utils import PredictionOutput

from nlpseq import metrics, prepare_classification, tokenize_dataset
from nlpseq.data import require_columns
from nlpseq.labels import LabelVocabulary, classification_data
from nlpseq.results import run_and_report, write_lines
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


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer``."""
    return run_recipe(run, TrainingArguments, task="classification", argv=argv, callbacks=callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments,
        callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_data(data_args, training_args.seed)
    pick_columns(data["train"].column_names, data_args, "classification")
    require_columns(data["train"], [data_args.text_column, data_args.label_column], "text classification")
    unlabelled = data.get("test")  # dropped below when it has no labels (GLUE's): then only predicted
    data, labels = classification_data(data, data_args.text_column, data_args.label_column,
                                       checkpoint=model_args.model_name_or_path)  # rows and labels, before any work
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, "classification", training_args.output_dir)
    with training_args.main_process_first(desc="tokenize"):
        data = prepare_classification(data, tokenizer, data_args.text_column, data_args.label_column,
                                      max_length=data_args.max_length, labels=labels,
                                      num_proc=data_args.preprocessing_num_workers)
        if unlabelled is not None and "test" not in data and training_args.do_predict:
            data["test"] = tokenize_dataset(DatasetDict(test=unlabelled), tokenizer, data_args.text_column,
                                            max_length=data_args.max_length)["test"]
    config = build_config(model_args, tokenizer, "classification", **labels.config_fields())
    model = build_model(model_args, config, "classification")
    if hasattr(model, "fit_idf"):  # bag of words: document frequencies come from the training set
        model.fit_idf(data["train"]["input_ids"])

    trainer = Trainer(model=model, args=training_args, train_dataset=data["train"], eval_dataset=data["validation"],
                      processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                      compute_metrics=metrics.regression_metrics() if labels.is_regression
                      else metrics.classification_metrics(), callbacks=callbacks)
    return run_and_report(trainer, data, tokenizer, data_args, labels.describe(),
                          write_predictions=prediction_writer(labels))


def prediction_writer(labels: LabelVocabulary):
    """``predict_results.txt``: a header, then ``index<TAB>label name`` (regression: the number) per test row."""

    def write(output: PredictionOutput, output_dir: Path) -> None:
        scores = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
        if labels.is_regression:
            predicted = [f"{value:.6g}" for value in np.asarray(scores).reshape(-1)]
        else:
            predicted = [labels.names[i] for i in np.argmax(scores, axis=-1)]
        write_lines(output_dir / "predict_results.txt", ["index\tprediction"]
                    + [f"{i}\t{p}" for i, p in enumerate(predicted)])

    return write


if __name__ == "__main__":
    main()
