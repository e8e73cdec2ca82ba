"""Shared by the quality runs on real data: where the data is, how a result is recorded, and the results page.

Every quality script (``python -m benchmarks.quality.<name>``) trains on a public dataset that lives
outside the repository (``../shared/data`` by default, or ``--data_dir``/``NLPSEQ_DATA``), records one
JSON file per run in ``benchmarks/quality/results/<name>.json`` and rebuilds ``docs/results.md`` from all of
them, next to the published figures. The data is only ever read by path, never copied into the repo.
"""

from __future__ import annotations

import argparse
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
RUNS = ROOT / "runs" / "quality"  # checkpoints and logs (git-ignored)


def parser(description: str) -> argparse.ArgumentParser:
    """Common flags: ``--data_dir``, ``--output_dir``, ``--threads``, ``--seed``."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", type=Path, default=DEFAULT_DATA, help="folder holding the public datasets")
    p.add_argument("--output_dir", type=Path, default=RUNS, help="checkpoints and logs go here")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    return p


def data_file(data_dir: Path, *parts: str) -> Path:
    """``data_dir/parts...``, or a clear error that says where the file was expected and how to point at it."""
    path = Path(data_dir).joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found. The quality runs read public datasets by path: pass "
                                "--data_dir (or set NLPSEQ_DATA) to the folder that holds "
                                f"{'/'.join(parts)}; see docs/results.md for where each dataset comes from.")
    return path


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
             "Each section is written by the command shown under it, which reads the public dataset by path and",
             "records the measured numbers next to the published ones. A missed target says by how much and why.",
             "Sections marked *through the recipes* come from `python -m benchmarks.quality.run <run>`: the recipe",
             "argument file under `recipes/quality/` that a user copies, one job at a time, with threads, load,",
             "steps and the command beside each number, and a curve of quality against training minutes. The",
             "other sections come from the older per-dataset scripts (1 CPU thread shared with other jobs) and",
             "stay until their runs are redone through the recipes.", ""]
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
