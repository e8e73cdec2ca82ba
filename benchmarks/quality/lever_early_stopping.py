"""A time-to-quality lever: early stopping on the validation split (``--early_stopping_patience``), replayed.

    python -m benchmarks.quality.lever_early_stopping [--patience 1 2 3 5]

A run stopped early is the same run up to its stop: the learning-rate schedule follows ``max_steps`` whether or
not the run gets there, and training is deterministic. So transformers' ``EarlyStoppingCallback`` rule, replayed on
the validation curves the quality runs recorded (``benchmarks/quality/results/<dataset>.json``, and the GPU check's
``benchmarks/results/gpu/gpu_check.json``), says exactly where each run would have stopped, and with which best
checkpoint (``--load_best_model_at_end``). Runs evaluated on the split they report (SST-2 has only dev) are left
out: stopping on it would tune on the reported number. Prints one markdown table; docs/training.md holds the
verdict.
"""

from __future__ import annotations

import argparse
import json

from benchmarks.quality.common import RESULTS_DIR, ROOT

#: quality runs whose curve is on a validation split distinct from the reported one
VALIDATION_CURVES = ("tinyshakespeare", "wikitext2", "multi30k")


def recorded_curves() -> list[tuple[str, list[tuple[int, float, float]]]]:
    """``(run, [(step, training seconds, validation loss), ...])`` for every recorded run with a curve."""
    curves = []
    for name in VALIDATION_CURVES:
        for row in json.loads((RESULTS_DIR / f"{name}.json").read_text())["rows"]:
            by_step = {p["step"]: p for p in row.get("curve", [])}  # the final evaluation repeats the last step's
            points = [(p["step"], p["train_seconds"], p["eval_loss"]) for p in by_step.values()]
            if points:
                curves.append((row["run"], points))
    gpu = json.loads((ROOT / "benchmarks/results/gpu/gpu_check.json").read_text())
    for row in gpu["rows"]:
        if "evals" in row and row["evals"][0]["step"] > 0:  # our recipe's runs (nanoGPT's log starts at step 0)
            curves.append((f"H200: {row['check']}", [(e["step"], e["seconds"], e["val"]) for e in row["evals"]]))
    return curves


def stop_index(losses: list[float], patience: int, threshold: float = 0.0) -> int:
    """Index of the evaluation after which ``EarlyStoppingCallback(patience, threshold)`` stops the run (the last
    one when it never does). Its rule: an evaluation that does not beat the best so far by more than ``threshold``
    adds one to a counter, a better one resets it; the run stops when the counter reaches ``patience``."""
    best, counter = None, 0
    for i, loss in enumerate(losses):
        if best is None or (loss < best and best - loss > threshold):
            counter = 0
        else:
            counter += 1
        best = loss if best is None else min(best, loss)
        if counter >= patience:
            return i
    return len(losses) - 1


def replay(patiences: list[int]) -> list[str]:
    lines = ["| run | evaluations | best val loss (at step) | patience | stops at step | best kept | training time "
             "saved |", "|---|---|---|---|---|---|---|"]
    for run, points in recorded_curves():
        losses = [loss for _, _, loss in points]
        best = min(range(len(points)), key=losses.__getitem__)
        for patience in patiences:
            stop = stop_index(losses, patience)
            kept = min(losses[: stop + 1])
            saved = 1 - points[stop][1] / points[-1][1]
            lines.append(f"| {run} | {len(points)} | {losses[best]:.4f} ({points[best][0]}) | {patience} | "
                         f"{points[stop][0]} | {kept:.4f} | {saved:.0%} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patience", type=int, nargs="+", default=[1, 2, 3, 5])
    print("\n".join(replay(p.parse_args().patience)))


if __name__ == "__main__":
    main()
