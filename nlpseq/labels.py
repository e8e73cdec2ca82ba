"""One label vocabulary per run: fitted on the training split, stored in the config, applied to every split.

=========================================  ===================================================================
training labels                            vocabulary
=========================================  ===================================================================
``datasets.ClassLabel`` (Hub datasets)     its names, in its order (the dataset's own ids are kept)
strings (or booleans)                      the distinct values, sorted
integers (or floats that are all whole)    the distinct values in numeric order, as names ``"1"``, ``"2"`` ...
numbers with a fraction (0.5, 1.7)         none: regression (``problem_type="regression"``, ``num_labels=1``)
text mixed with numbers, lists, one label  refused (:class:`~nlpseq.errors.DataError`)
=========================================  ===================================================================

Fine-tuning from a checkpoint whose config names its labels reuses that ``label2id`` (or its regression). A
label of any split that the vocabulary lacks is an error that names the labels and the split, before any
training: ids assigned per split would score validation against the wrong classes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pyarrow.compute as pc
from datasets import ClassLabel, Dataset, DatasetDict, Value
from transformers import AutoConfig, PretrainedConfig

from .errors import DataError
from .rows import Field, Json, _batches, check_rows, drop_unlabelled

SINGLE_LABEL, REGRESSION = "single_label_classification", "regression"
#: names transformers gives unnamed labels: a config with only these has no label vocabulary of its own
DEFAULT_NAME = re.compile(r"LABEL_\d+")
SHOWN_LABELS = 10


@dataclass(frozen=True)
class LabelVocabulary:
    """Class names in id order (``names``), or no names for regression; ``source`` says where they came from."""

    column: str
    names: tuple[str, ...] = ()
    source: str = "the train split"

    @property
    def is_regression(self) -> bool:
        return not self.names

    @property
    def num_labels(self) -> int:
        return len(self.names) or 1

    def config_fields(self) -> dict:
        """What ``build_config`` sets on the model config: ``id2label``/``label2id`` or the regression fields."""
        if self.is_regression:
            return {"num_labels": 1, "problem_type": REGRESSION}
        return {"id2label": dict(enumerate(self.names)), "label2id": {n: i for i, n in enumerate(self.names)},
                "problem_type": SINGLE_LABEL}

    def describe(self) -> str:
        if self.is_regression:
            return f"A text regression model (predicts the number in {self.column!r})."
        shown = ", ".join(self.names[:SHOWN_LABELS]) + (", ..." if len(self.names) > SHOWN_LABELS else "")
        return f"A text classifier over {len(self.names)} labels ({shown})."


def _key(value: object) -> str | float:
    """A label's name: the string itself, ``"3"`` for 3, 3.0 or ``"3"``; a fractional number stays a float."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int | str) else value


def _distinct(ds: Dataset, column: str) -> list:
    """The distinct non-missing label values of a split, decoded (ClassLabel ids become names)."""
    feature = ds.features[column]
    if not isinstance(feature, ClassLabel | Value | Json):
        raise DataError(f"Column {column!r} holds {feature} values; a label must be one class name or one number "
                        "per row: pass the right --label_column")
    if isinstance(feature, Json):
        decoded = ds[column]
        bad = [v for v in decoded if isinstance(v, list | dict)][:1]
        if bad:
            raise DataError(f"Column {column!r} holds {type(bad[0]).__name__} labels such as {bad[0]!r}; a label "
                            "must be one class name or one number per row")
        values = set(decoded)
    else:
        values = set()
        for _, chunk in _batches(ds, column):
            values.update(pc.unique(chunk).to_pylist())
    values = [v for v in values if v is not None and v == v and not (isinstance(feature, ClassLabel) and v == -1)]
    return [feature.int2str(v) for v in values] if isinstance(feature, ClassLabel) else values


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fitted(ds: Dataset, column: str) -> LabelVocabulary:
    """The vocabulary the training split defines (see the module table)."""
    feature = ds.features[column]
    if isinstance(feature, ClassLabel):
        return LabelVocabulary(column, tuple(feature.names))
    values = _distinct(ds, column)
    numbers = [v for v in values if _is_number(v)]
    if numbers and len(numbers) < len(values):
        text = next(v for v in values if not _is_number(v))
        raise DataError(f"Column {column!r} of the train split mixes numbers and text labels (e.g. {numbers[0]!r} "
                        f"and {text!r}); make every label a class name, or every label a number for regression")
    if numbers and any(not float(v).is_integer() for v in numbers):
        return LabelVocabulary(column)
    names = tuple(str(int(v)) for v in sorted(numbers)) if numbers else tuple(sorted({_key(v) for v in values}))
    if len(names) < 2:
        raise DataError(f"Column {column!r} of the train split holds a single label {list(names)}: a classifier "
                        "needs at least two; pass the right --label_column or data with more classes")
    return LabelVocabulary(column, names)


def labels_of_checkpoint(checkpoint: str | PretrainedConfig | None, column: str) -> LabelVocabulary | None:
    """The label vocabulary a checkpoint was fine-tuned with; None when its config names no labels (a
    pretrained model without a classification head)."""
    if checkpoint is None:
        return None
    config = checkpoint if isinstance(checkpoint, PretrainedConfig) else AutoConfig.from_pretrained(checkpoint)
    source = f"the checkpoint {checkpoint!r}" if isinstance(checkpoint, str) else "the model config"
    if getattr(config, "problem_type", None) == REGRESSION:
        return LabelVocabulary(column, (), source)
    names = tuple(config.id2label[i] for i in sorted(config.id2label))
    if all(DEFAULT_NAME.fullmatch(str(n)) for n in names):
        return None
    return LabelVocabulary(column, names, source)


def _check_split(split: str, ds: Dataset, labels: LabelVocabulary) -> None:
    """Every label of the split must be in the vocabulary (or, for regression, be a number)."""
    values = _distinct(ds, labels.column)
    if labels.is_regression:
        bad = [v for v in values if not _is_number(_number(v))]
        if bad:
            raise DataError(f"The {split} split has labels {sorted(map(str, bad))[:SHOWN_LABELS]} in "
                            f"{labels.column!r}, but {labels.source} makes this a regression: every label must be "
                            "a number; fix those rows or drop them")
        return
    unseen = sorted({str(_key(v)) for v in values} - set(labels.names))
    if unseen:
        where = "never occur in" if labels.source == "the train split" else "are not among the labels of"
        raise DataError(f"Labels {unseen[:SHOWN_LABELS]}{' ...' if len(unseen) > SHOWN_LABELS else ''} of the "
                        f"{split} split {where} {labels.source} ({list(labels.names[:SHOWN_LABELS])}"
                        f"{' ...' if len(labels.names) > SHOWN_LABELS else ''}); a model cannot learn or be scored "
                        f"on them: add training rows with those labels or drop those rows from the {split} split")


def _number(value: object) -> object:
    """A regression label as a float: numbers, and strings that spell one (a CSV read as text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def fit_labels(data: DatasetDict, column: str, checkpoint: str | PretrainedConfig | None = None
               ) -> LabelVocabulary:
    """Fit the vocabulary on ``data["train"]`` (or take the checkpoint's) and check every split against it."""
    labels = labels_of_checkpoint(checkpoint, column) or _fitted(data["train"], column)
    for split, ds in data.items():
        _check_split(split, ds, labels)
    return labels


def encode_labels(data: DatasetDict, labels: LabelVocabulary) -> DatasetDict:
    """Replace the label column by class ids (a ``ClassLabel`` of the vocabulary's names) or float32 numbers."""
    column, ids = labels.column, {n: i for i, n in enumerate(labels.names)}
    target = Value("float32") if labels.is_regression else ClassLabel(names=list(labels.names))
    out = {}
    for split, ds in data.items():
        feature = ds.features[column]

        def encode(batch, feature=feature):
            values = [feature.int2str(v) if isinstance(feature, ClassLabel) else v for v in batch[column]]
            return {column: [float(_number(v)) if labels.is_regression else ids[str(_key(v))] for v in values]}

        features = ds.features.copy()
        features[column] = target
        out[split] = ds.map(encode, batched=True, features=features, desc="Encoding labels")
    return DatasetDict(out)


def classification_data(data: DatasetDict, text_column: str, label_column: str,
                        labels: LabelVocabulary | None = None,
                        checkpoint: str | PretrainedConfig | None = None) -> tuple[DatasetDict, LabelVocabulary]:
    """Check rows (no missing text or label), drop a test split without labels (with a warning), and fit the
    label vocabulary (or check the given one) on every split. Returns the data and the vocabulary."""
    fields = [Field(text_column), Field(label_column, kind="label")]
    data = check_rows(data, fields, "text classification", optional_splits=("test",))
    data = drop_unlabelled(data, label_column)
    if labels is None:
        return data, fit_labels(data, label_column, checkpoint)
    for split, ds in data.items():
        _check_split(split, ds, labels)
    return data, labels
