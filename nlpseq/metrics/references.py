"""Several references per prediction for the sacreBLEU metrics (``bleu``, ``chrf``)."""

from __future__ import annotations

from collections.abc import Sequence

import datasets

from ..errors import DataError

#: evaluate input formats: several references (a list of strings) per prediction, or one string
FEATURES = [
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Sequence(datasets.Value("string"))}),
    datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
]


def reference_streams(references: Sequence[str | Sequence[str]]) -> list[list[str]]:
    """One reference (a string) or several (a list) per prediction -> sacreBLEU's streams, one per reference.

    ``[["a", "b"], ["c", "d"]]`` (two predictions, two references each) -> ``[["a", "c"], ["b", "d"]]``.
    """
    rows = [[r] if isinstance(r, str) else list(r) for r in references]
    counts = sorted({len(r) for r in rows})
    if len(counts) > 1 or 0 in counts:
        raise DataError(f"Every prediction needs the same number (>= 1) of references, got {counts}; repeat a "
                        "reference to fill the short lists, or drop those rows")
    return [list(stream) for stream in zip(*rows)]
