"""Encoder-decoder Transformer: train-step speed against transformers' MarianMTModel, and translation quality
against the LSTM seq2seq with attention at equal wall-clock time.

1. Speed: ``from_hf(MarianMTModel)`` gives our model with identical shapes and weights; one train step
   (forward, backward, AdamW) on the same batch, SDPA attention in both. Metric: (source + target) tokens/s;
   ``ratio = ours / Marian``, target >= 1.0.
2. Quality: ``TransformerSeq2SeqForConditionalGeneration`` and ``RecurrentSeq2SeqForConditionalGeneration``
   (bidirectional LSTM encoder, Bahdanau attention) each train for the same number of wall-clock seconds on
   English -> German number words below a million (char tokenizer, same batches), then decode 300 held-out test
   numbers greedily.
   Metric: exact match; ``ratio = Transformer / LSTM``.

    python -m benchmarks.transformer_seq2seq [--quick]
"""

from __future__ import annotations

import os
import sys
import time

import torch

from benchmarks.common import interleaved, row, save

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def train_step_speed(batch_size: int, length: int, hidden_size: int, layers: int, rounds: int) -> dict:
    """Tokens/s of one optimizer step for MarianMTModel and its nlpseq conversion at identical shapes."""
    from transformers import MarianConfig, MarianMTModel

    from nlpseq.convert import from_hf

    torch.manual_seed(0)
    marian = MarianMTModel(MarianConfig(
        vocab_size=1000, d_model=hidden_size, encoder_layers=layers, decoder_layers=layers,
        encoder_attention_heads=hidden_size // 64, decoder_attention_heads=hidden_size // 64,
        encoder_ffn_dim=4 * hidden_size, decoder_ffn_dim=4 * hidden_size, max_position_embeddings=512,
        pad_token_id=0, eos_token_id=2, decoder_start_token_id=0, scale_embedding=True, attn_implementation="sdpa"))
    ours = from_hf(marian)
    source = torch.randint(3, 1000, (batch_size, length))
    labels = torch.randint(3, 1000, (batch_size, length))
    decoder_input_ids = torch.cat([torch.zeros(batch_size, 1, dtype=torch.long), labels[:, :-1]], dim=1)

    def stepper(model):
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            loss = model(input_ids=source, decoder_input_ids=decoder_input_ids, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return step

    tokens = 2 * batch_size * length
    times = interleaved({"ours": stepper(ours), "marian": stepper(marian)}, rounds=rounds)
    ours_time, marian_time = times["ours"]["best"], times["marian"]["best"]
    return row(f"train step B{batch_size} T{length} d{hidden_size} L{layers}+{layers}", "tokens/s",
               tokens / ours_time, tokens / marian_time, target=1.0, reference_impl="transformers MarianMTModel",
               median_ratio=times["marian"]["median"] / times["ours"]["median"])


def _number_data(num_examples: int, max_value: int):
    from nlpseq import load_corpus, train_tokenizer
    from nlpseq.data import prepare_translation

    data = load_corpus("number-translation", num_examples=num_examples, max_value=max_value, seed=0)
    texts = [t for pair in data["train"]["translation"] for t in pair.values()]
    tokenizer = train_tokenizer(texts, kind="char", vocab_size=None, preset="seq2seq")
    return data, tokenizer, prepare_translation(data, tokenizer)


def _exact_match(model, tokenizer, data, split: str, limit: int) -> float:
    model.eval()
    pairs = data[split]["translation"][:limit]
    hits = 0
    for start in range(0, len(pairs), 64):
        chunk = pairs[start:start + 64]
        batch = tokenizer([p["en"] for p in chunk], return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model.generate(**batch, max_new_tokens=80, do_sample=False)
        hyps = tokenizer.batch_decode(out, skip_special_tokens=True)
        hits += sum(h.strip() == p["de"] for h, p in zip(hyps, chunk))
    return hits / len(pairs)


def train_for(model, encoded, tokenizer, seconds: float, learning_rate: float, batch_size: int = 32,
              warmup_steps: int = 100) -> int:
    """Train with AdamW (linear warmup, then constant) on shuffled batches until ``seconds`` of wall-clock time
    are spent; return the steps."""
    from transformers import DataCollatorForSeq2Seq

    collate = DataCollatorForSeq2Seq(tokenizer, model=model)
    train = encoded["train"].remove_columns([c for c in encoded["train"].column_names
                                             if c not in ("input_ids", "attention_mask", "labels")])
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup_steps))
    generator = torch.Generator().manual_seed(0)
    model.train()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for index in torch.randperm(len(train), generator=generator).split(batch_size):
            batch = collate([train[i] for i in index.tolist()])
            model(**batch).loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            warmup.step()
            optimizer.zero_grad(set_to_none=True)
            steps += 1
            if time.perf_counter() - start >= seconds:
                break
    return steps


def equal_wall_clock(seconds: float, num_examples: int = 6000, max_value: int = 999_999, test_limit: int = 300
                     ) -> dict:
    from nlpseq import (
        RecurrentSeq2SeqConfig,
        RecurrentSeq2SeqForConditionalGeneration,
        TransformerSeq2SeqConfig,
        TransformerSeq2SeqForConditionalGeneration,
    )

    data, tokenizer, encoded = _number_data(num_examples, max_value)
    specials = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                    bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                    decoder_start_token_id=tokenizer.bos_token_id)
    torch.manual_seed(0)
    transformer = TransformerSeq2SeqForConditionalGeneration(TransformerSeq2SeqConfig(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **specials))
    torch.manual_seed(0)
    lstm = RecurrentSeq2SeqForConditionalGeneration(RecurrentSeq2SeqConfig(
        cell="lstm", attention="bahdanau", hidden_size=128, **specials))
    steps = {"transformer": train_for(transformer, encoded, tokenizer, seconds, learning_rate=3e-3),
             "lstm": train_for(lstm, encoded, tokenizer, seconds, learning_rate=1e-2)}
    scores = {name: _exact_match(model, tokenizer, data, "test", test_limit)
              for name, model in (("transformer", transformer), ("lstm", lstm))}
    return row(f"number-translation exact match after {seconds:.0f}s of training each (numbers < {max_value + 1})",
               "exact match", scores["transformer"], scores["lstm"], target=1.0,
               reference_impl="RecurrentSeq2SeqForConditionalGeneration (LSTM + Bahdanau attention)",
               steps_ours=steps["transformer"], steps_reference=steps["lstm"],
               parameters_ours=transformer.num_parameters(), parameters_reference=lstm.num_parameters(),
               test_examples=test_limit)


def run(quick: bool) -> list[dict]:
    rows = [train_step_speed(batch_size=16, length=32, hidden_size=128, layers=2, rounds=3 if quick else 10)]
    if not quick:
        rows.append(train_step_speed(batch_size=32, length=64, hidden_size=256, layers=3, rounds=8))
    rows.append(equal_wall_clock(seconds=60 if quick else 180))
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    save("transformer_seq2seq", run(quick), quick)
