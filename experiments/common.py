"""Shared by the experiments: where figures and verdicts go, and how a verdict is written.

Each experiment writes ``docs/figures/<name>.png`` and ``docs/figures/<name>.md`` (a short verdict with the
numbers); ``python -m experiments.run_all`` runs them all and rebuilds ``docs/experiments.md``.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def machine() -> str:
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.machine()})"
    return f"{device}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def save(name: str, title: str, figure, verdict: str, numbers: dict) -> Path:
    """Write the figure and the verdict (markdown + the raw numbers as JSON) for experiment ``name``."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    figure.savefig(FIGURES / f"{name}.png", dpi=110, bbox_inches="tight")
    text = (f"## {title}\n\n![{title}](figures/{name}.png)\n\n{verdict.strip()}\n\n"
            f"<sub>Run {time.strftime('%Y-%m-%d')} on {machine()} by `python -m experiments.{name}`.</sub>\n")
    (FIGURES / f"{name}.md").write_text(text)
    (FIGURES / f"{name}.json").write_text(json.dumps(numbers, indent=2, default=float))
    print(text)
    return FIGURES / f"{name}.md"
