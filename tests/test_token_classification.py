"""Token classification: the generated entity-tagging corpus, sub-word label alignment, the recipe, the pipeline."""

import json
import sys

import pytest
from datasets import Dataset, DatasetDict
from test_recipes import ROOT, _run
from transformers import AutoModelForTokenClassification, pipeline

from nlpseq import load_corpus, metrics, train_tokenizer
from nlpseq.errors import DataError
from nlpseq.metrics.seqeval.seqeval import get_entities
from nlpseq.token_classification import align_labels, prepare_token_classification, tag_names

sys.path.insert(0, str(ROOT / "recipes"))

import finetune_token_classification  # noqa: E402


def test_entity_tagging_is_deterministic_and_the_schemes_mark_the_same_entities():
    iob2 = load_corpus("entity-tagging", seed=3)
    assert iob2["train"][:5] == load_corpus("entity-tagging", seed=3)["train"][:5]
    assert {len(iob2[s]) for s in ("validation", "test")} == {200} and len(iob2["train"]) == 1600
    names = iob2["train"].features["ner_tags"].feature.names
    for scheme in ("IOB1", "IOBES"):
        other = load_corpus("entity-tagging", seed=3, scheme=scheme)["train"]
        other_names = other.features["ner_tags"].feature.names
        for a, b in zip(iob2["train"].select(range(200)), other.select(range(200))):
            assert a["tokens"] == b["tokens"] and len(a["tokens"]) == len(a["ner_tags"])
            spans = get_entities([names[t] for t in a["ner_tags"]])
            assert spans == get_entities([other_names[t] for t in b["ner_tags"]])
    rows = [(r["tokens"], [names[t] for t in r["ner_tags"]]) for r in iob2["train"].select(range(300))]
    assert any(tags.count("I-LOC") for _, tags in rows) and any("B-ORG" in tags for _, tags in rows)


def test_only_the_first_sub_word_of_a_word_carries_its_tag():
    assert align_labels([None, 0, 0, 1, 2, 2, 2, None], [3, 0, 5]) == [-100, 3, -100, 0, 5, -100, -100, -100]
    tok = train_tokenizer(["Ada visited Paris", "Grace visited Oslo"] * 20, kind="wordpiece", vocab_size=48,
                          preset="mlm", min_frequency=1)
    data = DatasetDict(train=Dataset.from_dict({"tokens": [["Ada", "Parisada", "visited", "Paris"]],
                                                "ner_tags": [["B-PER", "I-PER", "O", "B-LOC"]]}))
    names = tag_names(data, "ner_tags")
    row = prepare_token_classification(data, tok, names)["train"][0]
    words = tok(["Ada", "Parisada", "visited", "Paris"], is_split_into_words=True).word_ids()
    assert len(words) > 6  # "Parisada" (never seen whole) is split into several pieces
    first = [i for i, w in enumerate(words) if w is not None and (i == 0 or words[i - 1] != w)]
    assert [row["labels"][i] for i in first] == [names.index(t) for t in ["B-PER", "I-PER", "O", "B-LOC"]]
    assert all(label == -100 for i, label in enumerate(row["labels"]) if i not in first)


def test_a_tag_the_training_split_lacks_is_refused():
    data = DatasetDict(train=Dataset.from_dict({"tokens": [["a"]], "ner_tags": [["B-PER"]]}),
                       validation=Dataset.from_dict({"tokens": [["b"]], "ner_tags": [["B-LOC"]]}))
    with pytest.raises(DataError, match=r"Tags \['B-LOC'\] of the validation split"):
        tag_names(data, "ner_tags")


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    out = tmp_path_factory.mktemp("ner")
    results = _run(finetune_token_classification, out, "--model_family", "encoder", "--dataset_name",
                   "entity-tagging", "--max_train_samples", "1600", "--max_steps", "150",
                   "--tokenizer_kind", "wordpiece", "--vocab_size", "300", "--learning_rate", "3e-3")
    return out, results


def test_the_recipe_learns_entities_and_writes_one_tag_per_word(tagger):
    out, results = tagger
    assert {"eval_precision", "eval_recall", "eval_f1", "eval_accuracy", "predict_f1"} <= set(results)
    assert results["eval_f1"] > 0.8, results
    test = load_corpus("entity-tagging")["test"].select(range(results["predict_samples"]))
    lines = (out / "predictions.txt").read_text().splitlines()
    assert [len(line.split()) for line in lines] == [len(words) for words in test["tokens"]]
    names = test.features["ner_tags"].feature.names
    scores = metrics.load("seqeval").compute(predictions=[line.split() for line in lines],
                                             references=[[names[t] for t in row] for row in test["ner_tags"]])
    assert scores["overall_f1"] == pytest.approx(results["predict_f1"])
    assert json.loads((out / "config.json").read_text())["id2label"]["0"] == "O"


def test_the_pipeline_groups_tokens_into_entities(tagger):
    out, _ = tagger
    simple = pipeline("token-classification", model=str(out), aggregation_strategy="simple")
    found = simple(["Yesterday Ada Lovelace visited New York .", "Mozilla opened an office in Paris ."], batch_size=2)
    assert [[(e["entity_group"], e["word"]) for e in row] for row in found] == \
        [[("PER", "Ada Lovelace"), ("LOC", "New York")], [("ORG", "Mozilla"), ("LOC", "Paris")]]
    # "simple" groups tokens by their own tags; a word the tokenizer splits ("Hopper" -> "H", "##op" ...) is
    # tagged by its first sub-word, as the model was trained: aggregation_strategy="first" reads it that way
    first = pipeline("token-classification", model=str(out), aggregation_strategy="first")
    sentence = "Yesterday Grace Hopper visited Buenos Aires ."
    assert len(simple.tokenizer.tokenize(sentence)) > len(sentence.split())  # some words are split
    assert [(e["entity_group"], e["word"]) for e in first(sentence)] == [("PER", "Grace Hopper"),
                                                                        ("LOC", "Buenos Aires")]
    assert AutoModelForTokenClassification.from_pretrained(out).config.model_type == "nlpseq-encoder"


def test_a_recurrent_tagger_trains_through_the_recipe(tmp_path):
    results = _run(finetune_token_classification, tmp_path, "--model_family", "recurrent", "--dataset_name",
                   "entity-tagging", "--max_steps", "4", "--tokenizer_kind", "wordpiece", "--vocab_size", "300",
                   "--config_overrides", "cell=gru")
    assert {"eval_f1", "predict_f1", "train_samples"} <= set(results)
    config = AutoModelForTokenClassification.from_pretrained(tmp_path).config
    assert config.bidirectional and config.cell == "gru"  # the task's preset, the cell asked for
