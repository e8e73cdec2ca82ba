"""Choosing the bag-of-words defaults on SST-2 without looking at dev: a held-out slice of *train*.

    python -m benchmarks.quality.lever_heldout_bow [--data_dir ../shared/data] [--epochs 2]

GLUE's SST-2 train rows are phrases of the same sentences, so a random slice of them leaks: a held-out row's
sub-phrases (and the longer phrases that contain it) would sit in training. The slice here is 3,000 rows of at
least 10 words (seed 0); every training row that is a phrase of one of them, or contains one, is dropped. Each
setting trains the classification recipe (bow tiny, its flags as in ``recipes/quality/sst2-bow.yaml``) on the rest
and is evaluated on the slice every 500 steps, so the curve also says when to stop. Prints one JSON line per
setting; ``docs/training.md`` holds the runs and the verdict.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path

from benchmarks.quality import common
from benchmarks.quality.run import EvalClock

sys.path.insert(0, str(common.ROOT / "recipes"))
import finetune_classification  # noqa: E402

#: (learning rate, weight decay): the preset's, weight decay at two strengths, a lower rate
SETTINGS = [(0.05, 0.0), (0.05, 0.01), (0.05, 0.05), (0.01, 0.0)]


def held_out_split(train_tsv: Path, out: Path, size: int = 3000, min_words: int = 10) -> tuple[int, int]:
    """Write ``out/train.tsv`` and ``out/dev.tsv`` (the slice); returns their row counts."""
    rows = [line.rsplit("\t", 1) for line in train_tsv.read_text().splitlines()[1:]]
    long_rows = [i for i, (text, _) in enumerate(rows) if len(text.split()) >= min_words]
    held = set(random.Random(0).sample(long_rows, size))
    held_text = {rows[i][0].strip() for i in held}
    phrases = {" ".join(words[a:b]) for words in (t.split() for t in held_text)
               for a in range(len(words)) for b in range(a + 1, len(words) + 1)}

    def contains_held(words: list[str]) -> bool:
        return any(" ".join(words[a:b]) in held_text
                   for a in range(len(words)) for b in range(a + min_words, len(words) + 1))

    train = [(text, label) for i, (text, label) in enumerate(rows) if i not in held
             and text.strip() not in phrases and not contains_held(text.split())]
    out.mkdir(parents=True, exist_ok=True)
    for name, data in (("train.tsv", train), ("dev.tsv", [rows[i] for i in sorted(held)])):
        (out / name).write_text("sentence\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in data))
    return len(train), len(held)


def main() -> None:
    data_dir = Path(sys.argv[sys.argv.index("--data_dir") + 1]) if "--data_dir" in sys.argv else common.DEFAULT_DATA
    epochs = sys.argv[sys.argv.index("--epochs") + 1] if "--epochs" in sys.argv else "2"
    split = Path(tempfile.mkdtemp()) / "sst2-heldout"
    n_train, n_held = held_out_split(common.data_file(data_dir, "sst2", "train.tsv"), split)
    print(json.dumps({"train_rows": n_train, "held_out_rows": n_held}), flush=True)
    for lr, wd in SETTINGS:
        clock, load0 = EvalClock(), os.getloadavg()
        r = finetune_classification.main([
            str(common.ROOT / "recipes" / "quality" / "sst2-bow.yaml"), "--dataset_name", str(split),
            "--output_dir", tempfile.mkdtemp(), "--num_train_epochs", epochs, "--eval_steps", "500",
            "--learning_rate", str(lr), "--weight_decay", str(wd)], callbacks=[clock])
        curve = [(p["step"], round(p["eval_accuracy"], 4)) for p in clock.points]
        best = max(curve, key=lambda point: point[1])
        print(json.dumps({"learning_rate": lr, "weight_decay": wd, "epochs": float(epochs),
                          "final_accuracy": round(r["eval_accuracy"], 4), "best": best, "curve": curve,
                          "train_runtime": r["train_runtime"], "load_before": load0, "load_after": os.getloadavg()}),
              flush=True)


if __name__ == "__main__":
    main()
