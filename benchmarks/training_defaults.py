"""What the size presets' training defaults buy: every family x task trained with no hyper-parameter flag
(sizes and steps only), against the same run on the Trainer's own defaults (lr 5e-5, batch 8, linear decay,
no warm-up, no weight decay: rates meant for fine-tuning large pretrained models).

    python -m benchmarks.training_defaults            # 2.5-3 minutes on 2 CPU cores (149-183 s, 2026-12-02)

``MATRIX`` is also the acceptance test (``tests/test_training_defaults.py``). Ratio = ours / Trainer defaults
on accuracy, exact match, or nats below the uniform guess (``ln(outcomes) - eval_loss``, for the language models).
The SSM's two cases train on 32-token sequences (``--max_length`` / ``--block_size`` 32), the others on 64.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

from benchmarks.common import row, save

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402
import pretrain_mlm  # noqa: E402

BASE = ["--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true", "--seed", "0",
        "--per_device_eval_batch_size", "64"]
CLS = ["--dataset_name", "stdlib-docs", "--max_train_samples", "1200", "--max_eval_samples", "300",
       "--max_length", "64", "--vocab_size", "1000"]
LM = ["--dataset_name", "stdlib-docs", "--max_train_samples", "1200", "--max_eval_samples", "200",
      "--block_size", "64", "--tokenizer_kind", "char", "--vocab_size", "0"]  # characters: learnable in 100 steps
MT = ["--dataset_name", "number-translation", "--max_train_samples", "8000", "--tokenizer_kind", "char",
      "--vocab_size", "0", "--max_eval_samples", "100", "--predict_with_generate", "true", "--max_length", "64"]
MAJORITY = 0.28  # stdlib-docs topics: the largest of 7 classes holds 28 % of the training rows


def shorter(data: list[str], flag: str, value: int) -> list[str]:
    """``data`` with the size ``flag`` set to ``value``: the SSM's cases train on 32-token sequences to stay fast."""
    return [str(value) if i and data[i - 1] == flag else item for i, item in enumerate(data)]


#: (recipe, family, data flags, steps, metric, floor): chance is MAJORITY for accuracy and 0 for exact match;
#: every case must also end with its eval loss well below the uniform guess, ln(number of outcomes)
MATRIX = [
    (finetune_classification, "bow", CLS, 150, "eval_accuracy", MAJORITY + 0.25),
    (finetune_classification, "recurrent", CLS, 150, "eval_accuracy", MAJORITY + 0.12),
    (finetune_classification, "encoder", CLS, 150, "eval_accuracy", MAJORITY + 0.12),
    (finetune_classification, "decoder", CLS, 150, "eval_accuracy", MAJORITY + 0.12),
    (finetune_classification, "ssm", shorter(CLS, "--max_length", 32), 100, "eval_accuracy", MAJORITY + 0.12),
    (pretrain_clm, "recurrent", LM, 150, None, None),
    (pretrain_clm, "decoder", LM, 100, None, None),
    (pretrain_clm, "ssm", shorter(LM, "--block_size", 32), 100, None, None),
    (pretrain_mlm, "encoder", LM, 100, None, None),
    (finetune_translation, "recurrent-seq2seq", MT, 150, "eval_exact_match", 0.5),
    (finetune_translation, "transformer-seq2seq", MT, 250, "eval_exact_match", 0.5),
]
#: the Trainer's own defaults, passed as flags so that no preset value applies
TRAINER_DEFAULTS = ["--learning_rate", "5e-5", "--per_device_train_batch_size", "8", "--warmup_steps", "0",
                    "--lr_scheduler_type", "linear", "--weight_decay", "0", "--adam_beta2", "0.999",
                    "--label_smoothing_factor", "0"]


def uniform_loss(recipe, output_dir) -> float:
    """ln(number of outcomes) of the model a ``recipe`` run saved in ``output_dir``: its labels (classification) or
    its output vocabulary (the language models; translation's target side). The loss of a uniform guess: chance."""
    config = json.loads((Path(output_dir) / "config.json").read_text())
    vocabulary = config.get("decoder_vocab_size") or config["vocab_size"]  # a separate target vocabulary, if any
    outcomes = len(config["id2label"]) if recipe is finetune_classification else vocabulary
    return math.log(outcomes)


def train(recipe, family: str, data: list[str], steps: int, output_dir: str, *extra: str) -> dict:
    """One recipe run; adds ``uniform_loss`` = ln(number of outcomes), the loss of a uniform guess."""
    results = recipe.main([*BASE, *data, "--model_family", family, "--max_steps", str(steps),
                           "--output_dir", output_dir, *extra])
    return {**results, "uniform_loss": uniform_loss(recipe, output_dir)}


def score(results: dict, metric: str | None) -> float:
    return results[metric] if metric else results["uniform_loss"] - results["eval_loss"]


def run(quick: bool = False) -> list[dict]:
    rows = []
    for recipe, family, data, steps, metric, floor in MATRIX[:3] if quick else MATRIX:
        ours = train(recipe, family, data, steps, tempfile.mkdtemp())
        before = train(recipe, family, data, steps, tempfile.mkdtemp(), *TRAINER_DEFAULTS)
        name = f"{recipe.__name__} --model_family {family}, {steps} steps"
        rows.append(row(name, metric or "nats below uniform", score(ours, metric), score(before, metric),
                        eval_loss=ours["eval_loss"], eval_loss_trainer_defaults=before["eval_loss"],
                        uniform_loss=ours["uniform_loss"], floor=floor))
        print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    save("training_defaults", run(quick="--quick" in sys.argv), quick="--quick" in sys.argv)
