"""What the recipes share: their arguments, model/tokenizer construction, checks, and the end-of-run report.

A recipe (``recipes/*.py``) is ~50 lines: parse ``ModelArguments``, ``DataArguments`` and the transformers
``TrainingArguments`` (or ``Seq2SeqTrainingArguments``) with ``HfArgumentParser``, call these helpers, run the
``Trainer`` (or ``Seq2SeqTrainer``) defined here: the transformers one with pickle-free checkpoints. Every
check here runs *before* training starts, so a bad flag costs seconds, not an epoch.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import transformers
import yaml
from transformers import (
    AutoConfig,
    AutoTokenizer,
    HfArgumentParser,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainerCallback,
    TrainingArguments,
)

from . import models
from .arguments import (
    check_data_arguments,
    check_lengths,
    check_local_sources,
    check_output_dir,
    check_override_types,
    check_training_arguments,
)
from .checkpointing import (  # the resume helpers live beside the checkpoint format; recipes import them here
    SafetensorsCheckpointMixin,
    check_resume_checkpoint,
    last_complete_checkpoint,  # noqa: F401
    resolve_resume,  # noqa: F401
)
from .data import load_corpus, require_columns
from .errors import ConfigurationError, ConfigurationFileNotFoundError
from .hub import model_card
from .presets import SIZES, preset, run_defaults
from .rows import check_translation_columns  # noqa: F401  (moved there; recipes import it here)
from .tokenization import train_tokenizer

TRAINER_STATE = "trainer_state.json"

#: family -> model_type and the head class for each task (looked up in nlpseq.models when needed)
FAMILIES: dict[str, dict[str, str]] = {
    "bow": {"model_type": "nlpseq-bow", "classification": "BowForSequenceClassification"},
    "recurrent": {"model_type": "nlpseq-recurrent", "clm": "RecurrentForCausalLM",
                  "classification": "RecurrentForSequenceClassification"},
    "encoder": {"model_type": "nlpseq-encoder", "mlm": "EncoderForMaskedLM",
                "classification": "EncoderForSequenceClassification"},
    "decoder": {"model_type": "nlpseq-decoder", "clm": "DecoderForCausalLM",
                "classification": "DecoderForSequenceClassification"},
    "recurrent-seq2seq": {"model_type": "nlpseq-recurrent-seq2seq",
                          "translation": "RecurrentSeq2SeqForConditionalGeneration"},
    "transformer-seq2seq": {"model_type": "nlpseq-transformer-seq2seq",
                            "translation": "TransformerSeq2SeqForConditionalGeneration"},
}
#: task -> tokenizer preset
PRESET_FOR_TASK = {"clm": "clm", "mlm": "mlm", "classification": "mlm", "translation": "seq2seq"}


@dataclass
class ModelArguments:
    """Which model to build or load."""

    model_family: str = field(default="decoder", metadata={"help": f"one of {sorted(FAMILIES)}"})
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "start from a saved checkpoint directory (fine-tuning) instead of scratch"})
    config_name: str = field(default="tiny", metadata={
        "help": "size preset (tiny | small | base, from nlpseq/presets/<family>.json: the model size and the training "
                "hyper-parameters that make it learn) or a config.json path"})
    config_overrides: str | None = field(default=None, metadata={
        "help": "comma-separated key=value pairs applied to the config, e.g. 'cell=gru,hidden_size=64'"})
    tokenizer_name: str | None = field(default=None, metadata={
        "help": "a saved tokenizer directory; default: the checkpoint's, else train one on the training data"})
    tokenizer_kind: str = field(default="bpe", metadata={
        "help": "bpe | wordpiece | unigram | char | word | sentencepiece"})
    vocab_size: int = field(default=4000, metadata={
        "help": "vocabulary size of a newly trained tokenizer; 0 = every character/word (char and word kinds)"})


@dataclass
class DataArguments:
    """Which data, which columns, how much of it."""

    dataset_name: str = field(default="stdlib-docs", metadata={
        "help": "built-in corpus, local file/directory, or Hub dataset name (see nlpseq.load_corpus)"})
    dataset_config_name: str | None = field(default=None, metadata={"help": "Hub dataset configuration"})
    text_column: str = field(default="text")
    label_column: str = field(default="label")
    source_lang: str = field(default="en")
    target_lang: str = field(default="de")
    block_size: int = field(default=64, metadata={"help": "tokens per training block for LM pretraining"})
    max_length: int = field(default=128, metadata={"help": "truncate inputs (and targets) to this many tokens"})
    max_train_samples: int | None = field(default=None)
    max_eval_samples: int | None = field(default=None)
    validation_fraction: float = field(default=0.1, metadata={"help": "held out when there is no validation split"})
    sample_by: str = field(default="line", metadata={
        "help": ".txt rows: line (one per non-blank line) | document (one per file, line breaks kept: a character "
                "stream; held-out split = the last validation_fraction of the text)"})
    overwrite_output_dir: bool = field(default=False, metadata={
        "help": "start over in a non-empty --output_dir, deleting its checkpoints and the files of its previous run "
                "(the HF examples' flag; transformers 5 dropped it from TrainingArguments)"})


def parse_args(*dataclass_types, argv: list[str] | None = None, task: str | None = None) -> tuple:
    """``HfArgumentParser`` over the given dataclasses; a single ``.json``/``.yaml`` argument is a file of them.

    With ``task`` (a recipe's), the size preset's training defaults fill every ``TrainingArguments`` flag the
    user did not pass (see ``nlpseq.presets``), and one line names what was applied.

    Under ``torchrun``/``accelerate launch`` on a machine without a GPU the Trainer silently trains every
    process alone on all the data unless ``use_cpu`` is set, so CPU-only distributed runs get
    ``--use_cpu true`` added (and a file of arguments without it is refused).
    """
    parser = HfArgumentParser(dataclass_types)
    argv = list(sys.argv[1:] if argv is None else argv)
    values = _read_args_file(argv, dataclass_types)
    distributed_cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()
    if values is None and distributed_cpu and "--use_cpu" not in argv and any(
            issubclass(t, TrainingArguments) for t in dataclass_types):
        argv += ["--use_cpu", "true"]
    parsed = parser.parse_dict(values) if values is not None else parser.parse_args_into_dataclasses(args=argv)
    model_args = next((a for a in parsed if isinstance(a, ModelArguments)), None)
    if task and model_args is not None:
        given = set(values) if values is not None else _flags_given(argv)
        fields = {f.name for t in dataclass_types for f in dataclasses.fields(t)}
        defaults = run_defaults(model_args.model_family, task, model_args.config_name, model_args.model_name_or_path)
        defaults = {k: v for k, v in defaults.items() if k in fields and k not in given}
        if defaults:
            if int(os.environ.get("RANK", "0")) == 0:
                print(f"nlpseq: {model_args.model_family} training defaults applied (pass a flag to change one): "
                      + ", ".join(f"{k}={v}" for k, v in defaults.items()), flush=True)
            parsed = parser.parse_dict({**defaults, **values}) if values is not None else \
                parser.parse_args_into_dataclasses(args=[*_as_flags(defaults), *argv])
    for args in parsed:
        if distributed_cpu and isinstance(args, TrainingArguments) and args.world_size == 1:
            raise ValueError("Launched with WORLD_SIZE>1 on a machine without a GPU but the Trainer sees one "
                             "process: add \"use_cpu\": true to the arguments file")
    return parsed


def _read_args_file(argv: list[str], dataclass_types) -> dict | None:
    """The values of a single ``.json``/``.yaml`` argument file, or None when ``argv`` holds flags."""
    if len(argv) != 1 or not argv[0].endswith((".json", ".yaml", ".yml")):
        return None
    if argv[0].endswith(".json"):
        return json.loads(Path(argv[0]).read_text())
    values = yaml.safe_load(Path(argv[0]).read_text()) or {}
    # YAML 1.1 reads a bare `no`/`yes` as a boolean; for a non-boolean field (save_strategy: no) it meant the word
    not_bool = {f.name for t in dataclass_types for f in dataclasses.fields(t) if "bool" not in str(f.type)}
    return {k: ("yes" if v else "no") if isinstance(v, bool) and k in not_bool else v for k, v in values.items()}


def _flags_given(argv: list[str]) -> set[str]:
    """Field names the command line sets: ``--lr_x 1``, ``--lr-x=1`` and ``--no_flag`` all count."""
    names = {a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}
    return names | {n[3:] for n in names if n.startswith("no_")}


def _as_flags(values: dict) -> list[str]:
    return [item for key, value in values.items() for item in (f"--{key}", str(value))]


def check_arguments(model_args: ModelArguments, training_args, task: str,
                    data_args: DataArguments | None = None) -> None:
    """Fail before any work: an unknown family or a task it lacks, out-of-range training/data arguments and an
    unusable ``--output_dir`` (``nlpseq.arguments``), a missing or damaged resume checkpoint, a checkpoint or config
    of another family, misspelt or mistyped ``--config_overrides``, and a config they make invalid."""
    family = FAMILIES.get(model_args.model_family)
    if family is None:
        raise ConfigurationError(f"Unknown model family {model_args.model_family!r}; choose one of {sorted(FAMILIES)}")
    if task not in family:
        able = sorted(f for f, tasks in FAMILIES.items() if task in tasks)
        raise ConfigurationError(f"Family {model_args.model_family!r} has no {task} head; for {task} use one of {able}")
    check_training_arguments(training_args)
    if data_args is not None:
        check_data_arguments(data_args)
    check_output_dir(training_args.output_dir)
    check_resume_checkpoint(getattr(training_args, "resume_from_checkpoint", None))
    check_local_sources(model_args)
    overrides = parse_overrides(model_args.config_overrides)
    _check_override_keys(family["model_type"], overrides)
    config = _check_config_source(model_args, family["model_type"], overrides, task)
    if data_args is not None:
        check_lengths(config, task, data_args, training_args)


def _check_config_source(model_args: ModelArguments, expected: str, overrides: dict,
                         task: str | None = None) -> PretrainedConfig:
    """The checkpoint or ``--config_name`` file is of the family, and its config with the overrides is valid
    (returned, without the tokenizer's vocabulary)."""
    if model_args.model_name_or_path:
        model_type = AutoConfig.from_pretrained(model_args.model_name_or_path).model_type
        if model_type != expected:
            owner = next((f for f, tasks in FAMILIES.items() if tasks["model_type"] == model_type), model_type)
            raise ConfigurationError(f"--model_name_or_path {model_args.model_name_or_path} holds a {model_type!r} "
                                     f"model but --model_family is {model_args.model_family!r}; pass --model_family "
                                     f"{owner}")
        return AutoConfig.from_pretrained(model_args.model_name_or_path, **overrides)  # its own checks, now
    try:  # an unknown size or a config of another family fails here, before the tokenizer is trained
        values = dict(preset_config(model_args, task))
    except FileNotFoundError as err:
        raise ConfigurationFileNotFoundError(str(err)) from None
    model_type = values.pop("model_type", expected)
    if model_type != expected:
        raise ConfigurationError(f"--config_name {model_args.config_name} is a {model_type!r} config but "
                                 f"--model_family is {model_args.model_family!r}; pass a {expected} config or the "
                                 "matching --model_family")
    return AutoConfig.for_model(expected, **{**values, **overrides})  # e.g. hidden_size not divisible by heads


def preset_config(model_args: ModelArguments, task: str | None = None) -> dict:
    """``--config_name``: the config values of a size preset (``nlpseq/presets``, with ``task``'s changes), or
    of a config.json path."""
    path = Path(model_args.config_name)
    if path.is_file():
        return json.loads(path.read_text())
    if model_args.config_name not in SIZES and model_args.config_name.endswith(".json"):
        raise FileNotFoundError(f"--config_name {model_args.config_name} does not exist; give a config.json path "
                                f"or a size preset in {list(SIZES)}")
    return preset(model_args.model_family, model_args.config_name, task)["config"]


def _check_override_keys(model_type: str, overrides: dict) -> None:
    """A misspelt ``--config_overrides`` key would be stored on the config and silently ignored: refuse it (and a
    value of the wrong type, which would fail deep inside the model)."""
    known = set(AutoConfig.for_model(model_type).to_dict())
    unknown = [k for k in overrides if k not in known]
    if unknown:
        hints = {k: difflib.get_close_matches(k, known, n=1) for k in unknown}
        hint = "; ".join(f"{k!r}: did you mean {m[0]!r}?" for k, m in hints.items() if m)
        raise ConfigurationError(f"--config_overrides key(s) {unknown} are not {model_type} config fields"
                                 f"{' (' + hint + ')' if hint else ''}; see the model's config class for the valid "
                                 "ones")
    check_override_types(type(AutoConfig.for_model(model_type)), overrides)


def load_data(data_args: DataArguments, seed: int):
    data = load_corpus(data_args.dataset_name, config=data_args.dataset_config_name,
                       validation_fraction=data_args.validation_fraction, seed=seed, sample_by=data_args.sample_by)
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples,
              "test": data_args.max_eval_samples}
    for split, limit in limits.items():
        if limit is not None and split in data:
            data[split] = data[split].select(range(min(limit, len(data[split]))))
    return data


def texts_for_tokenizer(data, data_args: DataArguments, task: str) -> list[str]:
    train = data["train"]
    if task == "translation":
        if "translation" in train.column_names:
            return [t[lang] for t in train["translation"] for lang in (data_args.source_lang, data_args.target_lang)]
        require_columns(train, [data_args.source_lang, data_args.target_lang], "the tokenizer")
        return list(train[data_args.source_lang]) + list(train[data_args.target_lang])
    require_columns(train, [data_args.text_column], "the tokenizer")
    return list(train[data_args.text_column])


def load_or_train_tokenizer(model_args: ModelArguments, data, data_args: DataArguments, task: str,
                            output_dir: str) -> PreTrainedTokenizerBase:
    """The given tokenizer, else the checkpoint's, else the one this run already saved, else train one.

    A newly trained tokenizer is saved into ``output_dir`` at once: a resumed run and the other processes
    of a distributed run (call this under ``training_args.main_process_first()``) load that same file.
    """
    source = model_args.tokenizer_name or model_args.model_name_or_path
    if source is None and (Path(output_dir) / "tokenizer_config.json").is_file():
        source = output_dir
    if source:
        return AutoTokenizer.from_pretrained(source)
    texts = texts_for_tokenizer(data, data_args, task)
    every_symbol = model_args.tokenizer_kind in ("char", "word")  # a whole-corpus vocabulary keeps rare symbols
    tokenizer = train_tokenizer(texts, kind=model_args.tokenizer_kind, vocab_size=model_args.vocab_size or None,
                                preset=PRESET_FOR_TASK[task], min_frequency=1 if every_symbol else 2)
    tokenizer.save_pretrained(output_dir)
    return tokenizer


def parse_overrides(text: str | None) -> dict:
    """``"cell=gru,hidden_size=64,bidirectional=true"`` -> typed dict (int, float, bool, None or str)."""
    out = {}
    for item in filter(None, (text or "").split(",")):
        if "=" not in item:
            raise ConfigurationError(f"--config_overrides item {item!r} is not key=value")
        key, value = (s.strip() for s in item.split("=", 1))
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def build_config(model_args: ModelArguments, tokenizer: PreTrainedTokenizerBase, task: str | None = None,
                 **task_fields) -> PretrainedConfig:
    """The size preset (with ``task``'s changes; or the checkpoint's config) + overrides + the tokenizer's
    vocabulary and special-token ids + ``task_fields``."""
    family = FAMILIES[model_args.model_family]
    overrides = parse_overrides(model_args.config_overrides)
    if model_args.model_name_or_path:
        config = AutoConfig.from_pretrained(model_args.model_name_or_path, **overrides)
    else:
        values = {**preset_config(model_args, task), **overrides}
        values.pop("model_type", None)
        if "vocab_size" in values and values["vocab_size"] != len(tokenizer):
            raise ValueError(f"The config's vocab_size={values['vocab_size']} does not match the tokenizer's "
                             f"{len(tokenizer)} tokens; drop vocab_size from the config (it is taken from the "
                             "tokenizer) or use the tokenizer the config was made for")
        specials = {k: getattr(tokenizer, k) for k in ("pad_token_id", "bos_token_id", "eos_token_id")
                    if getattr(tokenizer, k, None) is not None}
        config = AutoConfig.for_model(family["model_type"], vocab_size=len(tokenizer), **specials, **values)
    if config.vocab_size != len(tokenizer):
        raise ValueError(f"The model's vocab_size={config.vocab_size} does not match the tokenizer's {len(tokenizer)}"
                         " tokens; pass --tokenizer_name with the tokenizer the model was trained with")
    for key, value in task_fields.items():
        setattr(config, key, value)
    return config


def build_model(model_args: ModelArguments, config: PretrainedConfig, task: str) -> PreTrainedModel:
    model_class = getattr(models, FAMILIES[model_args.model_family][task])
    if model_args.model_name_or_path:
        return model_class.from_pretrained(model_args.model_name_or_path, config=config)
    return model_class(config)


class Trainer(SafetensorsCheckpointMixin, transformers.Trainer):
    """``transformers.Trainer`` whose checkpoints hold safetensors and JSON only (see ``nlpseq.checkpointing``)."""


class Seq2SeqTrainer(SafetensorsCheckpointMixin, transformers.Seq2SeqTrainer):
    """``transformers.Seq2SeqTrainer`` whose checkpoints hold safetensors and JSON only."""


class TimeLimitCallback(TrainerCallback):
    """Stop training (and save a checkpoint) once ``minutes`` of wall-clock have passed.

    For "the best you can reach in N minutes" comparisons: pass ``max_steps`` large enough to never be
    the limit (the learning-rate schedule still follows ``max_steps``), and add
    ``TimeLimitCallback(N)`` to the ``Trainer``'s callbacks.
    """

    def __init__(self, minutes: float):
        self.seconds = minutes * 60
        self.start: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self.start is not None and time.perf_counter() - self.start >= self.seconds:
            control.should_training_stop = True
            control.should_save = True
        return control


def finish(trainer, metrics: dict, tokenizer: PreTrainedTokenizerBase, data_args: DataArguments,
           description: str, perplexity: bool = False) -> dict:
    """Save the model and tokenizer, ``all_results.json`` and a model card into ``output_dir``.

    ``perplexity=True`` (language models) adds ``eval_perplexity = exp(eval_loss)``.
    """
    if perplexity and "eval_loss" in metrics:
        metrics["eval_perplexity"] = math.exp(min(metrics["eval_loss"], 50))
    trainer.save_model()
    trainer.save_metrics("all", metrics)  # writes all_results.json
    trainer.save_state()  # trainer_state.json: the loss history
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(trainer.args.output_dir)
        model = trainer.accelerator.unwrap_model(trainer.model)
        dataset = str(data_args.dataset_name)
        if Path(dataset).exists():  # a local path is no Hub dataset id (and would leak the machine's layout)
            dataset, description = None, f"{description} Trained on local data `{Path(dataset).name}`."
        card = model_card(model, Path(trainer.args.output_dir).name, results=metrics,
                          datasets=[dataset] if dataset else None, description=description)
        card.save(Path(trainer.args.output_dir) / "README.md")
    return metrics
