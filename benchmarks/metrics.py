"""Accuracy and macro-F1 modules (numpy) vs the Python loops they replaced, and vs scikit-learn.

Labels: 50,000 references over 12 classes, predictions 70 % right (200,000 with ``--large``). Metric: labels per
second through the module's ``_compute`` (the arithmetic; ``evaluate``'s ``compute()`` adds the same Arrow
round trip to both), best of 5. Every row checks the numbers agree with scikit-learn's to 1e-12 first.
Run: ``python -m benchmarks.metrics``.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from benchmarks.common import best_time, row, save
from nlpseq import metrics


def loop_accuracy(predictions, references) -> float:
    """nlpseq 0.1's accuracy: a Python loop over the pairs."""
    return sum(int(p == r) for p, r in zip(predictions, references)) / len(references)


def loop_macro_f1(predictions, references) -> float:
    """nlpseq 0.1's macro-F1: three Python passes over the pairs per class."""
    scores = []
    for c in sorted(set(references) | set(predictions)):
        tp = sum(1 for p, r in zip(predictions, references) if p == c and r == c)
        fp = sum(1 for p, r in zip(predictions, references) if p == c and r != c)
        fn = sum(1 for p, r in zip(predictions, references) if p != c and r == c)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / max(len(scores), 1)


def run(quick: bool = False, n: int = 50_000) -> list[dict]:
    """Rows for ``benchmarks.run_all`` (50,000 labels, quick or not)."""
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 12, n)
    pred = np.where(rng.random(n) < 0.7, ref, rng.integers(0, 12, n))
    ref_list, pred_list = ref.tolist(), pred.tolist()  # what evaluate hands _compute
    accuracy, f1 = metrics.load("accuracy"), metrics.load("f1")
    cases = {
        "accuracy": (lambda: accuracy._compute(pred_list, ref_list)["accuracy"],
                     lambda: loop_accuracy(pred_list, ref_list), lambda: accuracy_score(ref, pred)),
        "macro-F1": (lambda: f1._compute(pred_list, ref_list)["f1"],
                     lambda: loop_macro_f1(pred_list, ref_list), lambda: f1_score(ref, pred, average="macro")),
    }
    rows = []
    for name, (ours, loop, sklearn) in cases.items():
        if not abs(ours() - sklearn()) < 1e-12 or not abs(loop() - sklearn()) < 1e-12:
            raise AssertionError(f"{name}: ours {ours()}, loop {loop()}, scikit-learn {sklearn()} differ")
        t_ours, t_loop, t_sklearn = (best_time(fn, repeat=5) for fn in (ours, loop, sklearn))
        rows.append(row(f"{name}, {n:,} labels: numpy vs the old loop", "labels/s", n / t_ours, n / t_loop,
                        sklearn_labels_per_s=n / t_sklearn, ratio_vs_sklearn=t_sklearn / t_ours))
        print(f"{name:>9}: numpy {t_ours * 1e3:8.2f} ms | old loop {t_loop * 1e3:8.1f} ms "
              f"({t_loop / t_ours:6.1f}x slower) | scikit-learn {t_sklearn * 1e3:7.2f} ms")
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", action="store_true", help="200,000 labels instead of 50,000")
    args = parser.parse_args(argv)
    rows = run(n=200_000 if args.large else 50_000)
    save("metrics", rows, quick=not args.large)
    return rows


if __name__ == "__main__":
    main()
