"""Argument checks that run before any data work: each names the flag, the value and the valid range.

Without them a bad value travels until it breaks something expensive or, worse, nothing breaks:
``--max_steps 0`` trained one step and ``--max_steps -5`` three epochs (the Trainer's "<= 0 means use
epochs" rule), ``--learning_rate nan`` and a batch size of 0 failed inside torch after the data was
prepared, ``--config_overrides hidden_size=abc`` failed as string formatting inside the config, and an
``--output_dir`` that is a file, or on a read-only disk, failed in ``Trainer.__init__``.

``--max_steps -1`` is the default and means "train ``--num_train_epochs`` epochs"; HfArgumentParser gives an
explicit ``-1`` the same value, so it is accepted with that meaning, and every other value <= 0 is refused.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from transformers import GenerationConfig

from .averaging import FILE as EMA_FILE
from .checkpointing import explicit_checkpoint
from .data import check_block_size
from .errors import ConfigurationError, ConfigurationFileNotFoundError, ConfigurationTypeError, InputError
from .models.generation_checks import check_cache_implementation, learned_position_limit

#: --dataset_name when none is passed (a built-in corpus)
DEFAULT_DATASET = "stdlib-docs"
#: annotation base name -> (check, how the message names it)
KINDS = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an int"),
    "float": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "a bool (true or false)"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "list": (lambda v: isinstance(v, list), "a list (e.g. [64,32])"),
    "tuple": (lambda v: isinstance(v, list), "a list (e.g. [1,2])"),
    "dict": (lambda v: isinstance(v, dict), "a JSON object"),
}


def _positive(flag: str, value: object, what: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{flag} {value} is not allowed: {what}")


def check_training_arguments(args) -> None:
    """Steps, epochs, batch sizes and learning rate of a ``TrainingArguments``, before anything is built."""
    if args.max_steps == 0 or args.max_steps < -1:
        raise ConfigurationError(f"--max_steps {args.max_steps} is not allowed: pass a positive number of optimizer "
                                 "steps, or -1 (the default) to train for --num_train_epochs epochs")
    if args.max_steps == -1:
        _positive("--num_train_epochs", args.num_train_epochs, "with --max_steps -1 training runs for this many "
                  "epochs; pass a number > 0 (or a positive --max_steps)")
    for flag in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        value = getattr(args, flag)
        if not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"--{flag} {value} is not allowed: pass an integer >= 1")
    _positive("--learning_rate", args.learning_rate, "pass a finite number > 0 (e.g. 1e-3)")


def check_switches(args, pretrained: bool = True) -> None:
    """``--do_train``/``--do_eval``/``--do_predict``: at least one, ``--push_to_hub`` only with training, and no
    evaluation or prediction of a model built from scratch that this run does not train (``pretrained`` False)."""
    if not (args.do_train or args.do_eval or args.do_predict):
        raise ConfigurationError("--do_train, --do_eval and --do_predict are all false: nothing to do; pass the steps "
                                 "to run (or none of the three flags for all of them)")
    if args.push_to_hub and not args.do_train:
        raise ConfigurationError("--push_to_hub uploads the model this run trains, but --do_train is false; add "
                                 "--do_train, or push a finished run with recipes/share_model.py --push_to_hub")
    if not args.do_train and not pretrained:
        raise ConfigurationError("--do_eval/--do_predict without --do_train would score a model that was never "
                                 "trained (no --model_name_or_path); add --do_train, or pass --model_name_or_path "
                                 "with a trained run")


def check_model_features(model_class: type, training_args) -> None:
    """``--gradient_checkpointing`` on a model without it, and a ``--generation_config`` with a
    ``cache_implementation`` for a recurrent model, refused before any data work."""
    if getattr(training_args, "gradient_checkpointing", False) and not model_class.supports_gradient_checkpointing:
        raise ConfigurationError(f"--gradient_checkpointing: {model_class.__name__} does not support it (only the "
                                 "Transformer families do); drop the flag, and to save memory lower "
                                 "--per_device_train_batch_size (raising --gradient_accumulation_steps) or the "
                                 "sequence length")
    generation = getattr(training_args, "generation_config", None)
    if generation is None or getattr(model_class, "has_key_value_cache", True):
        return
    if not isinstance(generation, GenerationConfig):
        generation = GenerationConfig.from_pretrained(generation)
    try:
        check_cache_implementation(model_class.__name__, generation.cache_implementation)
    except InputError as err:
        raise ConfigurationError(f"--generation_config: {err}") from None


def check_data_arguments(data_args) -> None:
    """Sizes of a recipe's ``DataArguments``."""
    check_block_size(data_args.block_size, "--block_size")
    if data_args.max_length < 1:
        raise ConfigurationError(f"--max_length {data_args.max_length} is not allowed: pass an integer >= 1")
    for flag in ("max_train_samples", "max_eval_samples", "max_predict_samples", "max_source_length",
                 "max_target_length", "preprocessing_num_workers"):
        value = getattr(data_args, flag, None)
        if value is not None and value < 1:
            raise ConfigurationError(f"--{flag} {value} is not allowed: pass an integer >= 1, or leave it out")
    check_data_files(data_args)


def check_early_stopping(data_args, training_args) -> None:
    """``--early_stopping_patience`` needs the best checkpoint kept and loaded at the end: without
    ``--load_best_model_at_end`` the run would stop with its last, worse weights (transformers only warns)."""
    patience, threshold = data_args.early_stopping_patience, data_args.early_stopping_threshold
    if patience < 0 or threshold < 0:
        raise ConfigurationError(f"--early_stopping_patience {patience} / --early_stopping_threshold {threshold}: "
                                 "pass a patience >= 0 (0 = off) and a threshold >= 0")
    if patience and not training_args.load_best_model_at_end:
        raise ConfigurationError(f"--early_stopping_patience {patience} stops on the validation metric and needs the "
                                 "best checkpoint: add --load_best_model_at_end true with --eval_strategy steps "
                                 "--save_strategy steps and the same --eval_steps / --save_steps")


def check_weight_average(data_args, training_args) -> None:
    """``--ema_decay`` is a decay in [0, 1) (0 = off), on weights that are not sharded (FSDP, DeepSpeed), and a
    checkpoint it resumes or loads as the best holds the average (``ema.safetensors``: ``--save_only_model``
    checkpoints do not)."""
    decay = data_args.ema_decay
    if not 0 <= decay < 1:
        raise ConfigurationError(f"--ema_decay {decay} is not a decay: pass one in [0, 1), e.g. 0.99 (an average "
                                 "over about the last 100 steps), or 0 for none")
    sharded = training_args.fsdp or training_args.deepspeed or any(
        os.environ.get(f"ACCELERATE_USE_{name}", "").lower() in ("1", "true") for name in ("FSDP", "DEEPSPEED"))
    if decay and sharded:
        raise ConfigurationError("--ema_decay keeps a whole copy of the weights in every process, which FSDP and "
                                 "DeepSpeed shard: drop --ema_decay, or train without --fsdp / --deepspeed")
    if decay and training_args.save_only_model and training_args.load_best_model_at_end:
        raise ConfigurationError("--ema_decay with --save_only_model: the checkpoints would not hold the average that "
                                 "--load_best_model_at_end loads; drop --save_only_model")
    resume = explicit_checkpoint(getattr(training_args, "resume_from_checkpoint", None))
    if decay and resume is not None and not (Path(resume) / EMA_FILE).is_file():
        raise ConfigurationError(f"--resume_from_checkpoint {resume} holds no {EMA_FILE} (it was saved without "
                                 "--ema_decay): resume it without --ema_decay, or start the run again")


def check_data_files(data_args) -> None:
    """``--train_file``/``--validation_file``/``--test_file``: local files, a training file among them, and not
    together with another ``--dataset_name``."""
    files = {split: getattr(data_args, f"{split}_file", None) for split in ("train", "validation", "test")}
    if not any(files.values()):
        return
    if not files["train"]:
        raise ConfigurationError("--validation_file/--test_file need a --train_file (the tokenizer and label "
                                 "vocabulary are fitted on it); pass --train_file too")
    if data_args.dataset_name != DEFAULT_DATASET:
        raise ConfigurationError(f"--dataset_name {data_args.dataset_name} and --train_file both name the data; "
                                 "pass only one")
    for split, path in files.items():
        if path and not Path(path).is_file():
            raise ConfigurationFileNotFoundError(f"--{split}_file {path} does not exist; check the path (relative "
                                                 f"paths start at {Path.cwd()})")


def check_output_dir(output_dir: str | None) -> None:
    """The folder must be a folder (or creatable) and writable: tried with a temporary file, as root too."""
    if not output_dir:
        raise ConfigurationError("--output_dir is missing: pass the folder the run writes its model and results to")
    path = Path(output_dir)
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"--output_dir {output_dir} is a file, not a folder; pass a folder path (it is "
                                 "created when missing)")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ConfigurationError(f"--output_dir {output_dir} cannot be created: {existing} is a file; pass a folder "
                                 "path")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise ConfigurationError(f"--output_dir {output_dir} is not writable ({err.strerror or err} in "
                                 f"{existing}); pass a folder you can write to") from err


def check_local_sources(model_args) -> None:
    """With ``HF_HUB_OFFLINE=1`` a ``--model_name_or_path`` / ``--tokenizer_name`` must be a local folder."""
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        return
    for flag in ("model_name_or_path", "tokenizer_name"):
        value = getattr(model_args, flag, None)
        if value and not Path(value).is_dir():
            what = "checkpoint" if flag == "model_name_or_path" else "tokenizer"
            raise ConfigurationFileNotFoundError(f"--{flag} {value} is not a local folder and HF_HUB_OFFLINE=1 "
                                                 f"forbids the Hub; pass a saved {what} directory")


def _expected_kind(config_class: type, key: str) -> tuple[str, bool] | None:
    """The annotated kind of a config field (``"int"``, ``"float"`` ...) and whether None is allowed."""
    for cls in config_class.__mro__:
        annotation = vars(cls).get("__annotations__", {}).get(key)
        if annotation is not None:
            break
    else:
        return None
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    parts = {p.strip().split("[")[0] for p in text.split("|")}
    kinds = parts - {"None"}
    return (kinds.pop(), "None" in parts) if len(kinds) == 1 and next(iter(kinds)) in KINDS else None


def check_override_types(config_class: type, overrides: dict) -> None:
    """``--config_overrides`` values must have their field's type: "hidden_size expects an int, got 'abc'"."""
    for key, value in overrides.items():
        expected = _expected_kind(config_class, key)
        if expected is None or (value is None and expected[1]):
            continue
        check, name = KINDS[expected[0]]
        if not check(value):
            raise ConfigurationTypeError(f"--config_overrides {key} expects {name}"
                                         f"{' or null' if expected[1] else ''}, got {value!r}")


def _limits(config, task: str) -> list[tuple[str, int]]:
    """(what, how many tokens) the model takes: learned position tables, a recurrent encoder's max_source_length,
    and for language modelling any max_position_embeddings (the block is the model's context)."""
    limits = []
    positions = getattr(config, "max_position_embeddings", None)
    if positions is not None and (task in ("clm", "mlm") or learned_position_limit(config) is not None):
        limits.append(("positions", int(positions)))
    if getattr(config, "max_source_length", None) is not None:
        limits.append(("source tokens (max_source_length)", int(config.max_source_length)))
    return limits


def check_lengths(config, task: str, data_args, training_args) -> None:
    """``--block_size`` / ``--max_length`` (``--max_source_length``) / ``--generation_max_length`` within what the
    model config takes."""
    if task in ("clm", "mlm"):
        flag, value = "--block_size", data_args.block_size
    elif getattr(data_args, "max_source_length", None):
        flag, value = "--max_source_length", data_args.max_source_length
    else:
        flag, value = "--max_length", data_args.max_length
    target = getattr(data_args, "max_target_length", None) or data_args.max_length
    for what, limit in _limits(config, task):
        if value > limit:
            raise ConfigurationError(f"{flag} {value} is longer than the model's {limit} {what}; lower {flag} or "
                                     "raise that limit in --config_overrides")
        generation = getattr(training_args, "generation_max_length", None) or target
        if task == "translation" and getattr(training_args, "predict_with_generate", False) and \
                what == "positions" and generation > limit:
            raise ConfigurationError(f"Generating up to {generation} tokens (--generation_max_length, else "
                                     f"--max_target_length or --max_length) runs past the model's {limit} learned "
                                     "positions; lower it or raise max_position_embeddings in --config_overrides")
