"""Run the experiments and rebuild ``docs/experiments.md`` from their verdicts.

    python -m experiments.run_all                 # every experiment
    python -m experiments.run_all --only vanishing_gradients
    python -m experiments.run_all --collect       # only rebuild the page from docs/figures/*.md
"""

from __future__ import annotations

import argparse
import importlib

from experiments.common import FIGURES

EXPERIMENTS = ["vanishing_gradients", "long_range", "representations", "cost_vs_length", "parallel_throughput",
               "attention_maps"]
PAGE = FIGURES.parent / "experiments.md"


def collect() -> None:
    sections = [(FIGURES / f"{name}.md").read_text() for name in EXPERIMENTS if (FIGURES / f"{name}.md").is_file()]
    missing = [name for name in EXPERIMENTS if not (FIGURES / f"{name}.md").is_file()]
    lines = ["# Experiments: the textbook claims, measured", "",
             "Each section is written by `python -m experiments.<name>` (figure + verdict with the numbers).", ""]
    if missing:
        lines += ["Not run yet: " + ", ".join(f"`{m}`" for m in missing) + ".", ""]
    PAGE.write_text("\n".join(lines) + "\n" + "\n\n".join(sections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=EXPERIMENTS)
    parser.add_argument("--collect", action="store_true")
    args = parser.parse_args()
    if not args.collect:
        for name in args.only or EXPERIMENTS:
            importlib.import_module(f"experiments.{name}").run()
    collect()
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
