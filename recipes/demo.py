#!/usr/bin/env python
"""``make demo``: the end-to-end tour on built-in corpora, on CPU, in a few minutes.

tokenizer -> pretrain a tiny decoder (and sample from it) -> pretrain a tiny encoder -> fine-tune three
classifiers (bag of words, LSTM, the pretrained encoder) on stdlib-docs topics -> train an LSTM+attention
and a Transformer translator on number-translation -> export the decoder for the Hub. Ends with a summary
table and writes loss curves to ``<output_dir>/loss_curves.png``.

    python recipes/demo.py [--output_dir runs/demo] [--scale 1.0]

``--scale`` multiplies every step count (0.1 for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402
import pretrain_mlm  # noqa: E402
import share_model  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from nlpseq import load_corpus, train_tokenizer  # noqa: E402

COMMON = ["--report_to", "none", "--save_strategy", "no", "--eval_strategy", "no", "--logging_steps", "10",
          "--seed", "0", "--per_device_eval_batch_size", "64"]


def banner(title: str) -> None:
    print(f"\n{'=' * 100}\n== {title}\n{'=' * 100}", flush=True)


def tokenizers_tour() -> None:
    banner("1. Tokenizers trained on the built-in stdlib-docs corpus")
    texts = list(load_corpus("stdlib-docs")["train"]["text"])
    sample = "Return the number of items in the queue."
    for kind, preset, size in [("bpe", "clm", 4000), ("wordpiece", "mlm", 4000), ("char", "seq2seq", None)]:
        tok = train_tokenizer(texts, kind=kind, vocab_size=size, preset=preset, min_frequency=1)
        ids = tok(sample)["input_ids"]
        print(f"{kind:>9} ({preset:>7}): {len(tok):5d} tokens | {len(ids):2d} ids: "
              f"{' '.join(tok.convert_ids_to_tokens(ids))[:110]}")


def params(run: Path) -> int:
    """Parameters stored in a run's safetensors file (tied weights count once)."""
    with safe_open(run / "model.safetensors", "pt") as f:
        return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output_dir", default="runs/demo")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count")
    args = parser.parse_args(argv)
    out = Path(args.output_dir)
    if out.exists():
        shutil.rmtree(out)

    def steps(n: int) -> str:
        return str(max(2, int(n * args.scale)))

    tokenizers_tour()
    summary, histories = [], {}

    def run(title, module, name, metric, extra):
        banner(title)
        start = time.perf_counter()
        results = module.main([*COMMON, "--output_dir", str(out / name), *extra])
        seconds = time.perf_counter() - start
        summary.append({"model": name, "params": params(out / name), "seconds": seconds, "metric": metric,
                        "value": results[metric]})
        state = json.loads((out / name / "trainer_state.json").read_text())
        histories[name] = [(h["step"], h["loss"]) for h in state["log_history"] if "loss" in h]

    # no learning-rate, batch-size or init flags: every run trains on its size preset's defaults (nlpseq.presets)
    lm = ["--dataset_name", "stdlib-docs", "--config_name", "tiny", "--block_size", "64", "--vocab_size", "2000"]
    run("2. Pretrain a tiny GPT-style decoder by next-token prediction", pretrain_clm, "decoder-clm",
        "eval_perplexity", ["--model_family", "decoder", "--max_steps", steps(400), *lm])
    tok = AutoTokenizer.from_pretrained(out / "decoder-clm")
    model = AutoModelForCausalLM.from_pretrained(out / "decoder-clm")
    prompt = tok("Return the", return_tensors="pt")
    torch.manual_seed(0)
    sample = model.generate(**prompt, max_new_tokens=30, do_sample=True, top_k=20, pad_token_id=tok.pad_token_id)
    print(f"sample: {tok.decode(sample[0], skip_special_tokens=True)!r}")

    run("3. Pretrain a tiny BERT-style encoder by masked-token prediction", pretrain_mlm, "encoder-mlm",
        "eval_perplexity", ["--model_family", "encoder", "--tokenizer_kind", "wordpiece",
                            "--max_steps", steps(300), *lm])

    cls = ["--dataset_name", "stdlib-docs", "--max_length", "128"]
    run("4a. Topic classifier: bag of words (TF-IDF + linear)", finetune_classification, "bow-cls",
        "eval_accuracy", ["--model_family", "bow", "--config_name", "tiny", "--num_train_epochs", "8",
                          "--tokenizer_kind", "wordpiece", "--vocab_size", "4000", *cls])
    run("4b. Topic classifier: LSTM (many-to-one)", finetune_classification, "lstm-cls", "eval_accuracy",
        ["--model_family", "recurrent", "--config_name", "tiny", "--max_steps", steps(300),
         "--tokenizer_kind", "wordpiece", "--vocab_size", "4000", *cls])
    run("4c. Topic classifier: the pretrained encoder, fine-tuned", finetune_classification, "encoder-cls",
        "eval_accuracy", ["--model_family", "encoder", "--model_name_or_path", str(out / "encoder-mlm"),
                          "--max_steps", steps(300), *cls])

    mt = ["--dataset_name", "number-translation", "--source_lang", "en", "--target_lang", "de",
          "--tokenizer_kind", "char", "--vocab_size", "0", "--config_name", "tiny", "--max_length", "96",
          "--max_eval_samples", "200",
          "--predict_with_generate", "true", "--generation_num_beams", "1"]
    run("5a. Translator: LSTM encoder-decoder with attention (English -> German numbers)",
        finetune_translation, "lstm-mt", "eval_exact_match",
        ["--model_family", "recurrent-seq2seq", "--max_steps", steps(500), *mt])
    run("5b. Translator: Transformer encoder-decoder", finetune_translation, "transformer-mt", "eval_exact_match",
        ["--model_family", "transformer-seq2seq", "--max_steps", steps(500), *mt])

    banner("6. Export the decoder as a Hub-ready folder")
    share_model.main(["--run_dir", str(out / "decoder-clm"), "--output_dir", str(out / "decoder-hub"),
                      "--dataset_name", "stdlib-docs"])

    banner("Summary")
    print(f"{'model':<16}{'params':>10}{'time (s)':>10}  metric")
    for row in summary:
        print(f"{row['model']:<16}{row['params']:>10,}{row['seconds']:>10.1f}  {row['metric']} = {row['value']:.4g}")
    try:
        from nlpseq.plotting import plot_loss_curves

        plot_loss_curves(histories).savefig(out / "loss_curves.png", dpi=120, bbox_inches="tight")
        print(f"\nloss curves: {out / 'loss_curves.png'}")
    except ImportError:
        print("\n(matplotlib not installed: `pip install nlpseq[plot]` for the loss-curve figure)")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print("Demo finished.")
    return summary


if __name__ == "__main__":
    main()
