import pytest
import sacrebleu
from sklearn.metrics import accuracy_score, f1_score

from nlpseq import metrics

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


def test_unknown_metric():
    with pytest.raises(ValueError, match="nlpseq ships"):
        metrics.load("rouge")
