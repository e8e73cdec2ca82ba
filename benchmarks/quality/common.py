"""Shared by the quality runs on real data: where the data is, how a result is recorded, and the results page.

The quality runs (``python -m benchmarks.quality.run <run>``) train through the recipes on public datasets that
live outside the repository (``../shared/data`` by default, or ``--data_dir``/``NLPSEQ_DATA``), record one JSON
file per dataset in ``benchmarks/quality/results/<dataset>-recipes.json`` and rebuild ``docs/results.md`` from
all of them, next to the published figures. The data is only ever read by path, never copied into the repo.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = Path(__file__).parent / "results"
PAGE = ROOT / "docs" / "results.md"
DEFAULT_DATA = Path(os.environ.get("NLPSEQ_DATA", ROOT.parent / "shared" / "data"))


def machine() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"


def record(name: str, title: str, rows: list[dict], command: str, notes: str = "") -> Path:
    """Write ``results/<name>.json`` (atomically) and rebuild ``docs/results.md``.

    Each row: ``target`` (what the issue asks, str like ">= 28 BLEU"), ``model``, ``metric``, ``value``
    (measured, float), ``goal`` (float), ``higher_is_better`` (bool), ``published`` (str, the reference
    figure and its source), ``train_seconds`` (float) and optionally ``comment`` (why a target is missed).
    """
    for r in rows:
        better = r["value"] >= r["goal"] if r.get("higher_is_better", True) else r["value"] <= r["goal"]
        r.setdefault("met", bool(better))  # a time-to-quality row sets its own
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"name": name, "title": title, "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "torch": torch.__version__, "command": command, "notes": notes, "rows": rows}
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float))
    tmp.replace(path)
    collect()
    return path


def _fmt(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 1000 else f"{x:,.0f}"


def collect() -> None:
    """Rebuild ``docs/results.md`` from every ``results/*.json``."""
    lines = ["# Quality on real data", "",
             "Each section is written by the command shown under it, `python -m benchmarks.quality.run <run>`: the",
             "recipe with the argument file under `recipes/quality/` that a user copies, reading the public dataset",
             "by path, one job at a time, with threads, load, steps and the command beside each number, the",
             "published figure beside ours, and a curve of quality against training minutes. A missed target says",
             "by how much and why.", ""]
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        figure = PAGE.parent / "figures" / f"quality-{data['name']}.png"
        lines += [f"## {data['title']}", ""] + ([f"![{data['title']}](figures/{figure.name})", ""] if figure.is_file()
                                                else [])
        lines += ["| model | metric | measured | target | met | published | train time |",
                  "|---|---|---|---|---|---|---|"]
        for r in data["rows"]:
            met = "yes" if r["met"] else "**no**"
            lines.append(f"| {r['model']} | {r['metric']} | {_fmt(r['value'])} | {r['target']} | {met} | "
                         f"{r.get('published', '')} | {r.get('train_seconds', 0) / 60:.1f} min |")
        comments = [f"- **{r['model']}**: {r['comment']}" for r in data["rows"] if r.get("comment")]
        comments += [f"- {r['model']}: {r['facts']}" for r in data["rows"] if r.get("facts")]
        lines += [""] + comments + ([""] if comments else [])
        if data.get("notes"):
            lines += [data["notes"].strip(), ""]
        lines += [f"<sub>{data['date']} · {data['machine']} · torch {data['torch']} · `{data['command']}`</sub>", ""]
    PAGE.write_text("\n".join(lines))


if __name__ == "__main__":
    collect()
    print(f"wrote {PAGE}")
