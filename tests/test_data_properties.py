"""Property test: random small CSV / JSONL files through load_corpus and the classification and translation
preparation either succeed consistently or raise an NlpseqError, never another exception.

The files have missing cells, numbers and lists where text is expected, empty strings, unicode, labels of
mixed kinds, and validation files whose columns differ from the training file's.
"""

import csv
import json
import math
import os
import tempfile
from pathlib import Path

import datasets
import pytest
from datasets import ClassLabel
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nlpseq import load_corpus, prepare_classification, prepare_translation, train_tokenizer
from nlpseq.errors import NlpseqError

datasets.disable_progress_bars()
#: NLPSEQ_HYPOTHESIS_EXAMPLES=500 (and NLPSEQ_HYPOTHESIS_RANDOM=1 for new draws) searches further than the suite does
SETTINGS = settings(max_examples=int(os.environ.get("NLPSEQ_HYPOTHESIS_EXAMPLES", 30)), deadline=None,
                    derandomize=not os.environ.get("NLPSEQ_HYPOTHESIS_RANDOM"),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORDS = ["apple", "banana", "cherry", "", " ", "é", "北京", "😀", "0", "1", "2.5", "-1", "true", "null", "a,b", 'q"t']
TEXT = st.one_of(st.sampled_from(WORDS), st.text(max_size=6))
#: text every reader keeps as text (a CSV reader takes "", "NA", "null" ... for missing cells)
CLEAN_TEXT = st.one_of(st.sampled_from(["apple pie", "é", "北京", "😀 ok", "0", "2.5", "a,b", 'q"t']),
                       st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=6).map("{}.".format))
#: a JSON cell: missing (None), a bool, an int, a fraction, text, or a list
JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from([0.5, 1.7, 2.0, -0.25]), TEXT,
                       st.lists(st.integers(0, 2), max_size=2))
#: a CSV cell: empty (missing) or any text, numbers included
CSV_VALUE = st.one_of(st.just(""), TEXT, st.integers(-2, 3).map(str), st.sampled_from(["0.5", "1.7", "2.0"]))


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(["abcdefghijklmnopqrstuvwxyz 0123456789"], kind="char", vocab_size=None, preset="seq2seq",
                           min_frequency=1)


#: clean labels of one kind per file: words, whole numbers, fractions (regression)
LABELS = [st.sampled_from(["apple", "banana", "cherry", "北京"]), st.integers(0, 3), st.sampled_from([0.5, 1.7, 2.2])]


def _rows(value, columns, min_size=1):
    """Lists of row dicts over (a random subset of) ``columns``; a key left out is a missing cell."""
    row = st.fixed_dictionaries({}, optional={c: value for c in columns})
    return st.lists(row, min_size=min_size, max_size=10)


@st.composite
def _classification_rows(draw, value, columns, as_csv: bool):
    """Half the files are clean (every text a string, every label of one kind), half are anything."""
    if draw(st.booleans()):
        return draw(_rows(value, columns))
    label = draw(st.sampled_from(LABELS))
    label = label.map(str) if as_csv else label
    row = st.fixed_dictionaries({c: CLEAN_TEXT if c == "text" else label if c == "label" else value
                                 for c in columns})
    return draw(st.lists(row, min_size=2, max_size=10))


def _write(folder: Path, name: str, fmt: str, rows: list[dict], columns: list[str]) -> Path:
    path = folder / f"{name}.{fmt}"
    if fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    else:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return path


def _load(folder: Path, files: dict[str, Path]):
    return load_corpus(files, cache_dir=str(folder / "cache"))


def _check_classification(prepared, loaded) -> None:
    """One vocabulary for every split, every label inside it, no training row lost."""
    features = {split: ds.features["labels"] for split, ds in prepared.items()}
    assert len({repr(f) for f in features.values()}) == 1
    feature = features["train"]
    for ds in prepared.values():
        assert len(ds["input_ids"]) == len(ds)
        if isinstance(feature, ClassLabel):
            assert all(0 <= label < feature.num_classes for label in ds["labels"])
        else:
            assert all(math.isfinite(label) for label in ds["labels"])
    assert len(prepared["train"]) == len(loaded["train"])


@SETTINGS
@given(fmt=st.sampled_from(["csv", "jsonl"]), data=st.data())
def test_random_classification_files(tok, fmt, data):
    value = CSV_VALUE if fmt == "csv" else JSON_VALUE
    train = data.draw(_classification_rows(value, ["text", "label", "extra"], fmt == "csv"), label="train")
    columns = data.draw(st.sampled_from([["text", "label"]] * 2 + [["text", "label", "other"], ["text"],
                                                                    ["label", "other"]]))
    validation = data.draw(_classification_rows(value, columns, fmt == "csv"), label="validation")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        files = {"train": _write(folder, "train", fmt, train, ["text", "label", "extra"]),
                 "validation": _write(folder, "validation", fmt, validation, ["text", "label", "other"])}
        try:
            loaded = _load(folder, files)
            prepared = prepare_classification(loaded, tok)
        except NlpseqError as err:
            event(f"refused: {type(err).__name__}: {str(err)[:40]}")
            return
        event("prepared")
        _check_classification(prepared, loaded)


@SETTINGS
@given(layout=st.sampled_from(["columns.csv", "columns.jsonl", "nested.jsonl"]), data=st.data())
def test_random_translation_files(tok, layout, data):
    fmt = layout.split(".")[1]
    value = CSV_VALUE if fmt == "csv" else JSON_VALUE
    if layout.startswith("nested"):  # {"translation": {"en": ..., "de": ...}}, a side sometimes missing or not text
        pair = st.one_of(st.fixed_dictionaries({}, optional={"en": value, "de": value}),
                         st.fixed_dictionaries({"en": CLEAN_TEXT, "de": CLEAN_TEXT}))
        rows = [data.draw(st.lists(st.fixed_dictionaries({"translation": st.one_of(pair, value)}), min_size=1,
                                   max_size=8)) for _ in range(2)]
    elif data.draw(st.booleans()):
        rows = [data.draw(_rows(value, ["en", "de"])) for _ in range(2)]
    else:  # clean: both sides text in every row
        rows = [data.draw(st.lists(st.fixed_dictionaries({"en": CLEAN_TEXT, "de": CLEAN_TEXT}), min_size=2,
                                   max_size=8)) for _ in range(2)]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        files = {split: _write(folder, split, fmt, r, ["en", "de"]) for split, r in zip(["train", "validation"], rows)}
        try:
            loaded = _load(folder, files)
            prepared = prepare_translation(loaded, tok, "en", "de")
        except NlpseqError as err:
            event(f"refused: {type(err).__name__}: {str(err)[:40]}")
            return
        event("prepared")
        for split, ds in prepared.items():
            assert len(ds) == len(loaded[split])
            assert all(ids and ids[-1] == tok.eos_token_id for ids in ds["labels"])  # every target encoded
