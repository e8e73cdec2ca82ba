import json

import pandas as pd
import pytest
import torch
from datasets import Dataset, DatasetDict, Features, Translation
from transformers import DataCollatorForLanguageModeling, DataCollatorForSeq2Seq, DataCollatorWithPadding

from nlpseq import (
    group_texts,
    load_corpus,
    prepare_classification,
    prepare_translation,
    tokenize_dataset,
    train_tokenizer,
)

ROWS = [{"text": f"document number {i} says {'spam' if i % 2 else 'ham'}", "label": ["ham", "spam"][i % 2]}
        for i in range(40)]


def _write(path, fmt):
    df = pd.DataFrame(ROWS)
    if fmt == "txt":
        path.write_text("\n".join(df["text"]) + "\n\n")  # trailing blank lines must not become rows
    elif fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, index=False, sep="\t")
    elif fmt == "json":
        path.write_text(json.dumps(ROWS))
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in ROWS))
    elif fmt == "parquet":
        df.to_parquet(path)


@pytest.mark.parametrize("fmt", ["txt", "csv", "tsv", "json", "jsonl", "parquet"])
def test_load_single_file_splits_by_seeded_fraction(tmp_path, fmt):
    path = tmp_path / f"data.{fmt}"
    _write(path, fmt)
    data = load_corpus(path, validation_fraction=0.25, seed=3)
    assert len(data["train"]) == 30 and len(data["validation"]) == 10
    texts = set(data["train"]["text"]) | set(data["validation"]["text"])
    assert texts == {r["text"] for r in ROWS}
    assert not set(data["train"]["text"]) & set(data["validation"]["text"])
    if fmt != "txt":
        assert set(data["train"].column_names) == {"text", "label"}
    again = load_corpus(path, validation_fraction=0.25, seed=3)
    assert list(again["validation"]["text"]) == list(data["validation"]["text"])


def test_load_directory_and_mapping(tmp_path):
    for split in ("train", "dev", "test"):
        _write(tmp_path / f"{split}.tsv", "tsv")
    data = load_corpus(tmp_path)
    assert set(data) == {"train", "validation", "test"} and len(data["validation"]) == 40
    mapped = load_corpus({"train": tmp_path / "train.tsv", "validation": tmp_path / "test.tsv"})
    assert set(mapped) == {"train", "validation"}


def test_builtin_passes_options():
    data = load_corpus("long-range", k=5, num_examples=100, seq_len=8)
    assert set(data["train"]["k"]) == {5}


#: a bad data file -> the error that names it: (file name, content or None for a missing file, error, message)
BAD_FILES = [
    ("missing.csv", None, FileNotFoundError, "Data file not found"),
    ("sheet.xlsx", "x", ValueError, "Unsupported file extension"),
    ("empty.txt", "\n\n", ValueError, "empty or missing train split"),
    ("empty.csv", "", ValueError, "empty.csv .*is empty"),
    ("header.csv", "text,label\n", ValueError, "hold no rows"),
    ("latin.txt", "café\nthé\nbière\n".encode("latin-1"), ValueError, "UnicodeDecodeError.*encoding="),
    ("nested.json", json.dumps({"data": ROWS}), ValueError, "field='data'"),
    ("one.txt", "a single line\n", ValueError, "Cannot hold out validation_fraction=0.1 of the 1 training row"),
]


@pytest.mark.parametrize("name, content, error, message", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_files_are_named(tmp_path, name, content, error, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(error, match=message):
        load_corpus(path)


def test_bad_inputs(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="neither a built-in corpus"):
        load_corpus("some-user/some-dataset")
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(FileNotFoundError, match="no train"):
        load_corpus(tmp_path / "emptydir")


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer([r["text"] for r in ROWS] * 3, kind="wordpiece", vocab_size=60, preset="mlm",
                           min_frequency=1)


def test_missing_columns_list_what_exists(tmp_path, tok):
    _write(tmp_path / "d.csv", "csv")
    data = load_corpus(tmp_path / "d.csv")
    with pytest.raises(ValueError, match=r"needs column\(s\) \['sentence'\].*'text', 'label'"):
        tokenize_dataset(data, tok, text_column="sentence")
    with pytest.raises(ValueError, match=r"\['category'\]"):
        prepare_classification(data, tok, label_column="category")


def test_classification_and_collator(tmp_path, tok):
    _write(tmp_path / "d.csv", "csv")
    data = prepare_classification(load_corpus(tmp_path / "d.csv"), tok)
    assert data["train"].features["labels"].names == ["ham", "spam"]
    batch = DataCollatorWithPadding(tok)([data["train"][i] for i in range(4)])
    assert batch["input_ids"].shape[0] == 4 and batch["labels"].dtype == torch.long
    for row in data["train"]:
        words = tok.decode(row["input_ids"], skip_special_tokens=True)
        assert words.endswith(["ham", "spam"][row["labels"]])


def test_group_texts_for_lm(tmp_path, tok):
    _write(tmp_path / "d.txt", "txt")
    tokenized = tokenize_dataset(load_corpus(tmp_path / "d.txt"), tok)
    total = sum(len(x) for x in tokenized["train"]["input_ids"])
    blocks = group_texts(tokenized, block_size=16)
    assert all(len(x) == 16 for x in blocks["train"]["input_ids"])
    assert len(blocks["train"]) == total // 16
    flat = [t for x in tokenized["train"]["input_ids"] for t in x]
    assert blocks["train"][1]["input_ids"] == flat[16:32]
    batch = DataCollatorForLanguageModeling(tok, mlm=True, seed=0)([blocks["train"][i] for i in range(4)])
    assert batch["labels"].shape == (4, 16)
    with pytest.raises(ValueError, match="lower block_size"):
        group_texts(tokenized, block_size=10_000)


def test_texts_for_packing_raise_no_too_long_warning_but_truncated_ones_would(tok, monkeypatch):
    text = " ".join(["the cat sat"] * 400)
    long_text = DatasetDict({"train": Dataset.from_dict({"text": [text]})})
    key = "sequence-length-is-longer-than-the-specified-maximum"
    monkeypatch.setattr(tok, "model_max_length", 64)  # the fixture is shared by the module: restored after
    monkeypatch.setattr(tok, "deprecation_warnings", {})
    assert len(tokenize_dataset(long_text, tok)["train"][0]["input_ids"]) > 64  # packed later by group_texts
    assert key not in tok.deprecation_warnings
    tok(text)  # the warning that tokenize_dataset keeps out of the packing path
    assert tok.deprecation_warnings.pop(key)


def test_translation_from_builtin_corpus():
    data = load_corpus("number-translation", num_examples=300)
    tok = train_tokenizer([t[lang] for t in data["train"]["translation"] for lang in ("en", "de")],
                          kind="char", vocab_size=None, preset="seq2seq", min_frequency=1)
    prepared = prepare_translation(data, tok, source_lang="en", target_lang="de")
    row, raw = prepared["train"][0], data["train"][0]["translation"]
    assert tok.decode(row["labels"], skip_special_tokens=True) == raw["de"]
    assert row["labels"][-1] == tok.eos_token_id
    batch = DataCollatorForSeq2Seq(tok)([prepared["train"][i] for i in range(3)])
    assert (batch["labels"] == -100).any() or len({len(prepared["train"][i]["labels"]) for i in range(3)}) == 1
    with pytest.raises(ValueError, match="languages"):
        prepare_translation(data, tok, source_lang="en", target_lang="fr")


def test_translation_from_a_hub_translation_feature():
    """WMT-style Hub datasets type the column as ``datasets.Translation``, which is no dict of languages."""
    features = Features({"translation": Translation(languages=["de", "en"])})
    rows = [{"en": "one two", "de": "eins zwei"}, {"en": "three", "de": "drei"}]
    data = DatasetDict(train=Dataset.from_dict({"translation": rows}, features=features))
    tok = train_tokenizer([r[lang] for r in rows for lang in ("en", "de")], kind="char", vocab_size=None,
                          preset="seq2seq", min_frequency=1)
    prepared = prepare_translation(data, tok, source_lang="de", target_lang="en")
    assert prepared["train"].column_names == ["input_ids", "attention_mask", "labels"]
    decoded = [(tok.decode(r["input_ids"], skip_special_tokens=True), tok.decode(r["labels"], skip_special_tokens=True))
               for r in prepared["train"]]
    assert decoded == [("eins zwei", "one two"), ("drei", "three")]
    with pytest.raises(ValueError, match=r"has languages \['de', 'en'\], not 'de' -> 'fr'"):
        prepare_translation(data, tok, source_lang="de", target_lang="fr")


def test_more_file_shapes_load(tmp_path):
    import gzip

    with gzip.open(tmp_path / "train.jsonl.gz", "wt", encoding="utf-8") as f:  # compressed, found in a directory
        f.write("\n".join(json.dumps(r) for r in ROWS))
    data = load_corpus(tmp_path)
    assert len(data["train"]) + len(data["validation"]) == 40 and set(data["train"].column_names) == {"text", "label"}
    bom = tmp_path / "bom.txt"  # a Windows editor's UTF-8 byte-order mark is not part of the first line
    bom.write_text("Über café\nnaïve 北京 😀\nthird\n", encoding="utf-8-sig")
    rows = load_corpus(bom, validation_fraction=0.34)
    assert sorted([*rows["train"]["text"], *rows["validation"]["text"]]) == ["naïve 北京 😀", "third", "Über café"]
    nested = tmp_path / "nested.json"  # rows under one key: load_dataset's field= goes through
    nested.write_text(json.dumps({"version": 2, "data": ROWS}))
    assert len(load_corpus(nested, field="data")["train"]) == 36
    halves = [tmp_path / "a.csv", tmp_path / "b.csv"]  # several files for one split
    pd.DataFrame(ROWS[:20]).to_csv(halves[0], index=False)
    pd.DataFrame(ROWS[20:]).to_csv(halves[1], index=False)
    both = load_corpus({"train": halves, "validation": halves[1]})
    assert len(both["train"]) == 40 and len(both["validation"]) == 20


def test_encoding_fix_and_bad_names(tmp_path):
    (tmp_path / "latin.txt").write_bytes("café\nthé\nbière\n".encode("latin-1"))
    latin = load_corpus(tmp_path / "latin.txt", encoding="latin-1", validation_fraction=0.34)
    assert sorted([*latin["train"]["text"], *latin["validation"]["text"]]) == ["bière", "café", "thé"]
    with pytest.raises(TypeError, match="got int"):
        load_corpus(3)
    with pytest.raises(ValueError, match="did you mean 'stdlib-docs'"):
        load_corpus("stdlib_docs")  # conftest sets HF_HUB_OFFLINE=1
