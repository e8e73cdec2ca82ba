"""A time-to-quality lever: an exponential moving average (EMA) of the weights, measured.

    python -m benchmarks.quality.lever_ema tinyshakespeare-nanogpt tinyshakespeare-best \\
        [--decays 0.99 0.995 0.999] [--set wikitext2-decoder:--max_steps=1000]

Runs quality argument files (``recipes/quality/<run>.yaml``) through their recipes with one more callback. It
keeps ``torch.optim.swa_utils.AveragedModel`` copies of the weights, ``θ_ema ← d θ_ema + (1 - d) θ`` after every
optimizer step (``get_ema_multi_avg_fn(d)``, one copy per decay ``d``), and at every evaluation measures the
validation loss of the trained weights and of each average on the same batches. An EMA belongs in the recipes
only if its copy is better than the trained weights at the end of the run, or reaches their final loss sooner.
Writes ``benchmarks/quality/results/levers/ema.json`` and prints one markdown table; docs/training.md holds the
verdict. Run it alone on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from transformers import TrainerCallback

from benchmarks.quality.common import RESULTS_DIR
from benchmarks.quality.run import TARGETS, argument_file


@torch.no_grad()
def validation_loss(model: torch.nn.Module, loader) -> float:
    """The model's own loss over ``loader``, weighted by batch size as the Trainer's ``eval_loss`` is."""
    was_training, total, rows = model.training, 0.0, 0
    model.eval()
    device = next(model.parameters()).device
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        n = len(next(iter(batch.values())))
        total, rows = total + model(**batch).loss.item() * n, rows + n
    model.train(was_training)
    return total / rows


class WeightAverages(TrainerCallback):
    """One EMA copy of the weights per decay, updated after every optimizer step; at every validation-split
    evaluation, ``{"step", "eval_loss", "trained", "ema 0.99", ...}`` (the losses on the same batches)."""

    def __init__(self, decays: list[float]):
        self.decays, self.averages, self.points = decays, {}, []
        self.update_seconds = 0.0  # what keeping the averages costs the training

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.averages = {d: AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(d), use_buffers=True)
                         for d in self.decays}

    def on_step_end(self, args, state, control, model=None, **kwargs):
        start = time.perf_counter()
        for average in self.averages.values():
            average.update_parameters(model)
        self.update_seconds += time.perf_counter() - start

    def on_evaluate(self, args, state, control, model=None, eval_dataloader=None, metrics=None, **kwargs):
        seen = {p["step"] for p in self.points}  # the recipe's final evaluation repeats the last step
        if not any(k.startswith("eval_") for k in metrics or {}) or state.global_step in seen:
            return
        losses = {"trained": validation_loss(model, eval_dataloader)}
        losses.update({f"ema {d:g}": validation_loss(a.module, eval_dataloader) for d, a in self.averages.items()})
        self.points.append({"step": state.global_step, "eval_loss": metrics.get("eval_loss"), **losses})
        print(f"lever_ema: step {state.global_step}: " + ", ".join(f"{k} {v:.4f}" for k, v in losses.items()),
              flush=True)


def measure(name: str, decays: list[float], extra: list[str]) -> dict:
    path, _ = argument_file(name, None)
    averages = WeightAverages(decays)
    load_before, start = os.getloadavg(), time.perf_counter()
    results = __import__(TARGETS[name].recipe).main([str(path), *extra], callbacks=[averages])
    return {"run": name, "date": time.strftime("%Y-%m-%d %H:%M"), "extra_flags": extra,
            "threads": torch.get_num_threads(), "load_before": load_before, "load_after": os.getloadavg(),
            "wall_seconds": time.perf_counter() - start, "train_runtime": results["train_runtime"],
            "ema_update_seconds": averages.update_seconds, "points": averages.points,
            "command": f"python -m benchmarks.quality.lever_ema {name}"
                       + "".join(f" --set {name}:{flag}={value}" for flag, value in zip(extra[::2], extra[1::2]))}


def table(results: list[dict]) -> list[str]:
    """Per run and weights: the validation loss at the end, at its best, and the first evaluation at which it is
    as low as the trained weights' final loss (what an average would save in time)."""
    lines = ["| run | steps | weights | final val loss | best val loss (at step) | first at or below the trained "
             "weights' final loss |", "|---|---|---|---|---|---|"]
    for r in results:
        points = r["points"]
        final = points[-1]["trained"]
        for key in [k for k in points[-1] if k == "trained" or k.startswith("ema ")]:
            best = min(points, key=lambda p: p[key])
            reached = next((p["step"] for p in points if p[key] <= final), None)
            lines.append(f"| {r['run']} | {points[-1]['step']} | {key} | {points[-1][key]:.4f} | "
                         f"{best[key]:.4f} ({best['step']}) | {reached if reached is not None else 'never'} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help=f"quality runs with a validation split, of {sorted(TARGETS)}")
    p.add_argument("--decays", type=float, nargs="+", default=[0.99, 0.995, 0.999])
    p.add_argument("--set", action="append", default=[], metavar="RUN:--flag=value",
                   help="a flag for one run after its argument file (e.g. a shorter --max_steps); repeatable")
    args = p.parse_args(argv)
    extra: dict[str, list[str]] = {}
    for run, flag in (s.split(":", 1) for s in args.set):
        extra.setdefault(run, []).extend(flag.split("=", 1))
    store = RESULTS_DIR / "levers" / "ema.json"  # beside the records docs/results.md is built from
    results = {r["run"]: r for r in json.loads(store.read_text())["rows"]} if store.is_file() else {}
    for name in args.runs:
        results[name] = measure(name, args.decays, extra.get(name, []))
        store.write_text(json.dumps({"rows": list(results.values())}, indent=1))
    print("\n".join(table(list(results.values()))))


if __name__ == "__main__":
    main()
