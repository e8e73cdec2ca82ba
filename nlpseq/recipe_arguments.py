"""The recipes' arguments: ``ModelArguments``, ``DataArguments`` and ``parse_args``.

The flags follow transformers' ``examples/pytorch`` scripts (``run_clm.py``, ``run_mlm.py``,
``run_classification.py``, ``run_translation.py``, ``run_ner.py``): ``--train_file``/``--validation_file``/
``--test_file``, ``--max_predict_samples``, ``--preprocessing_num_workers``, ``--overwrite_cache``,
``--keep_linebreaks``, ``--max_source_length``/``--max_target_length`` and ``--trust_remote_code`` mean what they
mean there, and where nlpseq's name differs the examples' one is an alias (:data:`ALIASES`). Without any of
``--do_train``/``--do_eval``/``--do_predict`` a recipe does all three (the examples do nothing); with one, only
the ones given.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments

from .arguments import DEFAULT_DATASET
from .errors import ConfigurationError
from .presets import run_defaults
from .token_classification import TAGS_COLUMN, WORDS_COLUMN

#: task -> the family a recipe builds when --model_family is not given
DEFAULT_FAMILY = {"clm": "decoder", "mlm": "encoder", "classification": "decoder", "translation": "transformer-seq2seq",
                  "token-classification": "encoder"}
#: the examples' flag -> nlpseq's field (per task where the meaning depends on it; "*" for the others)
ALIASES = {
    "max_seq_length": {"clm": "block_size", "mlm": "block_size", "*": "max_length"},
    "validation_split_percentage": {"*": "validation_fraction"},  # a percentage: 5 -> 0.05
    "label_column_name": {"*": "label_column"},
    "text_column_name": {"*": "text_column"},
}
SWITCHES = ("do_train", "do_eval", "do_predict")
#: stand-ins in :data:`COLUMN_FALLBACKS` for columns found by position
FIRST_COLUMN, ONLY_OTHER_COLUMN = "<the first column>", "<the only column besides the label>"
#: task -> {column flag: what the transformers examples take, in order, when the flag was left at its default and
#: the data has no such column}: run_classification.py's "sentence" then run_glue.py's single non-label column;
#: run_clm.py / run_mlm.py's first column; run_ner.py's "tokens" / "ner_tags"
COLUMN_FALLBACKS = {
    "classification": {"text_column": ("sentence", ONLY_OTHER_COLUMN)},
    "clm": {"text_column": (FIRST_COLUMN,)},
    "mlm": {"text_column": (FIRST_COLUMN,)},
    "token-classification": {"text_column": (WORDS_COLUMN,), "label_column": (TAGS_COLUMN,)},
}


@dataclass
class ModelArguments:
    """Which model to build or load."""

    model_family: str | None = field(default=None, metadata={
        "help": "bow | recurrent | encoder | decoder | ssm | recurrent-seq2seq | transformer-seq2seq; default per "
                f"recipe: {DEFAULT_FAMILY}"})
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
    vocab_size: int | None = field(default=None, metadata={
        "help": "exact vocabulary size of a newly trained tokenizer; 0 = every character/word (char and word "
                "kinds); default: every character/word for char and word, else at most 4000 (fewer when the "
                "training text supports fewer)"})
    tokenizer_lowercase: bool = field(default=False, metadata={
        "help": "a newly trained tokenizer lowercases text first (an uncased model, like bert-base-uncased)"})
    trust_remote_code: bool = field(default=False, metadata={
        "help": "let AutoTokenizer run a Hub tokenizer's own code (the examples' flag); the model itself is always "
                "built from nlpseq's classes, never from a checkpoint's code"})


@dataclass
class DataArguments:
    """Which data, which columns, how much of it."""

    dataset_name: str = field(default=DEFAULT_DATASET, metadata={
        "help": "built-in corpus, local file/directory, or Hub dataset name (see nlpseq.load_corpus)"})
    dataset_config_name: str | None = field(default=None, metadata={"help": "Hub dataset configuration"})
    train_file: str | None = field(default=None, metadata={
        "help": "a local training file (txt/csv/tsv/json/jsonl/parquet); replaces --dataset_name"})
    validation_file: str | None = field(default=None, metadata={"help": "a local validation file (with --train_file)"})
    test_file: str | None = field(default=None, metadata={"help": "a local test file for --do_predict"})
    text_column: str = field(default="text")
    label_column: str = field(default="label")
    source_lang: str = field(default="en")
    target_lang: str = field(default="de")
    block_size: int = field(default=64, metadata={"help": "tokens per training block for LM pretraining"})
    shift_blocks: bool = field(default=True, metadata={
        "help": "clm/mlm: cut the training text at a new offset each epoch (nanoGPT's random windows, one pass per "
                "epoch), so many epochs do not memorise fixed blocks; false: run_clm's fixed blocks"})
    max_length: int = field(default=128, metadata={"help": "truncate inputs (and targets) to this many tokens"})
    max_source_length: int | None = field(default=None, metadata={"help": "translation sources (default --max_length)"})
    max_target_length: int | None = field(default=None, metadata={"help": "translation targets (default --max_length)"})
    max_train_samples: int | None = field(default=None, metadata={
        "help": "training examples kept: blocks for clm/mlm (after tokenizing and grouping), rows otherwise"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "as --max_train_samples, for validation"})
    max_predict_samples: int | None = field(default=None, metadata={"help": "as --max_train_samples, for test"})
    validation_fraction: float = field(default=0.1, metadata={"help": "held out when there is no validation split"})
    sample_by: str = field(default="line", metadata={
        "help": ".txt rows: line (one per non-blank line) | document (one per file, line breaks kept: a character "
                "stream; held-out split = the last validation_fraction of the text)"})
    keep_linebreaks: bool = field(default=False, metadata={
        "help": ".txt files read by line keep each line's newline (the examples' default is true; nlpseq's false)"})
    streaming: bool = field(default=False, metadata={
        "help": "read the data as a stream as it trains (clm/mlm; needs --max_steps): for data larger than memory"})
    preprocessing_num_workers: int | None = field(default=None, metadata={
        "help": "processes for tokenizing and grouping (datasets.map num_proc)"})
    overwrite_cache: bool = field(default=False, metadata={
        "help": "recompute every datasets.map instead of reusing its cache files"})
    early_stopping_patience: int = field(default=0, metadata={
        "help": "stop once this many evaluations in a row have not beaten the best validation metric "
                "(transformers' EarlyStoppingCallback; needs --load_best_model_at_end true); 0 = off"})
    early_stopping_threshold: float = field(default=0.0, metadata={
        "help": "with --early_stopping_patience: how much an evaluation must beat the best by to count"})
    ema_decay: float = field(default=0.0, metadata={
        "help": "keep an exponential moving average of the weights with this decay (e.g. 0.99) and evaluate, "
                "checkpoint and save it instead of the last weights (nlpseq.averaging); 0 = off"})
    overwrite_output_dir: bool = field(default=False, metadata={
        "help": "start over in a non-empty --output_dir, deleting its checkpoints and the files of its previous run "
                "(the HF examples' flag; transformers 5 dropped it from TrainingArguments)"})
    max_seq_length: int | None = field(default=None, metadata={
        "help": "alias (the examples' name): --block_size for clm/mlm, --max_length otherwise"})
    validation_split_percentage: float | None = field(default=None, metadata={
        "help": "alias: --validation_fraction as a percentage (5 = 0.05)"})
    label_column_name: str | None = field(default=None, metadata={"help": "alias of --label_column"})
    text_column_name: str | None = field(default=None, metadata={"help": "alias of --text_column"})


def parse_args(*dataclass_types, argv: list[str] | None = None, task: str | None = None) -> tuple:
    """``HfArgumentParser`` over the given dataclasses; a ``.json``/``.yaml`` file given first holds
    them, and flags after it override its values.

    With ``task`` (a recipe's): ``--model_family`` defaults to the task's (:data:`DEFAULT_FAMILY`); the examples'
    aliases are resolved; no ``--do_*`` switch means all three; and the size preset's training defaults fill every
    ``TrainingArguments`` flag the user did not pass (see ``nlpseq.presets``), with one line naming what was applied.

    Under ``torchrun``/``accelerate launch`` on a machine without a GPU the Trainer silently trains every
    process alone on all the data unless ``use_cpu`` is set, so CPU-only distributed runs get
    ``--use_cpu true`` added (and a file of arguments without it is refused).
    """
    parser = HfArgumentParser(dataclass_types)
    argv = list(sys.argv[1:] if argv is None else argv)
    values = _read_args_file(argv, dataclass_types)
    if values is not None:
        argv = argv[1:]  # flags after the file override its values
    given = (set(values) if values is not None else set()) | _flags_given(argv)
    trains = any(issubclass(t, TrainingArguments) for t in dataclass_types)
    added = {}
    if trains and task and not given & set(SWITCHES):
        added.update(dict.fromkeys(SWITCHES, True))
    distributed_cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()
    if values is None and distributed_cpu and "--use_cpu" not in argv and trains:
        added["use_cpu"] = True
    parsed = _parse(parser, values, argv, added)
    model_args = next((a for a in parsed if isinstance(a, ModelArguments)), None)
    if task and model_args is not None:
        family = model_args.model_family or DEFAULT_FAMILY.get(task, "decoder")
        fields = {f.name for t in dataclass_types for f in dataclasses.fields(t)}
        defaults = run_defaults(family, task, model_args.config_name, model_args.model_name_or_path)
        defaults = {k: v for k, v in defaults.items() if k in fields and k not in given}
        if defaults:
            if int(os.environ.get("RANK", "0")) == 0:
                print(f"nlpseq: {family} training defaults applied (pass a flag to change one): "
                      + ", ".join(f"{k}={v}" for k, v in defaults.items()), flush=True)
            parsed = _parse(parser, values, argv, {**defaults, **added})
    for args in parsed:
        if isinstance(args, ModelArguments) and args.model_family is None:
            args.model_family = DEFAULT_FAMILY.get(task, "decoder")
        if isinstance(args, DataArguments) and task:
            resolve_aliases(args, task, given)
        if distributed_cpu and isinstance(args, TrainingArguments) and args.world_size == 1:
            raise ConfigurationError("Launched with WORLD_SIZE>1 on a machine without a GPU but the Trainer sees one "
                                     "process: add \"use_cpu\": true to the arguments file")
    return parsed


def _parse(parser: HfArgumentParser, values: dict | None, argv: list[str], added: dict) -> tuple:
    """Parse a file's values and/or the flags, with ``added`` values under them (flags win over the file)."""
    if values is None:
        return parser.parse_args_into_dataclasses(args=[*_as_flags(added), *argv])
    if not argv:
        return parser.parse_dict({**added, **values})
    fields = {f.name for t in parser.dataclass_types for f in dataclasses.fields(t)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigurationError(f"Unknown keys in the arguments file: {unknown}; see --help for the flags")
    parser.set_defaults(**{**added, **values})
    return parser.parse_args_into_dataclasses(args=argv)


def resolve_aliases(data_args: DataArguments, task: str, given: set[str]) -> None:
    """Copy each examples' alias given (``--max_seq_length``...) onto nlpseq's field; both given and different is
    an error naming the two."""
    for alias, targets in ALIASES.items():
        value = getattr(data_args, alias)
        if value is None:
            continue
        ours = targets.get(task, targets["*"])
        if alias == "validation_split_percentage":
            value = value / 100
        if ours in given and getattr(data_args, ours) != value:
            raise ConfigurationError(f"--{alias} {getattr(data_args, alias)} and --{ours} {getattr(data_args, ours)} "
                                     f"disagree; --{alias} is the examples' name for --{ours}: pass only one")
        setattr(data_args, ours, value)


def pick_columns(names: list[str], data_args: DataArguments, task: str) -> None:
    """Where ``--text_column`` / ``--label_column`` were left at their defaults (``text`` / ``label``) and the data
    has no such column, take the column the transformers examples would (:data:`COLUMN_FALLBACKS`) and say so in
    one line. Any other name given is never replaced: if that column is missing, the recipe's column check says
    so."""
    for flag, fallbacks in COLUMN_FALLBACKS.get(task, {}).items():
        default = DataArguments.__dataclass_fields__[flag].default
        if getattr(data_args, flag) != default or default in names:
            continue
        others = [n for n in names if n != data_args.label_column]
        found = {FIRST_COLUMN: names[:1], ONLY_OTHER_COLUMN: others if len(others) == 1 else []}
        column = next((c for option in fallbacks for c in found.get(option, [option]) if c in names), None)
        if column is not None:
            setattr(data_args, flag, column)
            if int(os.environ.get("RANK", "0")) == 0:
                print(f"nlpseq: the data has no {default!r} column; --{flag} {column} (as the transformers examples "
                      f"choose; pass --{flag} to change it)", flush=True)


def _read_args_file(argv: list[str], dataclass_types) -> dict | None:
    """The values of a ``.json``/``.yaml`` argument file given first (flags may follow), or None when ``argv``
    holds only flags."""
    if not argv or not argv[0].endswith((".json", ".yaml", ".yml")):
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
