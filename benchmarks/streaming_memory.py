"""Peak memory of ``pretrain_clm.py`` on a local text file that grows 10x, with and without ``--streaming``.

The file: stdlib-docs docstrings, one per line, repeated in a new order each pass to ``--megabytes`` MB (1x) and ten
times that (10x): the set of distinct words stays the same, so what grows is the data, not the tokenizer's word
table (BPE training keeps one count per distinct word, streamed or not). Each run is a fresh process running the
recipe (BPE tokenizer of 2,000 tokens trained on the training text, tiny decoder, 20 steps of batch 8, blocks of
64, 200 held-out rows scored) and reports its peak resident set size (``ru_maxrss``). Streaming must stay flat; the
in-memory run reads everything into Arrow and a Python list for the tokenizer, so it grows with the file.
Run: ``python -m benchmarks.streaming_memory [--megabytes 4]`` (``docs/training.md`` has the numbers).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import row, save

ROOT = Path(__file__).resolve().parents[1]
MEASURE = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_corpus(path: Path, megabytes: float) -> int:
    from nlpseq import load_corpus

    texts = [" ".join(t.split()) for t in load_corpus("stdlib-docs")["train"]["text"]]
    rng, target, size, n = random.Random(0), int(megabytes * 1e6), 0, 0
    with path.open("w", encoding="utf-8") as f:
        while size < target:  # the docstrings again, in a new order each pass: no new words as the file grows
            for text in rng.sample(texts, len(texts)):
                f.write(f"{text}\n")
                size, n = size + len(text.encode()) + 1, n + 1
                if size >= target:
                    break
    return n


def peak_mb(data: Path, out: Path, streaming: bool) -> tuple[float, float]:
    argv = [str(ROOT / "recipes" / "pretrain_clm.py"), "--model_family", "decoder", "--train_file", str(data),
            "--output_dir", str(out), "--overwrite_output_dir", "--max_steps", "20", "--block_size", "64",
            "--per_device_train_batch_size", "8", "--vocab_size", "2000", "--max_eval_samples", "200",
            "--save_strategy", "no", "--report_to", "none", "--disable_tqdm", "true", "--do_train", "--do_eval"]
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", MEASURE, *argv, *(["--streaming"] if streaming else [])],
                         capture_output=True, text=True, cwd=ROOT)
    if run.returncode:
        raise RuntimeError(run.stderr[-3000:])
    peak = next(int(line.split()[1]) for line in run.stdout.splitlines() if line.startswith("PEAK_KB"))
    return peak / 1024, time.perf_counter() - start


def measure(megabytes: float) -> list[dict]:
    """Peak RSS and seconds of the recipe with and without ``--streaming`` on a 1x and a 10x file."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in (1, 10):
            data = Path(tmp) / f"corpus-{scale}x.txt"
            lines = write_corpus(data, megabytes * scale)
            for streaming in (True, False):
                peak, seconds = peak_mb(data, Path(tmp) / "run", streaming)
                runs.append({"file_mb": round(data.stat().st_size / 1e6, 1), "lines": lines,
                             "streaming": streaming, "peak_rss_mb": round(peak), "seconds": round(seconds, 1)})
                print(runs[-1], flush=True)
    return runs


def run(quick: bool = False, megabytes: float | None = None) -> list[dict]:
    """One row per file size: the in-memory run's peak over the streaming run's (above 1: streaming saves memory),
    with both runs' numbers beside it."""
    runs = measure(megabytes or (0.5 if quick else 4.0))
    rows = []
    for streamed, in_memory in zip(runs[::2], runs[1::2]):
        rows.append(row(f"--streaming vs in memory, {streamed['file_mb']:g} MB text file",
                        "peak RSS MB (in memory / streaming)", in_memory["peak_rss_mb"], streamed["peak_rss_mb"],
                        runs=[streamed, in_memory]))
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=4.0, help="size of the 1x file")
    args = parser.parse_args(argv)
    rows = run(megabytes=args.megabytes)
    save("streaming_memory", rows, quick=False)
    return rows


if __name__ == "__main__":
    main()
