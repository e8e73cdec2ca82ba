"""Encoder-decoder Transformer: train-step speed against transformers' MarianMTModel, and translation quality
against the LSTM seq2seq with attention at equal wall-clock time.

1. Speed: ``from_hf(MarianMTModel)`` gives our model with identical shapes and weights; one train step
   (forward, backward, AdamW) on the same batch, SDPA attention in both. Metric: (source + target) tokens/s;
   ``ratio = ours / Marian``, target >= 1.0.
2. Quality: ``TransformerSeq2SeqForConditionalGeneration`` and ``RecurrentSeq2SeqForConditionalGeneration``
   (bidirectional LSTM encoder, Bahdanau attention) race: one optimizer step each in turn, each charged only its
   own step time, until both have trained for the same number of seconds on English -> German number words below
   a million (char tokenizer). Each model's learning rate decays to zero over its own clock's budget; one race
   per budget (30, 60 and 120 s; 20 s with ``--quick``). Exact match on 300 held-out test numbers (greedy) at 1/4,
   1/2, 3/4 and the end, and the final test loss per token. Metric: final exact match;
   ``ratio = Transformer / LSTM``; the curves are in the JSON.

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


#: the two contenders of the equal-wall-clock race, each tuned on the validation split (exact match of the full
#: budget-sized schedule, 30 s / 60 s / 90-120 s of training; docs/transformer_seq2seq.md lists every try).
#: Transformer: what mattered most is the init scale -- initializer_range = hidden_size ** -0.5 (the fan-in scale
#: of the 2017 paper's embeddings and of Xavier init at this width) instead of BERT's 0.02 lifted 90 s exact match
#: from 0.84 to 0.93 and let the learning rate go up to 1e-2 (0.985); pre-norm, batch 16. Wider (128) or deeper
#: (3 layers) models took fewer steps for less. LSTM (biLSTM encoder + Bahdanau attention): hidden 64 beat 128 at
#: every budget (more steps per second), batch 16 beat 32, learning rate 1e-2 beat 5e-3 and 2e-2.
TRANSFORMER = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                   norm_position="pre", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                   initializer_range=64**-0.5)
TRANSFORMER_TRAINING = dict(learning_rate=1e-2, batch_size=16)
LSTM = dict(cell="lstm", attention="bahdanau", hidden_size=64)
LSTM_TRAINING = dict(learning_rate=1e-2, batch_size=16)


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


class Trainee:
    """One model in a race: AdamW, shuffled batches, and its own training clock.

    The learning rate warms up linearly over ``warmup_steps``, then decays linearly to zero as the model's own
    clock approaches ``budget_seconds`` -- a step-count schedule sized by time, the schedule that does best under
    a fixed budget (Li et al., 2020, "Budgeted Training"). Without the decay, a constant rate ends wherever the
    loss happens to be bouncing (a first version lost 20 points of exact match in its last minute).
    """

    def __init__(self, model, encoded, tokenizer, learning_rate: float, batch_size: int, budget_seconds: float,
                 warmup_steps: int = 100):
        from transformers import DataCollatorForSeq2Seq

        self.model, self.batch_size = model, batch_size
        self.steps, self.seconds = 0, 0.0
        self.collate = DataCollatorForSeq2Seq(tokenizer, model=model)
        self.train = encoded["train"].select_columns(["input_ids", "attention_mask", "labels"])
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda step: min(1.0, (step + 1) / warmup_steps) * max(0.0, 1.0 - self.seconds / budget_seconds))
        self.generator = torch.Generator().manual_seed(0)
        self.batches: list[list[int]] = []

    def step(self) -> None:
        """One optimizer step; only the time spent in it is charged to this model's clock."""
        if not self.batches:
            self.batches = torch.randperm(len(self.train), generator=self.generator).split(self.batch_size)[::-1]
            self.batches = [b.tolist() for b in self.batches]
        index = self.batches.pop()
        start = time.perf_counter()
        self.model.train()
        batch = self.collate([self.train[i] for i in index])
        self.model(**batch).loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.schedule.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.seconds += time.perf_counter() - start
        self.steps += 1


def race(trainees: dict[str, Trainee], seconds: float, checkpoints: list[float], score) -> dict[str, list]:
    """Train every model for ``seconds`` of its own clock, one step each in turn (so load swings on a shared CPU
    hit all of them alike), and score each when its clock passes a checkpoint (scoring is not charged).
    Returns ``{name: [(seconds, steps, score), ...]}``."""
    curves: dict[str, list] = {name: [] for name in trainees}
    while any(t.seconds < seconds for t in trainees.values()):
        for name, trainee in trainees.items():
            if trainee.seconds >= seconds:
                continue
            trainee.step()
            passed = [c for c in checkpoints if c <= trainee.seconds and c > (curves[name] or [(0,)])[-1][0]]
            if passed or trainee.seconds >= seconds:
                curves[name].append((trainee.seconds, trainee.steps, score(trainee.model)))
    return curves


def _test_loss(trainee: Trainee, encoded, limit: int) -> float:
    """Mean cross-entropy per target token on the first ``limit`` test pairs (teacher forcing): unlike exact
    match it keeps separating two models after both translate every number right."""
    model, test = trainee.model.eval(), encoded["test"].select_columns(["input_ids", "attention_mask", "labels"])
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, min(limit, len(test)), 64):
            batch = trainee.collate([test[i] for i in range(start, min(start + 64, limit, len(test)))])
            tokens = int((batch["labels"] != -100).sum())
            total += float(model(**batch).loss) * tokens
            count += tokens
    return total / count


def equal_wall_clock(seconds: float, num_examples: int = 6000, max_value: int = 999_999, test_limit: int = 300
                     ) -> dict:
    """Race the Transformer and the LSTM seq2seq for ``seconds`` of training each; exact match on the test split."""
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
    transformer = TransformerSeq2SeqForConditionalGeneration(TransformerSeq2SeqConfig(**TRANSFORMER, **specials))
    torch.manual_seed(0)
    lstm = RecurrentSeq2SeqForConditionalGeneration(RecurrentSeq2SeqConfig(**LSTM, **specials))
    trainees = {"transformer": Trainee(transformer, encoded, tokenizer, budget_seconds=seconds, **TRANSFORMER_TRAINING),
                "lstm": Trainee(lstm, encoded, tokenizer, budget_seconds=seconds, **LSTM_TRAINING)}
    checkpoints = [seconds * f for f in (0.25, 0.5, 0.75)]
    curves = race(trainees, seconds, checkpoints, lambda m: _exact_match(m, tokenizer, data, "test", test_limit))
    final = {name: curve[-1][2] for name, curve in curves.items()}
    loss = {name: _test_loss(trainee, encoded, test_limit) for name, trainee in trainees.items()}
    return row(f"number-translation exact match after {seconds:.0f}s of training each (numbers < {max_value + 1})",
               "exact match", final["transformer"], final["lstm"], target=1.0,
               reference_impl="RecurrentSeq2SeqForConditionalGeneration (LSTM + Bahdanau attention)",
               test_loss_ours=loss["transformer"], test_loss_reference=loss["lstm"],
               steps_ours=trainees["transformer"].steps, steps_reference=trainees["lstm"].steps,
               parameters_ours=transformer.num_parameters(), parameters_reference=lstm.num_parameters(),
               curve_ours=curves["transformer"], curve_reference=curves["lstm"], test_examples=test_limit)


def run(quick: bool) -> list[dict]:
    rows = [train_step_speed(batch_size=16, length=32, hidden_size=128, layers=2, rounds=3 if quick else 10)]
    if not quick:
        rows.append(train_step_speed(batch_size=32, length=64, hidden_size=256, layers=3, rounds=8))
    for seconds in (20,) if quick else (30, 60, 120):       # each budget is its own race with its own schedule
        rows.append(equal_wall_clock(seconds=seconds, test_limit=100 if quick else 300))
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    save("transformer_seq2seq", run(quick), quick)
