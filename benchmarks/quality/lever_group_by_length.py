"""A time-to-quality lever: length-grouped batches (``--train_sampling_strategy group_by_length``) vs random ones.

    python -m benchmarks.quality.lever_group_by_length FAMILY STRATEGY STEPS [--data_dir ../shared/data]

Trains the classification recipe on SST-2 (its tiny preset's defaults) for STEPS steps and prints the training
time, the dev accuracy and the load; docs/training.md holds the runs and the verdict.
"""

import json
import os
import sys
import tempfile

from benchmarks.quality import common

sys.path.insert(0, str(common.ROOT / "recipes"))
import finetune_classification  # noqa: E402


def main() -> None:
    fam, strategy, steps = sys.argv[1:4]
    data_dir = sys.argv[sys.argv.index("--data_dir") + 1] if "--data_dir" in sys.argv else str(common.DEFAULT_DATA)
    out = tempfile.mkdtemp()
    load0 = os.getloadavg()
    r = finetune_classification.main([
        "--model_family", fam, "--dataset_name", f"{data_dir}/sst2", "--text_column", "sentence", "--tokenizer_kind",
        "word", "--vocab_size", "0", "--max_length", "128", "--max_steps", steps, "--report_to", "none",
        "--save_strategy", "no", "--disable_tqdm", "true", "--seed", "0", "--per_device_eval_batch_size", "256",
        "--train_sampling_strategy", strategy, "--output_dir", out])
    print(json.dumps({"family": fam, "strategy": strategy, "steps": int(steps), "train_runtime": r["train_runtime"],
                      "eval_accuracy": r["eval_accuracy"], "load_before": load0, "load_after": os.getloadavg()}),
          flush=True)


if __name__ == "__main__":
    main()
