"""Shared plumbing for benchmarks: environment report, timing, JSON + markdown output.

Every benchmark module exposes ``run(quick: bool) -> list[dict]``; each dict is one row with at least
``name``, ``metric``, ``ours``, ``reference``, ``ratio`` (ours / reference, higher is better for us) and
``target``. ``save()`` writes ``benchmarks/results/<module>.json`` and regenerates ``benchmarks/RESULTS.md``
from every JSON file present, so modules can be run one at a time or all together.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS_DIR = Path(__file__).parent / "results"
RESULTS_MD = Path(__file__).parent / "RESULTS.md"
#: when this module's run started and the machine's load then (1, 5, 15 minutes): set on import (a benchmark
#: imports this module first) and again by every ``save`` (``run_all`` runs the modules one after another)
STARTED = (time.time(), os.getloadavg())


def environment() -> dict:
    """Device, threads and library versions, reported with every result."""
    import datasets
    import tokenizers
    import transformers

    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "datasets": datasets.__version__,
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }
    try:
        import sklearn

        env["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    return env


def best_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Best wall-clock seconds of ``repeat`` calls to ``fn`` after ``warmup`` calls (min is the least noisy)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times)


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int, warmup: int = 1) -> dict[str, dict]:
    """Time one call of each contender per round, ``rounds`` times, rotating who goes first each round.

    Side-by-side comparisons on a shared CPU: a load swing hits every contender within the same round, and
    rotating the order cancels first/second position effects (caches, allocator). Returns, per contender,
    ``best`` and ``median`` wall seconds and ``cpu`` (best process-CPU seconds, the fallback evidence when
    other processes share the machine).
    """
    names = list(contenders)
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            t0, c0 = time.perf_counter(), time.process_time()
            contenders[name]()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {name: {"best": min(wall[name]), "median": statistics.median(wall[name]), "cpu": min(cpu[name])}
            for name in names}


def side_by_side(ours: Callable[[], object], reference: Callable[[], object],
                 rounds: int) -> tuple[float, float, float]:
    """Best seconds of each side over ``interleaved`` rounds, and the ratio of their medians (reference / ours)."""
    times = interleaved({"ours": ours, "reference": reference}, rounds=rounds)
    return times["ours"]["best"], times["reference"]["best"], times["reference"]["median"] / times["ours"]["median"]


def train_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Callable[[], None]:
    """One AdamW training step of ``model`` on ``batch`` (a callable, for ``side_by_side``)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def row(name: str, metric: str, ours: float, reference: float, target: float | None = None, **extra) -> dict:
    """One result row; ``ratio = ours / reference`` (so make ``metric`` a higher-is-better rate)."""
    if reference:
        ratio = ours / reference
    else:  # the reference scored zero (e.g. exact match without attention): any positive score is infinitely better
        ratio = float("inf") if ours > 0 else float("nan")
    out = {"name": name, "metric": metric, "ours": ours, "reference": reference, "ratio": ratio,
           "target": target, "meets_target": None if target is None else bool(ratio >= target)}
    out.update(extra)
    return out


def save(module: str, rows: list[dict], quick: bool) -> Path:
    """Write ``results/<module>.json`` and regenerate ``RESULTS.md``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{module}.json"
    global STARTED
    run = {"command": " ".join(["python -m", f"benchmarks.{Path(sys.argv[0]).stem}", *sys.argv[1:]]),
           "wall_s": round(time.time() - STARTED[0], 1), "load_before": STARTED[1], "load_after": os.getloadavg()}
    payload = {"module": module, "quick": quick, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "environment": environment(), "run": run, "rows": rows}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)
    write_markdown()
    STARTED = (time.time(), os.getloadavg())
    return path


def _fmt(x: object) -> str:
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1e4 else f"{x:,.0f}"
    return "" if x is None else str(x)


def _run_line(run: dict | None) -> list[str]:
    """The command, wall time and load average before and after (runs saved before 2026-12-02 lack them)."""
    if not run:
        return []
    load = " / ".join(f"{before:.2f} -> {after:.2f}" for before, after in zip(run["load_before"], run["load_after"]))
    return [f"`{run['command']}` · {run['wall_s']:.0f} s wall · load average (1 / 5 / 15 min) {load}", ""]


def write_markdown() -> None:
    lines = ["# Benchmark results", "",
             "Generated by `make bench` (or `python -m benchmarks.<module>`). Ratio = ours / reference in the",
             "same run, higher is better for nlpseq; absolute numbers are context for this machine.", ""]
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        env = data["environment"]
        lines += [f"## {data['module']}" + (" (quick)" if data.get("quick") else ""), "",
                  f"{data['date']} · device {env['device']} · {env['threads']} threads · torch {env['torch']}"
                  f" · transformers {env['transformers']} · {env['processor']}, {env['platform']}", "",
                  *_run_line(data.get("run")),
                  "| benchmark | metric | ours | reference | ratio (best) | ratio (median) | target | meets |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in data["rows"]:
            meets = {True: "yes", False: "**no**", None: ""}[r.get("meets_target")]
            lines.append(f"| {r['name']} | {r['metric']} | {_fmt(r['ours'])} | {_fmt(r['reference'])} | "
                         f"{_fmt(r['ratio'])}x | {_fmt(r.get('median_ratio'))}{'x' if r.get('median_ratio') else ''} | "
                         f"{_fmt(r.get('target'))} | {meets} |")
        lines.append("")
    RESULTS_MD.write_text("\n".join(lines))
