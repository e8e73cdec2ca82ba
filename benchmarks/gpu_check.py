"""The GPU check: one prepared run, at most 10 minutes on one CUDA GPU, one summary table.

    bash benchmarks/gpu_check.sh                       # the wrapper: picks python, wheels, PYTHONPATH
    python -m benchmarks.gpu_check --data_dir DIR      # the same, directly

1. every recipe (each family x task) for 50 steps in bf16 on the built-in corpora: steps/s and the loss;
2. the decoder's model-FLOPs utilisation at GPT-2 small's shape (``benchmarks.transformer.decoder_mfu``);
3. Tiny Shakespeare for 3 minutes at nanoGPT's GPU shape (6 layers x 384, 6 heads, context 256, batch 64,
   dropout 0.2, lr 1e-3; nanoGPT reports val 1.47 in about 3 minutes on an A100), through
   ``recipes/pretrain_clm.py`` with a wall-clock budget, evaluated every 250 steps, the best checkpoint kept;
   ``--stages shakespeare_fixed_blocks``: the same with ``--shift_blocks false`` (the ablation);
4. (``--stages nanogpt --nanogpt_dir DIR``) the reference for 3: nanoGPT's own ``train.py`` with its
   ``config/train_shakespeare_char.py``, from a clone the user gives, for the same wall-clock budget.

Measured on an H200 (``benchmarks/results/gpu/gpu_check.md``): all recipes run; MFU 0.234 vs GPT-2's 0.157;
Tiny Shakespeare best val 1.456 in 37 s of training (fixed blocks 1.497; nanoGPT 1.469 after 61 s).

Writes ``gpu_check.json`` and ``gpu_check.md`` into ``--output_dir`` (default ``$OUT`` when set, else
``benchmarks/results/gpu``) after every row, so a run cut short keeps what it measured. Without CUDA it says so and
exits with status 2 before any work.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
NEEDS_CUDA = ("benchmarks/gpu_check needs a CUDA GPU: torch.cuda.is_available() is False on this machine. "
              "Run it where a GPU is lent (the device tool's `run`), e.g. `bash benchmarks/gpu_check.sh`.")
COMMON = ["--bf16", "true", "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true", "--seed", "0",
          "--logging_steps", "10", "--per_device_eval_batch_size", "64", "--max_eval_samples", "256"]
CLS = ["--dataset_name", "stdlib-docs", "--max_length", "128", "--vocab_size", "4000"]
LM = ["--dataset_name", "stdlib-docs", "--block_size", "128", "--vocab_size", "4000"]
MT = ["--dataset_name", "number-translation", "--tokenizer_kind", "char", "--vocab_size", "0",
      "--predict_with_generate", "true", "--max_length", "64"]
#: (recipe module, family, data flags, metric reported)
RECIPES = [("pretrain_clm", "decoder", LM, "eval_loss"), ("pretrain_clm", "recurrent", LM, "eval_loss"),
           ("pretrain_clm", "ssm", LM, "eval_loss"),
           ("pretrain_mlm", "encoder", ["--tokenizer_kind", "wordpiece", *LM], "eval_loss"),
           *[("finetune_classification", f, CLS, "eval_accuracy")
             for f in ("bow", "recurrent", "encoder", "decoder", "ssm")],
           ("finetune_translation", "recurrent-seq2seq", MT, "eval_exact_match"),
           ("finetune_translation", "transformer-seq2seq", MT, "eval_exact_match")]
#: nanoGPT's config/train_shakespeare_char.py shape, as recipe flags
SHAKESPEARE = ["--model_family", "decoder", "--config_name", "small", "--config_overrides",
               "hidden_size=384,num_hidden_layers=6,num_attention_heads=6,intermediate_size=1536,"
               "max_position_embeddings=257,hidden_dropout_prob=0.2,attention_probs_dropout_prob=0.2",
               "--tokenizer_kind", "char", "--vocab_size", "0", "--sample_by", "document", "--block_size", "257",
               "--per_device_train_batch_size", "64", "--learning_rate", "1e-3", "--max_steps", "5000",
               "--warmup_steps", "100", "--lr_scheduler_type", "cosine_with_min_lr",
               "--lr_scheduler_kwargs", '{"min_lr": 1e-4}', "--adam_beta2", "0.99", "--weight_decay", "0.1",
               "--eval_strategy", "steps", "--eval_steps", "250", "--save_strategy", "steps", "--save_steps", "250",
               "--save_total_limit", "1", "--load_best_model_at_end", "true", "--metric_for_best_model", "eval_loss",
               "--dataloader_num_workers", "4"]


def run_recipes(steps: int, work: Path) -> list[dict]:
    sys.path.insert(0, str(ROOT / "recipes"))
    rows = []
    for module_name, family, data, metric in RECIPES:
        module = __import__(module_name)
        start = time.perf_counter()
        try:
            results = module.main([*COMMON, *data, "--model_family", family, "--max_steps", str(steps),
                                   "--output_dir", str(work / f"{module_name}-{family}")])
            rows.append({"check": f"{module_name} --model_family {family}", "steps": steps,
                         "steps_per_s": steps / results["train_runtime"], "metric": metric,
                         "value": results[metric], "seconds": time.perf_counter() - start})
        except Exception as error:  # one failing recipe must not hide the others' results
            rows.append({"check": f"{module_name} --model_family {family}", "error": repr(error)[:300]})
        print(rows[-1], flush=True)
    return rows


def run_mfu() -> list[dict]:
    from benchmarks.transformer import decoder_mfu

    result = decoder_mfu(torch.cuda.get_device_name(0))
    if result is None:
        return [{"check": "decoder MFU", "error": f"no bf16 peak known for {torch.cuda.get_device_name(0)}"}]
    return [{"check": result["name"], "metric": f"MFU (GPT-2: {result['reference_mfu']:.3f})", "value": result["mfu"],
             "reference_mfu": result["reference_mfu"], "ratio_to_gpt2": result["ratio"],
             "tokens_per_s": result["tokens_per_second"]}]


def run_shakespeare(data_dir: Path, minutes: float, work: Path, shift_blocks: bool = True) -> list[dict]:
    """nanoGPT's GPU configuration through ``recipes/pretrain_clm.py``: evaluated every 250 steps, the best
    checkpoint kept (as nanoGPT keeps its best), for ``minutes`` of training or its 5,000 steps."""
    sys.path.insert(0, str(ROOT / "recipes"))
    import pretrain_clm

    from benchmarks.quality.run import EvalClock
    from nlpseq.training import TimeLimitCallback

    check = f"Tiny Shakespeare 6x384 ctx 256, {minutes:g} min, shift_blocks {str(shift_blocks).lower()}"
    text = data_dir / "tinyshakespeare" / "input.txt"
    if not text.is_file():
        return [{"check": check, "error": f"{text} not found: pass --data_dir"}]
    clock, start = EvalClock(), time.perf_counter()
    results = pretrain_clm.main([*COMMON[:-2], *SHAKESPEARE, "--dataset_name", str(text), "--shift_blocks",
                                 str(shift_blocks).lower(), "--output_dir", str(work / check.replace(" ", "_"))],
                                callbacks=[TimeLimitCallback(minutes), clock])
    evals = [{"step": p["step"], "val": round(p["eval_loss"], 4), "train_seconds": round(p["train_seconds"], 1)}
             for p in clock.points]  # train_seconds: evaluations excluded
    return [{"check": check, "metric": "best val loss", "value": results["eval_loss"], "epochs": results.get("epoch"),
             "train_runtime": results.get("train_runtime"), "seconds": time.perf_counter() - start, "evals": evals}]


def run_nanogpt(nanogpt_dir: Path | None, data_dir: Path, minutes: float, work: Path) -> list[dict]:
    """nanoGPT's ``train.py config/train_shakespeare_char.py`` (its defaults: bf16, ``torch.compile``, an
    evaluation of 200 batches every 250 steps), stopped after ``minutes`` of wall time from its launch; its
    validation losses are read from its log as they are printed, and the best is reported (the one it saves)."""
    check = f"nanoGPT train_shakespeare_char.py, {minutes:g} min wall (reference)"
    if nanogpt_dir is None or not (nanogpt_dir / "train.py").is_file():
        return [{"check": check, "error": f"no train.py in --nanogpt_dir {nanogpt_dir}"}]
    prepared = nanogpt_dir / "data" / "shakespeare_char"
    if not (prepared / "input.txt").is_file():  # its prepare.py would download it
        (prepared / "input.txt").write_bytes((data_dir / "tinyshakespeare" / "input.txt").read_bytes())
    subprocess.run([sys.executable, "prepare.py"], cwd=prepared, check=True, capture_output=True)
    evals, last_lines, start = [], deque(maxlen=5), time.perf_counter()
    with subprocess.Popen([sys.executable, "-u", "train.py", "config/train_shakespeare_char.py",
                           f"--out_dir={work / 'nanogpt'}"], cwd=nanogpt_dir, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as train:
        for line in train.stdout:
            last_lines.append(line.rstrip())
            if match := re.match(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)", line):
                evals.append({"step": int(match[1]), "val": float(match[3]),
                              "seconds": round(time.perf_counter() - start, 1)})
                print(evals[-1], flush=True)
            if time.perf_counter() - start > minutes * 60:
                train.kill()
                break
    if not evals:
        return [{"check": check, "error": "no validation loss; its last lines: " + " / ".join(last_lines)}]
    best = min(evals, key=lambda e: e["val"])  # nanoGPT saves its best-validation checkpoint
    return [{"check": check, "metric": "best val loss", "value": best["val"], "best_step": best["step"],
             "best_seconds": best["seconds"], "steps": evals[-1]["step"], "seconds": evals[-1]["seconds"],
             "evals": evals}]


def summary(rows: list[dict]) -> str:
    lines = ["| check | metric | value | steps/s | seconds |", "|---|---|---|---|---|"]
    for r in rows:
        value = r.get("error") or f"{r['value']:.4g}"
        lines.append(f"| {r['check']} | {r.get('metric', '')} | {value} | {r.get('steps_per_s', 0):.1f} | "
                     f"{r.get('seconds', 0):.0f} |")
    return "\n".join(lines)


def save(rows: list[dict], output_dir: Path) -> str:
    """Write ``gpu_check.json`` / ``gpu_check.md`` (each time a row lands) and return the table."""
    table = summary(rows)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "gpu_check.json").write_text(json.dumps(
        {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": rows}, indent=2))
    (output_dir / "gpu_check.md").write_text(table + "\n")
    return table


STAGES = ("recipes", "mfu", "shakespeare", "shakespeare_fixed_blocks", "nanogpt")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", type=Path, default=Path(os.environ.get("NLPSEQ_DATA", ROOT.parent / "shared/data")))
    p.add_argument("--output_dir", type=Path, default=Path(os.environ.get("OUT") or ROOT / "benchmarks/results/gpu"))
    p.add_argument("--steps", type=int, default=50, help="steps per recipe")
    p.add_argument("--minutes", type=float, default=3.0, help="Tiny Shakespeare training budget")
    p.add_argument("--stages", default="recipes,mfu,shakespeare", help=f"comma-separated, from {', '.join(STAGES)}")
    p.add_argument("--nanogpt_dir", type=Path, help="a clone of karpathy/nanoGPT, for the nanogpt stage")
    args = p.parse_args(argv)
    stages = args.stages.split(",")
    if unknown := set(stages) - set(STAGES):
        p.error(f"--stages {args.stages}: unknown {sorted(unknown)}; choose from {', '.join(STAGES)}")
    if not torch.cuda.is_available():
        print(NEEDS_CUDA, file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="gpu_check-"))
    runs = {"recipes": lambda: run_recipes(args.steps, work), "mfu": run_mfu,
            "shakespeare": lambda: run_shakespeare(args.data_dir, args.minutes, work),
            "shakespeare_fixed_blocks": lambda: run_shakespeare(args.data_dir, args.minutes, work, shift_blocks=False),
            "nanogpt": lambda: run_nanogpt(args.nanogpt_dir, args.data_dir, args.minutes, work)}
    rows: list[dict] = []
    for stage in stages:
        rows += runs[stage]()
        table = save(rows, args.output_dir)
    print(f"\nGPU check on {torch.cuda.get_device_name(0)} (torch {torch.__version__})\n{table}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
