"""One label vocabulary per run (nlpseq.labels) and the row checks before tokenizer training (nlpseq.rows)."""

import json
import logging

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Json, Value
from transformers import PretrainedConfig

from nlpseq import load_corpus, prepare_classification, prepare_translation, tokenize_dataset, train_tokenizer
from nlpseq.errors import DataError
from nlpseq.labels import LabelVocabulary, fit_labels, labels_of_checkpoint


def _splits(train_labels, validation_labels, **more):
    def split(labels):
        return Dataset.from_dict({"text": [f"row {i}" for i in range(len(labels))], "label": labels})

    return DatasetDict(train=split(train_labels), validation=split(validation_labels),
                       **{k: split(v) for k, v in more.items()})


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(["row 0123456789 eins zwei one two"], kind="char", vocab_size=None, preset="mlm",
                           min_frequency=1)


def test_one_vocabulary_for_every_split(tok):
    """Probe 1: 'banana' was 1 in train and 0 in validation when each split assigned its own ids."""
    data = prepare_classification(_splits(["apple", "banana", "cherry"] * 4, ["banana", "cherry"] * 3), tok)
    assert data["train"].features["labels"].names == ["apple", "banana", "cherry"]
    assert data["validation"].features["labels"].names == ["apple", "banana", "cherry"]
    assert data["validation"]["labels"] == [1, 2] * 3


def test_a_label_unseen_in_training_is_refused_with_its_split(tok):
    with pytest.raises(DataError, match=r"Labels \['durian'\] of the validation split never occur in the train "
                                        r"split \(\['apple', 'banana', 'cherry'\]\)"):
        prepare_classification(_splits(["apple", "banana", "cherry"] * 4, ["banana", "durian"]), tok)
    with pytest.raises(DataError, match="of the test split never occur"):
        prepare_classification(_splits(["a", "b"] * 4, ["a", "b"], test=["c", "a"]), tok)


def test_numbers_with_a_fraction_are_regression_and_whole_numbers_are_classes(tok):
    """Probe 2: labels 0.5 / 1.7 / 2.2 became three string classes."""
    data = prepare_classification(_splits([0.5, 1.7, 2.2] * 4, [2.2, 0.5]), tok)
    assert data["train"].features["labels"] == Value("float32")
    assert data["validation"]["labels"] == pytest.approx([2.2, 0.5])
    vocabulary = fit_labels(_splits([0.5, 1.7, 2.2] * 4, [1.0]), "label")
    assert vocabulary.config_fields() == {"num_labels": 1, "problem_type": "regression"}
    whole = fit_labels(_splits([10, 2, 1] * 4, [2.0, 10.0]), "label")  # numeric order, not "1" < "10" < "2"
    assert whole.names == ("1", "2", "10") and whole.config_fields()["label2id"] == {"1": 0, "2": 1, "10": 2}
    with pytest.raises(DataError, match="mixes numbers and text labels"):
        mixed = Dataset.from_dict({"label": [1.5, "x"]}, features=Features({"label": Json()}))  # a JSONL file's
        fit_labels(DatasetDict(train=mixed, validation=mixed), "label")


def test_missing_texts_and_labels_are_one_error_with_row_numbers(tok):
    data = _splits(["a", None, "b", "a", None, "b", "a"], ["a", "b"])
    data["validation"] = Dataset.from_dict({"text": ["x", None], "label": ["a", "b"]})
    with pytest.raises(DataError) as caught:
        prepare_classification(data, tok)
    message = str(caught.value)
    assert "train split, column 'label' is missing in 2 row(s): 1, 4 (row 1 = {'text': 'row 1', 'label': None})" \
        in message
    assert "validation split, column 'text' is missing or not text in 1 row(s): 1" in message
    with pytest.raises(DataError, match=r"column 'text' is missing or not text in 7 row\(s\): 0, 1, 2, 3, 4 and 2 "):
        tokenize_dataset(DatasetDict(train=Dataset.from_dict({"text": [None] * 7})), tok)


def test_a_test_split_without_labels_is_dropped_with_a_warning(tok, caplog):
    data = _splits(["a", "b"] * 3, ["a", "b"], test=[None, None])  # GLUE's test splits: no labels at all
    with caplog.at_level(logging.WARNING, logger="nlpseq.rows"):
        prepared = prepare_classification(data, tok)
    assert set(prepared) == {"train", "validation"} and "no labels in 'label'" in caplog.text
    glue = _splits([0, 1] * 3, [0, 1], test=[-1, -1])
    glue = glue.cast_column("label", ClassLabel(names=["neg", "pos"]))
    assert set(prepare_classification(glue, tok)) == {"train", "validation"}
    with pytest.raises(DataError, match=r"test split, column 'label' is missing in 1 row\(s\): 0"):
        prepare_classification(_splits(["a", "b"] * 3, ["a", "b"], test=[None, "a"]), tok)


def test_a_checkpoints_label2id_is_reused():
    config = PretrainedConfig(id2label={0: "negative", 1: "positive"})
    labels = fit_labels(_splits(["positive", "negative"] * 3, ["positive"]), "label", checkpoint=config)
    assert labels.names == ("negative", "positive")
    data = prepare_classification(_splits(["positive"] * 4, ["positive"]), train_tokenizer(
        ["row 0123456789"], kind="char", vocab_size=None, preset="mlm", min_frequency=1), labels=labels)
    assert data["train"]["labels"] == [1] * 4  # the checkpoint's id, though this data holds one label only
    with pytest.raises(DataError, match=r"Labels \['neutral'\] of the train split are not among the labels of the "
                                        r"model config \(\['negative', 'positive'\]\)"):
        fit_labels(_splits(["neutral", "positive"] * 2, ["positive"]), "label", checkpoint=config)
    assert labels_of_checkpoint(PretrainedConfig(), "label") is None  # LABEL_0, LABEL_1: a head nobody named
    regression = labels_of_checkpoint(PretrainedConfig(problem_type="regression"), "label")
    assert regression == LabelVocabulary("label", (), "the model config") and regression.is_regression


def test_translation_rows_missing_a_language_are_listed(tmp_path, tok):
    rows = [{"translation": {"en": f"one {i}", **({"de": f"eins {i}"} if i % 7 else {})}} for i in range(30)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    data = load_corpus({"train": path, "validation": path})
    with pytest.raises(DataError, match=r"train split, translation\['de'\] is missing or not text in 5 row\(s\): "
                                        r"0, 7, 14, 21, 28"):
        prepare_translation(data, tok, "en", "de")


def test_number_typed_texts_are_read_as_text(tok, caplog):
    data = DatasetDict(train=Dataset.from_dict({"text": [1, 22, 333], "label": ["a", "b", "a"]},
                                               features=Features({"text": Value("int64"), "label": Value("string")})))
    data["validation"] = data["train"]
    with caplog.at_level(logging.WARNING, logger="nlpseq.rows"):
        prepared = prepare_classification(data, tok)
    assert [tok.decode(ids, skip_special_tokens=True) for ids in prepared["train"]["input_ids"]] == ["1", "22", "333"]
    assert "holds int64 numbers; they are read as text" in caplog.text
