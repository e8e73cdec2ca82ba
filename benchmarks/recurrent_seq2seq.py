"""LSTM seq2seq on ``number-translation``: attention vs no attention at equal training steps.

Each variant is trained from the same seed with ``Seq2SeqTrainer`` for the same number of steps on
English -> German number words (char tokenizer), then decodes the held-out test numbers greedily; the
metric is exact match. ``ratio = attention / no attention`` (higher is better for attention).

    python -m benchmarks.recurrent_seq2seq [--quick] [--alignment docs/figures/recurrent_seq2seq_alignment.png]

``--alignment PATH`` instead trains the quick Luong model and draws its attention for one number.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import torch

from benchmarks.common import row, save

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def train_and_score(attention: str, max_steps: int, max_value: int = 999, num_examples: int = 1000,
                    hidden_size: int = 64, batch_size: int = 32, learning_rate: float = 1e-2, seed: int = 0,
                    **config) -> dict:
    """Train one variant; return exact match on the test split, seconds, the number of test examples, a few
    translations, and the trained ``model`` and ``tokenizer``."""
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments, set_seed

    from nlpseq import RecurrentSeq2SeqConfig, RecurrentSeq2SeqForConditionalGeneration, load_corpus, train_tokenizer
    from nlpseq.data import prepare_translation

    data = load_corpus("number-translation", num_examples=num_examples, max_value=max_value, seed=seed)
    texts = [t for pair in data["train"]["translation"] for t in pair.values()]
    tokenizer = train_tokenizer(texts, kind="char", vocab_size=None, preset="seq2seq")
    encoded = prepare_translation(data, tokenizer)
    set_seed(seed)
    model = RecurrentSeq2SeqForConditionalGeneration(RecurrentSeq2SeqConfig(
        attention=attention, vocab_size=len(tokenizer), hidden_size=hidden_size, embedding_size=hidden_size // 2,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.bos_token_id, **config))
    model.generation_config.max_length = max(len(x) for x in encoded["test"]["labels"]) + 2
    with tempfile.TemporaryDirectory() as tmp:
        args = Seq2SeqTrainingArguments(
            output_dir=tmp, max_steps=max_steps, per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=64, learning_rate=learning_rate, lr_scheduler_type="linear",
            warmup_steps=max_steps // 20, save_strategy="no", report_to=[], logging_strategy="no",
            disable_tqdm=True, seed=seed, predict_with_generate=True, use_cpu=True)
        trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=encoded["train"],
                                 data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                                 processing_class=tokenizer)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
        predictions = trainer.predict(encoded["test"]).predictions
    predictions[predictions < 0] = tokenizer.pad_token_id
    hyps = tokenizer.batch_decode(predictions, skip_special_tokens=True)
    refs = [pair["de"] for pair in data["test"]["translation"]]
    exact = sum(h.strip() == r for h, r in zip(hyps, refs)) / len(refs)
    return {"exact_match": exact, "train_seconds": seconds, "num_test": len(refs), "examples": hyps[:3],
            "model": model, "tokenizer": tokenizer}


def save_alignment(path: str, source: str = "three hundred forty-two") -> None:
    """Train the quick Luong model and plot its attention while translating ``source``."""
    import matplotlib

    matplotlib.use("Agg")
    from nlpseq.plotting import plot_alignment

    trained = train_and_score("luong", max_steps=300)
    model, tokenizer = trained["model"].eval(), trained["tokenizer"]
    inputs = tokenizer([source], return_tensors="pt")
    generated = model.generate(**inputs, num_beams=1)
    weights = model(**inputs, decoder_input_ids=generated[:, :-1], output_attentions=True).cross_attentions[0][0]
    target = tokenizer.decode(generated[0], skip_special_tokens=True)
    figure = plot_alignment(weights, tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]),
                            tokenizer.convert_ids_to_tokens(generated[0, 1:]),
                            title=f"Luong attention: {source!r} -> {target!r}")
    figure.savefig(path, dpi=120, bbox_inches="tight")


def run(quick: bool) -> list[dict]:
    """Both variants at equal steps; quick: 3-digit numbers (300 steps), full: up to 6 digits (600 steps)."""
    torch.manual_seed(0)
    setup = dict(max_steps=300, max_value=999, num_examples=1000) if quick else \
        dict(max_steps=600, max_value=999_999, num_examples=6000)
    results = {attention: train_and_score(attention, **setup) for attention in ("bahdanau", "luong", "none")}
    rows = []
    for attention in ("bahdanau", "luong"):
        rows.append(row(f"exact match, {attention} vs no attention ({setup['max_steps']} steps, numbers <= "
                        f"{setup['max_value']})", "test exact match", results[attention]["exact_match"],
                        results["none"]["exact_match"], target=1.0, steps=setup["max_steps"],
                        train_seconds=results[attention]["train_seconds"],
                        reference_train_seconds=results["none"]["train_seconds"],
                        num_test=results[attention]["num_test"]))
    return rows


if __name__ == "__main__":
    if "--alignment" in sys.argv:
        save_alignment(sys.argv[sys.argv.index("--alignment") + 1])
    else:
        quick = "--quick" in sys.argv
        rows = run(quick)
        for r in rows:
            print(r)
        print(save("recurrent_seq2seq", rows, quick))
