import pytest

from nlpseq.corpora import (
    STDLIB_FAMILIES,
    english_number,
    german_number,
    long_range,
    make_corpus,
    number_translation,
    stdlib_docs,
)


def _keys(split, corpus):
    if corpus == "number-translation":
        return list(split["number"])
    return list(split["text"])


@pytest.mark.parametrize("name", ["stdlib-docs", "number-translation", "long-range"])
def test_deterministic_and_disjoint(name):
    kwargs = {"num_examples": 2000} if name != "stdlib-docs" else {}
    a, b, c = make_corpus(name, seed=0, **kwargs), make_corpus(name, seed=0, **kwargs), make_corpus(name, seed=1,
                                                                                                   **kwargs)
    assert set(a) == {"train", "validation", "test"}
    for split in a:
        assert a[split].to_dict() == b[split].to_dict()
        assert len(a[split]) > 0
    assert _keys(a["train"], name) != _keys(c["train"], name)  # the seed matters
    seen = [set(_keys(a[s], name)) for s in a]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])


def test_stdlib_docs_labels_are_families():
    data = stdlib_docs()
    names = data["train"].features["label"].names
    assert names == sorted(STDLIB_FAMILIES)
    assert set(data["train"]["label"]) == set(range(len(names)))
    row = next(r for r in data["train"] if r["module"] == "json.decoder")
    assert names[row["label"]] == "data"
    assert len(data["train"]) > 2000


@pytest.mark.parametrize(
    "n, en, de",
    [
        (0, "zero", "null"),
        (1, "one", "eins"),
        (16, "sixteen", "sechzehn"),
        (21, "twenty-one", "einundzwanzig"),
        (42, "forty-two", "zweiundvierzig"),
        (101, "one hundred one", "einhunderteins"),
        (730, "seven hundred thirty", "siebenhundertdreißig"),
        (1001, "one thousand one", "eintausendeins"),
        (31_000, "thirty-one thousand", "einunddreißigtausend"),
        (700_071, "seven hundred thousand seventy-one", "siebenhunderttausendeinundsiebzig"),
    ],
)
def test_number_words(n, en, de):
    assert english_number(n) == en
    assert german_number(n) == de


def test_number_translation_layout_and_range():
    data = number_translation(num_examples=600)
    row = data["train"][0]
    assert row["translation"] == {"en": english_number(row["number"]), "de": german_number(row["number"])}
    lengths = {len(str(n)) for n in data["train"]["number"]}
    assert lengths == {1, 2, 3, 4, 5, 6}  # strata cover every digit length
    with pytest.raises(ValueError, match="covers 0..999999"):
        german_number(10**6)


def test_long_range_answer_sits_k_steps_back():
    data = long_range(k=[3, 7], num_examples=200, seq_len=10)
    for row in data["train"]:
        tokens = row["text"].split()
        assert len(tokens) == 10
        assert tokens[len(tokens) - 1 - row["k"]] == f"s{row['label']}"
        assert sum(t.startswith("s") for t in tokens) == 1
    assert set(data["train"]["k"]) == {3, 7}


def test_unknown_corpus():
    with pytest.raises(ValueError, match="Unknown built-in corpus"):
        make_corpus("nope")
