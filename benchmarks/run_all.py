"""Run every benchmark module side by side with its reference: ``python -m benchmarks.run_all [--quick]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import benchmarks
from benchmarks.common import RESULTS_MD, save

SKIP = {"common", "run_all", "gpu_check"}  # gpu_check: a CUDA-only script of its own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small shapes, finishes in under 3 minutes")
    parser.add_argument("--only", nargs="*", help="module names to run (default: all)")
    args = parser.parse_args()
    # sub-packages are not benchmarks: benchmarks/quality/ trains on external datasets for many minutes each
    names = [m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name not in SKIP and not m.ispkg]
    for name in sorted(names):
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        rows = module.run(quick=args.quick)
        save(name, rows, quick=args.quick)
        for r in rows:
            print(f"  {r['name']}: ours {r['ours']:.4g} vs ref {r['reference']:.4g} -> {r['ratio']:.2f}x")
    print(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    main()
