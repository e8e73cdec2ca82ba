"""A time-to-quality lever: the adaptive softmax (``adaptive_softmax_cutoffs``) vs the full softmax on WikiText-2.

    python -m benchmarks.quality.lever_adaptive_softmax RUN CUTOFFS MINUTES [--data_dir ../shared/data]

RUN is a WikiText-2 argument file under ``recipes/quality/`` (``wikitext2-lstm``); CUTOFFS is ``none`` (the full,
tied softmax) or ids such as ``2000,10000``. Trains the recipe for MINUTES of wall-clock at a constant learning
rate after warm-up (so that neither run's schedule depends on its speed) and prints the steps, the tokens seen, the
validation perplexity and the load; docs/training.md holds the runs and the verdict.
"""

import json
import os
import sys
import tempfile

import torch

from benchmarks.quality import common
from benchmarks.quality.run import argument_file
from nlpseq.training import TimeLimitCallback

sys.path.insert(0, str(common.ROOT / "recipes"))
import pretrain_clm  # noqa: E402


def main() -> None:
    run, cutoffs, minutes = sys.argv[1:4]
    data_dir = sys.argv[sys.argv.index("--data_dir") + 1] if "--data_dir" in sys.argv else str(common.DEFAULT_DATA)
    path, values = argument_file(run, common.Path(data_dir))
    overrides = ",".join(filter(None, [values.get("config_overrides"),
                                       f"adaptive_softmax_cutoffs=[{cutoffs}]" if cutoffs != "none" else
                                       "adaptive_softmax_cutoffs=null"]))
    load0 = os.getloadavg()
    r = pretrain_clm.main([str(path), "--output_dir", tempfile.mkdtemp(), "--max_steps", "100000",
                           "--lr_scheduler_type", "constant_with_warmup", "--warmup_steps", "30", "--eval_strategy",
                           "no", "--do_train", "--do_eval", *(["--config_overrides", overrides] if overrides else [])],
                          callbacks=[TimeLimitCallback(float(minutes))])
    steps = round(r["train_samples_per_second"] * r["train_runtime"] / values["per_device_train_batch_size"])
    print(json.dumps({"run": run, "cutoffs": cutoffs, "minutes": float(minutes), "steps": steps,
                      "tokens": steps * values["per_device_train_batch_size"] * (values["block_size"] - 1),
                      "train_runtime": r["train_runtime"], "eval_perplexity": r["eval_perplexity"],
                      "threads": torch.get_num_threads(), "load_before": load0,
                      "load_after": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
