"""Accuracy: the fraction of predictions equal to their reference (one vectorised numpy comparison)."""

import datasets
import evaluate
import numpy as np

from nlpseq.errors import DataError


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Fraction of predictions that equal the reference label.",
            citation="",
            inputs_description="predictions, references: lists of int labels",
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        if len(references) == 0:
            raise DataError("accuracy needs at least one reference; pass the labels of at least one example")
        return {"accuracy": float(np.mean(np.asarray(predictions) == np.asarray(references)))}
