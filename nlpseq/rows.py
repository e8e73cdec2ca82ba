"""Row checks that run before a tokenizer is trained: every row of every split must hold what the task reads.

A missing text, label or translation side would otherwise surface as a ``TypeError`` inside the tokenizer, an
``IndexError`` at the first training step, or a ``KeyError`` in the middle of preparation. :func:`check_rows`
looks at all of them at once (with Arrow, so millions of rows take a moment) and raises one
:class:`~nlpseq.errors.DataError` that lists the first offending row numbers of each split and column.

Row numbers count from 0 in the order each split holds its rows. A validation split that ``load_corpus`` held
out of a single file is a seeded shuffle of it, so the message also shows the first offending row's values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset, DatasetDict, Value

try:  # datasets >= 5 loads a JSON column whose rows mix types (1, "a", null) as Json
    from datasets import Json
except ImportError:  # older datasets refuse such a file when loading it
    class Json:  # never instantiated: isinstance(feature, Json) is False
        pass

from .errors import DataError

logger = logging.getLogger(__name__)

#: how many row numbers a message lists per split and column
SHOWN_ROWS = 5
TEXT_DTYPES = ("string", "large_string", "null")  # null: a column without a single value (each row is missing)
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Field:
    """One value a task reads from each row: ``column``, or ``column[key]`` for a translation's language."""

    column: str
    key: str | None = None
    kind: str = "text"  # "text" (a string) or "label" (any non-missing value)

    def __str__(self) -> str:
        return f"{self.column}[{self.key!r}]" if self.key else f"column {self.column!r}"


def _batches(ds: Dataset, column: str) -> Iterator[tuple[int, pa.ChunkedArray]]:
    """``(offset, values)`` in row order (the split's index mapping applied), ``BATCH_ROWS`` at a time."""
    offset = 0
    for table in ds.select_columns([column]).with_format("arrow").iter(batch_size=BATCH_ROWS):
        yield offset, table.column(column)
        offset += table.num_rows


def _python_rows(ds: Dataset, field: Field) -> list[int]:
    """Rows whose decoded value is missing or, for text, not a string (mixed-type JSON columns)."""
    bad = []
    for i, value in enumerate(ds[field.column]):
        if field.key is not None:
            value = value.get(field.key) if isinstance(value, dict) else None
        if value is None or (field.kind == "text" and not isinstance(value, str)) or value != value:  # NaN
            bad.append(i)
    return bad


def _arrow_rows(ds: Dataset, field: Field) -> list[int]:
    """Rows whose value is null (or NaN), from the Arrow columns without decoding them."""
    bad = []
    label = ds.features[field.column] if field.kind == "label" else None
    for offset, values in _batches(ds, field.column):
        if field.key is not None:
            values = pc.struct_field(values, field.key)
        missing = pc.is_null(values, nan_is_null=True)
        if isinstance(label, ClassLabel):  # datasets marks an unlabelled row (GLUE's test splits) with -1
            missing = pc.or_(missing, pc.equal(values, -1))
        bad += [offset + int(i) for i in pc.indices_nonzero(pc.fill_null(missing, True)).to_pylist()]
    return bad


def languages_of(feature) -> list[str]:
    """The languages of a translation column: a struct's fields or a ``datasets.Translation``'s languages."""
    return sorted(feature) if isinstance(feature, dict) else sorted(getattr(feature, "languages", []))


def failing_rows(ds: Dataset, field: Field) -> list[int]:
    """Row numbers (0-based, in split order) whose ``field`` is missing, or not text where text is read."""
    return _python_rows(ds, field) if isinstance(ds.features[field.column], Json) else _arrow_rows(ds, field)


def _feature_of(ds: Dataset, field: Field):
    feature = ds.features[field.column]
    if field.key is None or isinstance(feature, Json):
        return feature
    if isinstance(feature, dict):
        return feature.get(field.key)
    return Value("string") if field.key in languages_of(feature) else None  # datasets.Translation: strings


def _type_problem(ds: Dataset, field: Field) -> str | None:
    """Why ``field`` cannot be read from this split at all (no such column, or no text in it), else None."""
    if field.column not in ds.column_names:
        return f"has no column {field.column!r} (it has {ds.column_names})"
    feature = _feature_of(ds, field)
    if feature is None:
        return f"has no language {field.key!r} in {field.column!r} (it has {languages_of(ds.features[field.column])})"
    if field.kind == "label" or isinstance(feature, Json):
        return None
    if not (isinstance(feature, Value) and feature.dtype in TEXT_DTYPES):
        return f"holds {feature} values in {field}, not text"
    return None


def _as_text(data: DatasetDict, fields: Sequence[Field]) -> DatasetDict:
    """Cast number-typed text columns (a CSV whose texts are all digits) to strings, with a warning."""
    for field in fields:
        for split, ds in data.items():
            feature = ds.features.get(field.column)
            if field.kind == "text" and field.key is None and isinstance(feature, Value) \
                    and feature.dtype not in TEXT_DTYPES and (pa.types.is_integer(feature.pa_type)
                                                              or pa.types.is_floating(feature.pa_type)):
                logger.warning("The %s split's column %r holds %s numbers; they are read as text", split,
                               field.column, feature.dtype)
                data[split] = ds.cast_column(field.column, Value("string"))
    return data


def _listing(split: str, field: Field, rows: list[int], ds: Dataset) -> str:
    shown = ", ".join(map(str, rows[:SHOWN_ROWS])) + (f" and {len(rows) - SHOWN_ROWS} more" if
                                                      len(rows) > SHOWN_ROWS else "")
    what = "is missing or not text" if field.kind == "text" else "is missing"
    example = {k: _short(v) for k, v in ds[rows[0]].items()}
    return f"{split} split, {field} {what} in {len(rows)} row(s): {shown} (row {rows[0]} = {example})"


def _short(value: object, width: int = 40) -> object:
    """A long text cut to ``width`` characters for a message."""
    if isinstance(value, str) and len(value) > width:
        return value[:width] + "..."
    return {k: _short(v) for k, v in value.items()} if isinstance(value, dict) else value


def row_problems(data: DatasetDict, fields: Sequence[Field], optional_splits: Sequence[str] = ()) -> list[str]:
    """One line per (split, field) that some rows fail; a split in ``optional_splits`` may lack a label
    column, or have no label in any row, without counting as a problem."""
    problems = []
    for split, ds in data.items():
        for field in fields:
            optional = field.kind == "label" and split in optional_splits
            problem = _type_problem(ds, field)
            if problem:
                if not (optional and field.column not in ds.column_names):
                    problems.append(f"{split} split {problem}")
                continue
            rows = failing_rows(ds, field)
            if rows and not (optional and len(rows) == len(ds)):
                problems.append(_listing(split, field, rows, ds))
    return problems


def check_rows(data: DatasetDict, fields: Sequence[Field], purpose: str,
               optional_splits: Sequence[str] = ()) -> DatasetDict:
    """Raise one :class:`DataError` naming every split/column with missing values and their first row numbers.

    Returns ``data`` with number-typed text columns cast to strings. ``optional_splits`` (the recipes pass
    ``["test"]``) may lack labels altogether: such a split is then not evaluated (see ``drop_unlabelled``).
    """
    data = _as_text(DatasetDict(data), fields)
    problems = row_problems(data, fields, optional_splits)
    if problems:
        field = next((f for f in fields if f"{f}" in problems[0]), fields[0])
        value = f"(r[{field.column!r}] or {{}}).get({field.key!r})" if field.key else f"r[{field.column!r}]"
        raise DataError(f"{purpose} cannot use these rows (row numbers count from 0 within each split):\n  "
                        + "\n  ".join(problems) + "\nFill in or drop those rows (e.g. dataset.filter(lambda r: "
                        f"{value} is not None)), or name the right columns (--text_column, --label_column, "
                        "--source_lang, --target_lang). CSV readers take empty cells and words such as NA, null and "
                        "None for missing values.")
    return data


def drop_unlabelled(data: DatasetDict, column: str, splits: Sequence[str] = ("test",)) -> DatasetDict:
    """Drop each of ``splits`` that has no label column or no labelled row (GLUE's test splits), with a warning."""
    for split in splits:
        if split not in data:
            continue
        ds = data[split]
        field = Field(column, kind="label")
        if column in ds.column_names and len(failing_rows(ds, field)) < len(ds):
            continue
        logger.warning("The %s split has no labels in %r; it is not evaluated", split, column)
        data = DatasetDict({k: v for k, v in data.items() if k != split})
    return data


def text_fields(*columns: str) -> list[Field]:
    return [Field(c) for c in columns]


def translation_fields(data: DatasetDict, source_lang: str, target_lang: str,
                       column: str = "translation") -> list[Field]:
    """The two sides of a translation: keys of a ``translation`` column, else two columns named by language."""
    if column in next(iter(data.values())).column_names:
        return [Field(column, source_lang), Field(column, target_lang)]
    return [Field(source_lang), Field(target_lang)]


def check_translation_columns(data: DatasetDict, data_args) -> None:
    """The source/target languages (``data_args.source_lang``/``target_lang``) must exist in the train split: as
    keys of a ``translation`` column or as two columns; the error lists the languages that exist."""
    train = data["train"]
    wanted = [data_args.source_lang, data_args.target_lang]
    if "translation" in train.column_names:
        feature = train.features["translation"]  # a struct or datasets.Translation; mixed JSON rows: their keys
        langs = languages_of(feature) if not isinstance(feature, Json) else sorted(
            {k for row in train.select(range(min(len(train), 1000)))["translation"] if isinstance(row, dict)
             for k in row})
        missing = [lang for lang in wanted if lang not in langs]
        if missing:
            raise DataError(f"The 'translation' column has languages {langs}, not {missing}; pass "
                            "--source_lang/--target_lang from those")
    else:
        missing = [c for c in wanted if c not in train.column_names]
        if missing:
            raise DataError(f"Translation needs a 'translation' column or one column per language; {missing} "
                            f"missing from {train.column_names}: pass --source_lang/--target_lang naming the "
                            "two text columns")
