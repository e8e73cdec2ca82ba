#!/usr/bin/env python
"""Fine-tune (or train from scratch) a sequence classifier: ``bow``, ``recurrent``, ``encoder`` or ``decoder``.

    # from scratch on the built-in topic labels
    python recipes/finetune_classification.py --model_family recurrent --config_overrides cell=lstm \\
        --dataset_name stdlib-docs --output_dir runs/cls-lstm --num_train_epochs 3 --learning_rate 3e-3
    # from a pretrained checkpoint (e.g. the output of pretrain_mlm.py), on your own CSV
    python recipes/finetune_classification.py --model_family encoder --model_name_or_path runs/mlm \\
        --dataset_name reviews.csv --text_column review --label_column stars --output_dir runs/cls-enc

One label vocabulary for the run (``nlpseq.labels``): fitted on the training split (or the checkpoint's
``label2id``), stored in the config, applied to every split; labels with a fraction (0.5, 1.7) make it a
regression. Reports accuracy and macro-F1 (MSE, MAE and Pearson's r for regression) on the validation split,
and on the test split when it has labels, into ``all_results.json``.
"""

from transformers import DataCollatorWithPadding, TrainerCallback, TrainingArguments, set_seed

from nlpseq import metrics, prepare_classification
from nlpseq.data import require_columns
from nlpseq.labels import classification_data
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
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer``."""
    model_args, data_args, training_args = parse_args(ModelArguments, DataArguments, TrainingArguments,
                                                      argv=argv, task="classification")
    check_arguments(model_args, training_args, "classification", data_args)
    with lock_output_dir(training_args, data_args.overwrite_output_dir):
        return run(model_args, data_args, training_args, callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments,
        callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_data(data_args, training_args.seed)
    require_columns(data["train"], [data_args.text_column, data_args.label_column], "text classification")
    data, labels = classification_data(data, data_args.text_column, data_args.label_column,
                                       checkpoint=model_args.model_name_or_path)  # rows and labels, before any work
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, "classification", training_args.output_dir)
    with training_args.main_process_first(desc="tokenize"):
        data = prepare_classification(data, tokenizer, data_args.text_column, data_args.label_column,
                                      max_length=data_args.max_length, labels=labels)
    config = build_config(model_args, tokenizer, "classification", **labels.config_fields())
    model = build_model(model_args, config, "classification")
    if hasattr(model, "fit_idf"):  # bag of words: document frequencies come from the training set
        model.fit_idf(data["train"]["input_ids"])

    trainer = Trainer(model=model, args=training_args, train_dataset=data["train"], eval_dataset=data["validation"],
                      processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                      compute_metrics=metrics.regression_metrics() if labels.is_regression
                      else metrics.classification_metrics(), callbacks=callbacks)
    result = trainer.train(resume_from_checkpoint=resolve_resume(training_args))
    results = {**result.metrics, **trainer.evaluate()}
    if "test" in data:
        results.update(trainer.evaluate(data["test"], metric_key_prefix="test"))
    return finish(trainer, results, tokenizer, data_args, labels.describe())


if __name__ == "__main__":
    main()
