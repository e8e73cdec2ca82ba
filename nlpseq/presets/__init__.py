"""Size presets: a model size **and** the training recipe that makes it learn from scratch.

One JSON file per family (``nlpseq/presets/<family>.json``, shipped as package data) holds its sizes side by
side, so a reader sees how the learning rate falls as the model grows::

    {"sizes": {"tiny":  {"config": {...model config...},
                         "training": {...TrainingArguments for training from scratch...},
                         "finetune": {...TrainingArguments for fine-tuning a checkpoint of this size...},
                         "tasks": {"classification": {"config": {...}, "training": {...}}}},
               "small": {...}, "base": {...}}}

``tasks`` (optional) holds what one task changes on top, e.g. a bidirectional LSTM for classification, which a
causal language model cannot be.

The recipes apply a preset's ``training`` values for every flag the user did not pass (flags and argument
files always win) and print one line naming what they applied. Fine-tuning a checkpoint
(``--model_name_or_path``) takes the ``finetune`` values of the size whose ``hidden_size`` is closest to the
checkpoint's. Every value here was measured; ``docs/training.md`` says how.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ..errors import ConfigurationError

PRESETS_DIR = Path(__file__).resolve().parent
SIZES = ("tiny", "small", "base")


@cache
def _family_presets(family: str) -> dict:
    path = PRESETS_DIR / f"{family}.json"
    if not path.is_file():
        known = sorted(p.stem for p in PRESETS_DIR.glob("*.json"))
        raise ConfigurationError(f"No presets for model family {family!r}; families with presets: {known}")
    return json.loads(path.read_text())["sizes"]


def preset(family: str, size: str, task: str | None = None) -> dict:
    """``{"config": ..., "training": ..., "finetune": ...}`` of one family and size, with ``task``'s changes
    merged in (copies: safe to change)."""
    sizes = _family_presets(family)
    if size not in sizes:
        raise ConfigurationError(f"No {size!r} preset for {family}; use a size in {sorted(sizes)} or a config.json "
                                 "path")
    values = json.loads(json.dumps(sizes[size]))
    for part, changes in values.pop("tasks", {}).get(task, {}).items():
        values[part].update(changes)
    return values


def nearest_size(family: str, hidden_size: int | None) -> str:
    """The size preset whose ``hidden_size`` is closest to ``hidden_size`` (``tiny`` when unknown)."""
    sizes = _family_presets(family)
    if hidden_size is None:
        return "tiny"
    return min(sizes, key=lambda s: abs(sizes[s]["config"].get("hidden_size", 0) - hidden_size))


def training_defaults(family: str, size: str | None, task: str | None = None, finetune: bool = False,
                      hidden_size: int | None = None) -> dict:
    """The ``TrainingArguments`` values a recipe applies for the flags the user did not pass.

    ``size`` None (a config.json path, or a checkpoint) picks the size nearest ``hidden_size``.
    """
    size = size if size in SIZES else nearest_size(family, hidden_size)
    return preset(family, size, task)["finetune" if finetune else "training"]


def run_defaults(family: str, task: str, config_name: str, model_name_or_path: str | None = None) -> dict:
    """What a recipe run applies: the preset's ``training`` values for ``--config_name`` (a size, or a config.json
    path -> its nearest size), or the ``finetune`` values of the size nearest a ``--model_name_or_path``
    checkpoint. ``{}`` for a family without presets or a source that does not exist: the recipe's checks then
    name the problem."""
    if not (PRESETS_DIR / f"{family}.json").is_file():
        return {}
    if config_name in SIZES and not model_name_or_path:
        return training_defaults(family, config_name, task)
    saved = Path(model_name_or_path) / "config.json" if model_name_or_path else Path(config_name)
    if not saved.is_file():
        return training_defaults(family, None, task, finetune=True) if model_name_or_path else {}
    hidden = json.loads(saved.read_text()).get("hidden_size")
    return training_defaults(family, None, task, finetune=bool(model_name_or_path), hidden_size=hidden)
