"""The textbook long-term dependency claim: a plain RNN forgets what it saw k steps ago, LSTM/GRU gates hold it
longer, and self-attention reaches any position in one step, so its accuracy does not depend on k; and its last
chapter's: a selective state-space model (Mamba) chooses per token what to keep (a small step Δ keeps the state,
a large one writes the input), so it holds the signal over distance like a gated RNN, without a tanh between
steps.

Task: the built-in ``long-range`` corpus (the label is the one signal token placed exactly k steps before the
end, among random distractors), with k mixed in one training set. Each model is a sequence classifier of about
the same parameter count (the hidden size is chosen to hit the budget), trained once with the HF ``Trainer``
for the same number of steps and seed, then scored per k on the test split. Chance = 1 / num_classes.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedModel, Trainer, TrainingArguments

from experiments.common import save
from nlpseq import (
    EncoderConfig,
    EncoderForSequenceClassification,
    RecurrentConfig,
    RecurrentForSequenceClassification,
    SelectiveSSMConfig,
    SelectiveSSMForSequenceClassification,
    load_corpus,
    prepare_classification,
    train_tokenizer,
)

DISTANCES = [2, 4, 8, 16, 32, 48, 64]
NUM_CLASSES, NUM_EXAMPLES = 8, 20_000   # 16k training rows: 600 x 32 steps see each about once
BUDGET = 35_000            # parameters per model
STEPS, BATCH, LR = 600, 32, 3e-3


def recurrent(cell: str, tokenizer) -> Callable[[int], PreTrainedModel]:
    """Builder hidden_size -> a one-layer recurrent classifier reading the final state."""
    return lambda hidden: RecurrentForSequenceClassification(RecurrentConfig(
        cell=cell, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, hidden_size=hidden,
        num_labels=NUM_CLASSES, classifier_pooling="last"))


def transformer(tokenizer) -> Callable[[int], PreTrainedModel]:
    """Builder hidden_size -> a two-layer Transformer encoder classifier ([CLS] pooling, sinusoidal positions)."""
    return lambda hidden: EncoderForSequenceClassification(EncoderConfig(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, hidden_size=hidden, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=2 * hidden, max_position_embeddings=128, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, num_labels=NUM_CLASSES))


def selective_ssm(tokenizer) -> Callable[[int], PreTrainedModel]:
    """Builder hidden_size -> a two-layer selective SSM classifier reading the last real token."""
    return lambda hidden: SelectiveSSMForSequenceClassification(SelectiveSSMConfig(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, hidden_size=hidden, num_hidden_layers=2,
        num_labels=NUM_CLASSES))


def at_budget(build: Callable[[int], PreTrainedModel], budget: int = BUDGET) -> PreTrainedModel:
    """The model whose parameter count is closest to ``budget`` (hidden sizes 8, 12, ..., 256)."""
    counts = {hidden: build(hidden).num_parameters() for hidden in range(8, 257, 4)}
    best = min(counts, key=lambda hidden: abs(counts[hidden] - budget))
    torch.manual_seed(0)
    return build(best)


def accuracy_per_k(trainer: Trainer, test, ks: np.ndarray) -> list[float]:
    """Test accuracy at each distance (``ks[i]`` is the distance of test row ``i``)."""
    predictions = trainer.predict(test)
    correct = predictions.predictions.argmax(-1) == predictions.label_ids
    return [float(correct[ks == k].mean()) for k in DISTANCES]


def train(model: PreTrainedModel, data, tokenizer, output_dir: str) -> Trainer:
    args = TrainingArguments(output_dir=output_dir, max_steps=STEPS, per_device_train_batch_size=BATCH,
                             per_device_eval_batch_size=256, learning_rate=LR, warmup_steps=30,
                             lr_scheduler_type="cosine", logging_steps=100, save_strategy="no", report_to=[],
                             use_cpu=True, seed=0, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=data["train"],
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer)
    trainer.train()
    return trainer


def run() -> dict:
    start = time.perf_counter()
    corpus = load_corpus("long-range", k=DISTANCES, num_examples=NUM_EXAMPLES, num_classes=NUM_CLASSES)
    tokenizer = train_tokenizer(corpus["train"]["text"], kind="wordpiece", vocab_size=51, preset="mlm")
    data = prepare_classification(corpus, tokenizer)    # keeps only input_ids, attention_mask, labels (row order)
    builders = {"RNN": recurrent("rnn", tokenizer), "LSTM": recurrent("lstm", tokenizer),
                "GRU": recurrent("gru", tokenizer), "Transformer": transformer(tokenizer),
                "SSM": selective_ssm(tokenizer)}
    results = {}
    for name, build in builders.items():
        model = at_budget(build)
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as output_dir:
            trainer = train(model, data, tokenizer, output_dir)
            results[name] = {"params": model.num_parameters(), "hidden_size": model.config.hidden_size,
                             "seconds": time.perf_counter() - began,
                             "accuracy": accuracy_per_k(trainer, data["test"], np.array(corpus["test"]["k"]))}
        print(name, results[name], flush=True)
    wall = time.perf_counter() - start

    chance = 1 / NUM_CLASSES
    figure, ax = plt.subplots(figsize=(7, 4.5))
    for (name, r), style in zip(results.items(), ["o-", "s--", "^-.", "D:", "v-"]):   # LSTM and GRU may overlap
        ax.plot(DISTANCES, r["accuracy"], style, label=f"{name} ({r['params'] / 1000:.1f}k params)")
    ax.axhline(chance, color="grey", linestyle="--", label="chance")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="dependency distance k (tokens)", ylabel="test accuracy", ylim=(0, 1.05),
           title=f"Recall the token k steps back ({STEPS} training steps, same seed)")
    ax.set_xticks(DISTANCES, [str(k) for k in DISTANCES])
    ax.legend()

    header = " | ".join(f"k={k}" for k in DISTANCES)
    rows = "\n".join(f"| {name} | {r['params']:,} (h={r['hidden_size']}) | "
                     + " | ".join(f"{a:.2f}" for a in r["accuracy"]) + f" | {r['seconds']:.0f} s |"
                     for name, r in results.items())
    acc = {name: dict(zip(DISTANCES, r["accuracy"])) for name, r in results.items()}
    reach = {name: max((k for k in DISTANCES if acc[name][k] >= 0.9), default=None) for name in acc}
    gated = min(min(acc["LSTM"].values()), min(acc["GRU"].values()))
    first, last = DISTANCES[0], DISTANCES[-1]
    rnn_below = [k for k in DISTANCES if acc["RNN"][k] < min(acc[name][k] for name in ("LSTM", "GRU"))]
    rnn_decays = acc["RNN"][first] - acc["RNN"][last] >= 0.1
    rnn_forgets = rnn_decays and acc["RNN"][last] < 0.5
    attention = acc["Transformer"].values()
    flat = max(attention) - min(attention) < 0.1
    converged = "" if min(attention) >= 0.95 else ", but not converged (it learns slower than the gated cells here)"
    ssm = acc["SSM"].values()
    claims = [rnn_forgets, gated >= 0.9, flat, min(ssm) >= 0.9]
    word = "confirmed" if all(claims) else "partly confirmed" if any(claims) or rnn_decays else "not confirmed"
    rnn_note = ("it forgets, as claimed" if rnn_forgets else
                "it degrades with distance but stays far above chance, so 'forgets' is too strong at this scale"
                if rnn_decays else "no clear decay with distance")
    verdict = f"""
| model | parameters | {header} | train time |
|---|---|{"---|" * len(DISTANCES)}---|
{rows}

The textbook claims (1) a plain RNN forgets a word ~10-20 steps back, (2) LSTM gates link words 50+ apart,
(3) attention reaches any distance directly, (4) a selective SSM holds what it chose to keep over any distance.
**Verdict: {word}** ({sum(claims)} of {len(claims)} hold fully at this budget).
Largest k with accuracy >= 0.9: {', '.join(f'{n} {k}' for n, k in reach.items())} (None = not even k = {first});
chance is {chance:.3f}. (1) The RNN goes from {acc['RNN'][first]:.2f} at k = {first} to {acc['RNN'][last]:.2f} at
k = {last} and is below both gated cells at k = {rnn_below or 'none'}: {rnn_note}. (2) LSTM and GRU stay at
>= {gated:.2f} up to k = {last}. (3) The Transformer's accuracy is between {min(attention):.2f} and
{max(attention):.2f} at every k: {'flat' if flat else 'not flat'} in k{converged}. (4) The selective SSM is
between {min(ssm):.2f} and {max(ssm):.2f} ({acc['SSM'][first]:.2f} at k = {first}, {acc['SSM'][last]:.2f} at
k = {last}).
The task only needs the one `s<c>` token, which attention can find by content wherever it sits.
One run per model (seed 0 only: short runs are seed-sensitive), {STEPS} steps of batch {BATCH}, AdamW lr {LR},
cosine schedule; {NUM_EXAMPLES:,} examples (80/10/10), {DISTANCES[-1] + 1} words + [CLS]/[SEP] per sequence,
{NUM_CLASSES} classes, 16 distractor words; one-layer recurrent models, two-layer Transformer and SSM; hidden size
picked per model to get closest to {BUDGET:,} parameters. Whole script: {wall:.0f} s.
"""
    save("long_range", "Long-term dependencies: accuracy vs distance k", figure, verdict,
         {"distances": DISTANCES, "chance": chance, "wall_seconds": wall, **results})
    return results


if __name__ == "__main__":
    run()
