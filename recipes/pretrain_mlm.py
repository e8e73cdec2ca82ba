#!/usr/bin/env python
"""Pretrain a Transformer encoder by masked language modelling (BERT's 15% / 80-10-10 masking).

    python recipes/pretrain_mlm.py --model_family encoder --config_name tiny --dataset_name stdlib-docs \\
        --output_dir runs/mlm --max_steps 200 --per_device_train_batch_size 16 --learning_rate 1e-3

The masking is ``DataCollatorForLanguageModeling(mlm_probability=0.15)``. Writes the model, tokenizer,
``train_results.json``, ``eval_results.json`` (with ``eval_perplexity`` over masked tokens), ``predict_results.json``,
``all_results.json`` and a model card into ``--output_dir``, as ``run_mlm.py`` does (``--max_seq_length`` is an
alias of ``--block_size``; ``--max_train_samples`` counts blocks).
"""

from dataclasses import dataclass, field

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


@dataclass
class MaskingArguments:
    mlm_probability: float = field(default=0.15, metadata={"help": "fraction of tokens selected for prediction"})


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> dict:
    """Run the recipe on ``argv`` (default: the command line); ``callbacks`` go to the ``Trainer``."""
    return run_recipe(run, MaskingArguments, TrainingArguments, task="mlm", argv=argv, callbacks=callbacks)


def run(model_args: ModelArguments, data_args: DataArguments, mask_args: MaskingArguments,
        training_args: TrainingArguments, callbacks: list[TrainerCallback] | None = None) -> dict:
    set_seed(training_args.seed)
    data = load_lm_data(data_args, training_args.seed, "mlm")  # every row has a text (or streams, --streaming)
    with training_args.main_process_first(desc="tokenizer"):
        tokenizer = load_or_train_tokenizer(model_args, data, data_args, "mlm", training_args.output_dir)
    config = build_config(model_args, tokenizer, "mlm")
    model = build_model(model_args, config, "mlm")
    with training_args.main_process_first(desc="tokenize"):
        blocks = lm_blocks(data, tokenizer, data_args)

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=mask_args.mlm_probability,
                                               seed=training_args.seed)
    train = training_blocks(blocks, data_args, training_args.seed)  # cut anew each epoch (--shift_blocks)
    trainer = Trainer(model=model, args=training_args, train_dataset=train,
                      eval_dataset=blocks["validation"], processing_class=tokenizer, data_collator=collator,
                      callbacks=callbacks)
    return run_and_report(trainer, blocks, tokenizer, data_args, "An encoder pretrained by masked-token prediction.",
                          perplexity=True)


if __name__ == "__main__":
    main()
