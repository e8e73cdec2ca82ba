import numpy as np
import pytest
import sacrebleu
from sklearn.metrics import accuracy_score, f1_score

from nlpseq import metrics
from nlpseq.errors import DataError

PRED = [0, 1, 2, 2, 1, 0, 0, 2]
REF = [0, 1, 1, 2, 1, 2, 0, 2]


def test_classification_metrics_match_sklearn():
    assert metrics.load("accuracy").compute(predictions=PRED, references=REF)["accuracy"] == accuracy_score(REF, PRED)
    f1 = metrics.load("f1").compute(predictions=PRED, references=REF)["f1"]
    assert f1 == pytest.approx(f1_score(REF, PRED, average="macro"))


def test_translation_metrics_match_sacrebleu():
    hyp = ["the cat sat on the mat", "a dog runs in the park"]
    ref = ["the cat sat on the mat", "the dog runs through the park"]
    bleu = metrics.load("bleu").compute(predictions=hyp, references=ref)
    assert bleu["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyp, [ref]).score)
    assert 0 < bleu["bleu"] < 100
    chrf = metrics.load("chrf").compute(predictions=hyp, references=ref)["chrf"]
    assert chrf == pytest.approx(sacrebleu.corpus_chrf(hyp, [ref]).score)


class _WordTokenizer:
    """The two members decode_texts uses: ids are word indices, 0 the padding (skipped as a special token)."""

    pad_token_id = 0
    words = ["<pad>", "the", "cat", "sat"]

    def batch_decode(self, ids, skip_special_tokens: bool) -> list[str]:
        return [" ".join(self.words[i] for i in row if i != self.pad_token_id) + " " for row in ids]


def test_translation_metrics_decode_generations_and_labels():
    generated = np.array([[1, 2, 3], [1, 2, 0]])
    labels = np.array([[1, 2, 3], [1, 3, -100]])  # -100: a padded label position
    assert metrics.decode_texts(_WordTokenizer(), (labels,)) == ["the cat sat", "the sat"]
    scores = metrics.translation_metrics(_WordTokenizer())((generated, labels))
    assert scores["exact_match"] == 0.5
    assert {"bleu", "chrf"} <= set(scores)


def test_unknown_metric():
    with pytest.raises(ValueError, match="nlpseq ships"):
        metrics.load("rouge")


def test_accuracy_and_f1_match_sklearn_on_50k_labels():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 12, 50_000)
    pred = np.where(rng.random(50_000) < 0.7, ref, rng.integers(0, 13, 50_000))  # class 12 only ever predicted
    assert metrics.load("accuracy").compute(predictions=pred, references=ref)["accuracy"] == accuracy_score(ref, pred)
    f1 = metrics.load("f1")
    assert f1.compute(predictions=pred, references=ref)["f1"] == pytest.approx(f1_score(ref, pred, average="macro"))
    micro = f1.compute(predictions=pred, references=ref, average="micro")["f1"]
    assert micro == pytest.approx(accuracy_score(ref, pred))


def test_bleu_and_chrf_take_several_references_per_prediction():
    hyp = ["the cat sat on the mat", "a dog runs in the park"]
    refs = [["the cat sat on the mat", "a cat sat on a mat"], ["the dog runs through the park", "a dog runs in a park"]]
    streams = [[r[0] for r in refs], [r[1] for r in refs]]
    bleu = metrics.load("bleu").compute(predictions=hyp, references=refs)["bleu"]
    assert bleu == pytest.approx(sacrebleu.corpus_bleu(hyp, streams).score)
    assert bleu > metrics.load("bleu").compute(predictions=hyp, references=[r[0] for r in refs])["bleu"]
    chrf = metrics.load("chrf").compute(predictions=hyp, references=refs)["chrf"]
    assert chrf == pytest.approx(sacrebleu.corpus_chrf(hyp, streams).score)
    with pytest.raises(DataError, match="same number"):
        metrics.load("bleu").compute(predictions=hyp, references=[["a"], ["b", "c"]])


SEQEVAL_TRUE = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
SEQEVAL_PRED = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]


def test_seqeval_module_gives_seqevals_numbers():
    """The example of seqeval's README: MISC is found one word too early, PER exactly."""
    scores = metrics.load("seqeval").compute(predictions=SEQEVAL_PRED, references=SEQEVAL_TRUE)
    assert scores["MISC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "number": 1}
    assert scores["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "number": 1}
    assert (scores["overall_precision"], scores["overall_recall"], scores["overall_f1"]) == (0.5, 0.5, 0.5)
    assert scores["overall_accuracy"] == 0.8


@pytest.mark.parametrize("tags, entities", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),  # IOB2
    (["I-PER", "I-PER", "B-PER", "O", "I-LOC"], [("PER", 0, 1), ("PER", 2, 2), ("LOC", 4, 4)]),  # IOB1
    (["S-PER", "B-LOC", "I-LOC", "E-LOC", "O", "S-ORG"], [("PER", 0, 0), ("LOC", 1, 3), ("ORG", 5, 5)]),  # IOBES
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 2)]),  # a type change ends a chunk
])
def test_entities_in_each_tagging_scheme(tags, entities):
    from nlpseq.metrics.seqeval.seqeval import get_entities

    assert get_entities(tags) == entities
