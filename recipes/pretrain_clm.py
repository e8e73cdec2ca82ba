#!/usr/bin/env python
"""Pretrain a causal language model (``decoder``, ``recurrent`` or ``ssm``) by next-token prediction.

    python recipes/pretrain_clm.py --model_family decoder --config_name tiny --dataset_name stdlib-docs \\
        --output_dir runs/clm --max_steps 200 --per_device_train_batch_size 16 --learning_rate 1e-3

Every ``TrainingArguments`` flag works (``--bf16``, ``--resume_from_checkpoint``, ``--report_to`` ...), and
the same command runs under ``torchrun --nproc_per_node N`` or ``accelerate launch``. Writes the model,
tokenizer, ``train_results.json``, ``eval_results.json`` (with ``eval_perplexity``), ``predict_results.json`` (the
test split, if any), ``all_results.json`` and a model card into ``--output_dir`` (``--do_train``/``--do_eval``/
``--do_predict`` choose the steps; none given means all three). ``--max_train_samples`` counts blocks.
"""

from transformers import DataCollatorForLanguageModeling, TrainerCallback, TrainingArguments, set_seed

from nlpseq.results import run_and_report
from nlpseq.training import (
    DataArguments,
    ModelArguments,
    Trainer,
    build_config,
    build_model,
    lm_blocks,
    load_lm_data,
    load_or_train_tokenizer,
    run_recipe,
    training_blocks,
)


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer`` (e.g.
    ``TimeLimitCallback(10)`` for a training-time budget)."""
    return run_recipe(run, TrainingArguments, task="clm", argv=argv, callbacks=callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments,
        callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_lm_data(data_args, training_args.seed, "clm")  # every row has a text (or streams, --streaming)
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, "clm", training_args.output_dir)
    config = build_config(model_args, tokenizer, "clm")
    model = build_model(model_args, config, "clm")
    with training_args.main_process_first(desc="tokenize"):
        blocks = lm_blocks(data, tokenizer, data_args)

    train = training_blocks(blocks, data_args, training_args.seed)  # cut anew each epoch (--shift_blocks)
    trainer = Trainer(model=model, args=training_args, train_dataset=train,
                      eval_dataset=blocks["validation"], processing_class=tokenizer,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False), callbacks=callbacks)
    return run_and_report(trainer, blocks, tokenizer, data_args, "A language model pretrained by next-token "
                          "prediction.", perplexity=True)


if __name__ == "__main__":
    main()
