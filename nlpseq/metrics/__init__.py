"""Evaluate-format metric modules that load offline: ``nlpseq.metrics.load("accuracy")``.

``evaluate.load("accuracy")`` needs the Hub; these modules live in the package, so ``evaluate.load`` gets a
local path. Each folder holds ``<name>/<name>.py``, a standard ``evaluate.Metric``; they also work with
``evaluate.combine``.
"""

from __future__ import annotations

from pathlib import Path

import evaluate

METRICS_DIR = Path(__file__).parent
AVAILABLE = ("accuracy", "f1", "bleu", "chrf")


def load(name: str, **kwargs) -> evaluate.EvaluationModule:
    """Load one of :data:`AVAILABLE` offline through ``evaluate.load``."""
    if name not in AVAILABLE:
        raise ValueError(f"Unknown metric {name!r}; nlpseq ships {AVAILABLE} (or pass a path to evaluate.load)")
    return evaluate.load(str(METRICS_DIR / name), **kwargs)
