"""Entity-level precision, recall and F1 of tag sequences, in seqeval's conventions (its default mode).

An entity is a chunk of tags of one type: ``B-PER I-PER`` is one PER entity, found by the chunk rules of
seqeval (and of CoNLL's ``conlleval``), which read IOB1 (``I-`` may start a chunk, ``B-`` only separates two
chunks of one type), IOB2 (every chunk starts with ``B-``) and IOBES (``S-`` single, ``E-`` end) alike. A
predicted entity counts only if its type, start and end all match a reference entity. Per-type results and the
overall (micro-averaged) ones come back as ``evaluate``'s ``seqeval`` module returns them, plus token accuracy.
"""

import datasets
import evaluate
import numpy as np

from nlpseq.errors import DataError

#: a chunk: (type, first index, last index)
Entity = tuple[str, int, int]


def _ends(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether the chunk open before this tag ends before it."""
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != type_


def _starts(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether a chunk starts at this tag."""
    if tag in ("B", "S"):
        return True
    if tag in ("E", "I") and prev_tag in ("E", "S", "O"):
        return True
    return tag not in ("O", ".") and prev_type != type_


def get_entities(tags: list[str]) -> list[Entity]:
    """``["B-PER", "I-PER", "O", "S-LOC"]`` -> ``[("PER", 0, 1), ("LOC", 3, 3)]`` (any of IOB1, IOB2, IOBES)."""
    entities, prev_tag, prev_type, begin = [], "O", "", 0
    for i, chunk in enumerate([*tags, "O"]):
        tag, type_ = chunk[0], chunk[1:].split("-", maxsplit=1)[-1] or "_"
        if _ends(prev_tag, tag, prev_type, type_):
            entities.append((prev_type, begin, i - 1))
        if _starts(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return entities


def _scores(tp: int, predicted: int, true: int) -> dict:
    precision = tp / predicted if predicted else 0.0
    recall = tp / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(predictions: list[list[str]], references: list[list[str]]) -> dict:
    """Per-type ``{precision, recall, f1, number}`` and ``overall_*`` (micro over entities) plus token accuracy."""
    if len(predictions) != len(references) or any(len(p) != len(r) for p, r in zip(predictions, references)):
        raise DataError("predictions and references must hold the same number of sequences, each pair of equal "
                         "length; align them (one tag per word) before scoring")
    pred = {(i, *e) for i, seq in enumerate(predictions) for e in get_entities(seq)}
    true = {(i, *e) for i, seq in enumerate(references) for e in get_entities(seq)}
    out = {}
    for type_ in sorted({e[1] for e in true | pred}):
        p, t = {e for e in pred if e[1] == type_}, {e for e in true if e[1] == type_}
        out[type_] = {**_scores(len(p & t), len(p), len(t)), "number": len(t)}
    overall = _scores(len(pred & true), len(pred), len(true))
    flat_pred = np.array([tag for seq in predictions for tag in seq])
    flat_true = np.array([tag for seq in references for tag in seq])
    accuracy = float(np.mean(flat_pred == flat_true)) if len(flat_true) else 0.0
    return {**out, **{f"overall_{k}": v for k, v in overall.items()}, "overall_accuracy": accuracy}


class Seqeval(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Entity-level precision/recall/F1 of IOB1, IOB2 or IOBES tag sequences (seqeval's default "
                        "mode) and token accuracy.",
            citation="Nakayama, 2018. seqeval: A Python framework for sequence labeling evaluation.",
            inputs_description="predictions, references: lists of tag sequences (lists of str)",
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("string")),
                                        "references": datasets.Sequence(datasets.Value("string"))}),
        )

    def _compute(self, predictions, references):
        return entity_scores([list(p) for p in predictions], [list(r) for r in references])
