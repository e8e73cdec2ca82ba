"""Evaluate-format metric modules that load offline: ``nlpseq.metrics.load("accuracy")``.

``evaluate.load("accuracy")`` needs the Hub; these modules live in the package, so ``evaluate.load`` gets a
local path. Each folder holds ``<name>/<name>.py``, a standard ``evaluate.Metric``; they also work with
``evaluate.combine``. ``accuracy`` and ``f1`` are vectorised numpy; ``bleu`` and ``chrf`` (sacreBLEU) take one
reference or a list of references per prediction; ``seqeval`` scores tag sequences by entity (IOB1, IOB2, IOBES).
The ``*_metrics`` functions build the recipes' ``compute_metrics`` (classification, regression, token
classification, translation), for your own ``Trainer`` too.
"""

from __future__ import annotations

from pathlib import Path

import evaluate
import numpy as np
from transformers import PreTrainedTokenizerBase

from ..errors import ConfigurationError

METRICS_DIR = Path(__file__).parent
AVAILABLE = ("accuracy", "f1", "bleu", "chrf", "seqeval")


def load(name: str, **kwargs) -> evaluate.EvaluationModule:
    """Load one of :data:`AVAILABLE` offline through ``evaluate.load``."""
    if name not in AVAILABLE:
        raise ConfigurationError(f"Unknown metric {name!r}; nlpseq ships {AVAILABLE} (or pass a path to "
                                 "evaluate.load)")
    return evaluate.load(str(METRICS_DIR / name), **kwargs)


def classification_metrics():
    """``compute_metrics`` for a classification ``Trainer``: accuracy and macro-F1 of the argmax predictions."""
    accuracy, f1 = load("accuracy"), load("f1")

    def compute(eval_pred):
        logits, labels = eval_pred
        predictions = np.argmax(logits[0] if isinstance(logits, tuple) else logits, axis=-1)
        return {**accuracy.compute(predictions=predictions, references=labels),
                **f1.compute(predictions=predictions, references=labels, average="macro")}

    return compute


def regression_metrics():
    """``compute_metrics`` for a regression ``Trainer`` (``problem_type="regression"``): mean squared and absolute
    error, and Pearson's r of the predictions when neither side is constant."""

    def compute(eval_pred):
        predictions, labels = eval_pred
        predictions = np.asarray(predictions[0] if isinstance(predictions, tuple) else predictions, float).ravel()
        labels = np.asarray(labels, float).ravel()
        errors = predictions - labels
        out = {"mse": float(np.mean(errors**2)), "mae": float(np.mean(np.abs(errors)))}
        if predictions.std() > 0 and labels.std() > 0:
            out["pearson"] = float(np.corrcoef(predictions, labels)[0, 1])
        return out

    return compute


def token_classification_metrics(label_names: list[str]):
    """``compute_metrics`` for a token-classification ``Trainer``: entity-level precision, recall and F1 (the
    ``seqeval`` module) and token accuracy, over the positions whose label is not -100 (first sub-words)."""
    seqeval = load("seqeval")

    def compute(eval_pred):
        logits, labels = eval_pred
        predictions = np.argmax(logits[0] if isinstance(logits, tuple) else logits, axis=-1)
        kept = [row != -100 for row in labels]
        true = [[label_names[t] for t in row[keep]] for row, keep in zip(labels, kept)]
        predicted = [[label_names[p] for p in row[keep]] for row, keep in zip(predictions, kept)]
        scores = seqeval.compute(predictions=predicted, references=true)
        return {name: scores[f"overall_{name}"] for name in ("precision", "recall", "f1", "accuracy")}

    return compute


def decode_texts(tokenizer: PreTrainedTokenizerBase, ids: np.ndarray | tuple) -> list[str]:
    """Token ids (generated, or labels with -100) -> stripped texts, special tokens skipped."""
    ids = ids[0] if isinstance(ids, tuple) else ids
    ids = np.where(ids < 0, tokenizer.pad_token_id, ids)
    return [s.strip() for s in tokenizer.batch_decode(ids, skip_special_tokens=True)]


def translation_metrics(tokenizer: PreTrainedTokenizerBase):
    """``compute_metrics`` for a ``Seq2SeqTrainer`` with ``predict_with_generate``: sacreBLEU, chrF and exact match
    of the decoded generations against the decoded labels."""
    bleu, chrf = load("bleu"), load("chrf")

    def compute(eval_pred):
        hyps, refs = decode_texts(tokenizer, eval_pred[0]), decode_texts(tokenizer, eval_pred[1])
        return {**bleu.compute(predictions=hyps, references=refs), **chrf.compute(predictions=hyps, references=refs),
                "exact_match": float(np.mean([h == r for h, r in zip(hyps, refs)]))}

    return compute
