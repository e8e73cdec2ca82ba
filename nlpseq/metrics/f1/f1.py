"""Macro-F1 (default) or micro-F1 over integer class labels: the mean of per-class F1 = 2PR / (P + R)."""

import datasets
import evaluate


class F1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="F1 score; average='macro' (mean over classes seen in references or predictions) "
                        "or 'micro' (equals accuracy for single-label tasks).",
            citation="",
            inputs_description="predictions, references: lists of int labels; average: 'macro' | 'micro'",
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, average="macro"):
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        if average == "micro":
            return {"f1": sum(int(p == r) for p, r in zip(predictions, references)) / max(len(references), 1)}
        scores = []
        for c in sorted(set(references) | set(predictions)):
            tp = sum(1 for p, r in zip(predictions, references) if p == c and r == c)
            fp = sum(1 for p, r in zip(predictions, references) if p == c and r != c)
            fn = sum(1 for p, r in zip(predictions, references) if p != c and r == c)
            scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
        return {"f1": sum(scores) / max(len(scores), 1)}
