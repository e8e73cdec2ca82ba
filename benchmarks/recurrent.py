"""Train-step throughput of the recurrent language model.

Rows (tokens/s of a full train step: embeddings -> recurrent stack -> tied output -> cross-entropy -> backward
-> AdamW step):

- ``fused`` ``RecurrentForCausalLM`` vs a bare ``nn.Embedding + torch.nn.LSTM/GRU/RNN + nn.Linear`` model of the
  same shape (target >= 0.95x: our layer adds only bookkeeping around the very same kernel);
- the same with a right-padded batch (our attention_mask -> packed sequence vs the bare model packing itself);
- ``eager`` (our cells in a Python loop) vs ``fused`` (reported, no target; 2-4x slower is expected on CPU).

Timings interleave the contenders step by step and keep each one's best step, which is robust to other
processes sharing the CPU. ``python -m benchmarks.recurrent [--quick]``.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from benchmarks.common import interleaved, row, save
from nlpseq import RecurrentConfig, RecurrentForCausalLM


class BareLM(nn.Module):
    """The reference: what one would write with torch.nn alone (tied embeddings, packed sequences for padding)."""

    def __init__(self, cell: str, vocab_size: int, hidden_size: int, num_layers: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden_size)
        kernel = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = kernel(hidden_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed(input_ids)
        if lengths is None:
            out, _ = self.rnn(x)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=input_ids.shape[1])
        return self.head(out)


def lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, forward) -> None:
    optimizer.zero_grad(set_to_none=True)
    forward().backward()
    optimizer.step()


def compare(cell: str, batch: int, length: int, hidden: int, layers: int, vocab: int, rounds: int,
            with_eager: bool) -> list[dict]:
    torch.manual_seed(0)
    config = RecurrentConfig(cell=cell, vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers)
    ours = RecurrentForCausalLM(config).train()
    bare = BareLM(cell, vocab, hidden, layers).train()
    ids = torch.randint(0, vocab, (batch, length))
    lengths = torch.randint(length // 2, length + 1, (batch,))
    lengths[0] = length
    mask = (torch.arange(length) < lengths[:, None]).long()
    labels = ids.masked_fill(mask == 0, -100)
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-3)
    opt_bare = torch.optim.AdamW(bare.parameters(), lr=1e-3)

    def run_ours(implementation: str, padded: bool):
        def step():
            ours.config.rnn_implementation = implementation
            kwargs = {"attention_mask": mask} if padded else {}
            train_step(ours, opt_ours, lambda: lm_loss(ours(ids, **kwargs).logits, labels if padded else ids))
        return step

    def run_bare(padded: bool):
        return lambda: train_step(bare, opt_bare, lambda: lm_loss(bare(ids, lengths if padded else None),
                                                                  labels if padded else ids))

    contenders = {"fused": run_ours("fused", False), "bare": run_bare(False),
                  "fused_padded": run_ours("fused", True), "bare_padded": run_bare(True)}
    if with_eager:
        contenders["eager"] = run_ours("eager", False)
    best = interleaved(contenders, rounds)
    tokens = batch * length
    real_tokens = int(mask.sum())
    shape = {"cell": cell, "batch": batch, "seq": length, "hidden": hidden, "layers": layers, "vocab": vocab}

    def compared(name: str, metric: str, count: int, ours_key: str, ref_key: str, target: float | None) -> dict:
        ours, ref = best[ours_key], best[ref_key]
        return row(name, metric, count / ours["best"], count / ref["best"], target=target,
                   median_ratio=ref["median"] / ours["median"], cpu_time_ratio=ref["cpu"] / ours["cpu"], **shape)

    rows = [
        compared(f"{cell} train step: fused vs bare torch.nn.{cell.upper()}", "tokens/s", tokens, "fused", "bare",
                 0.95),
        compared(f"{cell} train step, right-padded batch: fused vs bare packed", "real tokens/s", real_tokens,
                 "fused_padded", "bare_padded", 0.95),
    ]
    if with_eager:
        rows.append(compared(f"{cell} train step: eager (our cells) vs fused", "tokens/s", tokens, "eager",
                             "fused", None))
    return rows


def run(quick: bool) -> list[dict]:
    if quick:
        shape = dict(batch=16, length=64, hidden=128, layers=1, vocab=1000, rounds=30)
        return compare("lstm", **shape, with_eager=True)
    shape = dict(batch=32, length=128, hidden=256, layers=2, vocab=2000, rounds=10)
    return [r for cell in ("lstm", "gru", "rnn") for r in compare(cell, **shape, with_eager=cell == "lstm")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = run(quick=args.quick)
    save("recurrent", rows, quick=args.quick)
    for r in rows:
        print(f"{r['name']}: ours {r['ours']:.4g} vs ref {r['reference']:.4g} -> {r['ratio']:.2f}x")
