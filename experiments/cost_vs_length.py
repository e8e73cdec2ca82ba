"""The textbook cost claims: recurrence is O(T) in time and memory per sequence but sequential; self-attention
is O(T^2) but parallel; a selective state-space model (Mamba) is O(T) like recurrence. Measured per training step
(forward + backward) for an LSTM, a Transformer encoder and a selective SSM layer stack of the same width, at
T = 64 .. 4096.

Memory is the bytes autograd saves for the backward pass (``torch.autograd.graph.saved_tensors_hooks``):
deterministic, device-independent, and exactly the activation memory the textbooks talk about. Attention runs
with our eager implementation, which stores the (T x T) weights; SDPA's fused kernels avoid storing them.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import torch

from experiments.common import save
from nlpseq import (
    EncoderConfig,
    EncoderModel,
    RecurrentConfig,
    RecurrentModel,
    SelectiveSSMConfig,
    SelectiveSSMModel,
)

LENGTHS = [64, 128, 256, 512, 1024, 2048, 4096]
WIDTH, LAYERS, BATCH = 128, 2, 1


def saved_bytes_and_seconds(model, ids: torch.Tensor) -> tuple[int, float]:
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    start = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(input_ids=ids).last_hidden_state
    out.sum().backward()
    return total, time.perf_counter() - start


def run() -> dict:
    torch.manual_seed(0)
    models = {
        "LSTM": RecurrentModel(RecurrentConfig(cell="lstm", vocab_size=1000, hidden_size=WIDTH,
                                               num_hidden_layers=LAYERS)),
        "Transformer": EncoderModel(EncoderConfig(vocab_size=1000, hidden_size=WIDTH, num_hidden_layers=LAYERS,
                                                  num_attention_heads=4, intermediate_size=4 * WIDTH,
                                                  max_position_embeddings=max(LENGTHS),
                                                  position_embedding_type="sinusoidal",
                                                  attn_implementation="eager")),
        "SSM": SelectiveSSMModel(SelectiveSSMConfig(vocab_size=1000, hidden_size=WIDTH, num_hidden_layers=LAYERS)),
    }
    results = {name: {"seconds": [], "mbytes": []} for name in models}
    for length in LENGTHS:
        ids = torch.randint(1000, (BATCH, length))
        for name, model in models.items():
            saved_bytes_and_seconds(model, ids)  # warm-up
            runs = [saved_bytes_and_seconds(model, ids) for _ in range(2)]
            results[name]["mbytes"].append(runs[0][0] / 2**20)
            results[name]["seconds"].append(min(s for _, s in runs))
            print(f"T={length:5d} {name:12s} {results[name]['seconds'][-1] * 1e3:8.1f} ms "
                  f"{results[name]['mbytes'][-1]:8.1f} MiB", flush=True)

    figure, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, r in results.items():
        ax_t.loglog(LENGTHS, r["seconds"], "o-", label=name)
        ax_m.loglog(LENGTHS, r["mbytes"], "o-", label=name)
    ax_t.set(xlabel="sequence length T", ylabel="seconds per fwd+bwd step", title="time")
    ax_m.set(xlabel="sequence length T", ylabel="MiB saved for backward", title="activation memory")
    for ax in (ax_t, ax_m):
        ax.legend()
    cross_t = next((t for t, a, b in zip(LENGTHS, results["Transformer"]["seconds"], results["LSTM"]["seconds"])
                    if a > b), None)
    cross_m = next((t for t, a, b in zip(LENGTHS, results["Transformer"]["mbytes"], results["LSTM"]["mbytes"])
                    if a > b), None)

    def slope(values):  # growth exponent between the two longest lengths
        return float(torch.log2(torch.tensor(values[-1] / values[-2])))

    lstm, attn, ssm = results["LSTM"], results["Transformer"], results["SSM"]
    time_ratio = [a / b for a, b in zip(attn["seconds"], lstm["seconds"])]
    mem_ratio = [a / b for a, b in zip(attn["mbytes"], lstm["mbytes"])]
    cheaper = (" With one sequence at a time there is no batch for attention's parallelism to exploit, so the LSTM"
               " is cheaper at every measured length." if min(time_ratio) > 1 and min(mem_ratio) > 1 else "")
    rows = "\n".join(f"| {t} | {lstm['seconds'][i] * 1e3:.1f} | {attn['seconds'][i] * 1e3:.1f}"
                     f" | {ssm['seconds'][i] * 1e3:.1f} | {lstm['mbytes'][i]:.1f} | {attn['mbytes'][i]:.1f}"
                     f" | {ssm['mbytes'][i]:.1f} |" for i, t in enumerate(LENGTHS))
    verdict = f"""
| T | LSTM ms | Transformer ms | SSM ms | LSTM MiB | Transformer MiB | SSM MiB |
|---|---|---|---|---|---|---|
{rows}

**Verdict: confirmed on this machine.** From T = {LENGTHS[-2]} to {LENGTHS[-1]} the LSTM's activation memory
grows x{2 ** slope(lstm['mbytes']):.2f} (O(T)) and the Transformer's x{2 ** slope(attn['mbytes']):.2f}
(O(T^2) once the T x T attention weights dominate); time grows x{2 ** slope(lstm['seconds']):.2f}
and x{2 ** slope(attn['seconds']):.2f}. The Transformer/LSTM time ratio goes from {time_ratio[0]:.1f}x at
T = {LENGTHS[0]} to {time_ratio[-1]:.1f}x at T = {LENGTHS[-1]} (memory: {mem_ratio[0]:.1f}x to {mem_ratio[-1]:.1f}x);
the first length where the Transformer costs more is T = {cross_t} in time and T = {cross_m} in memory
(None = never within the measured range).{cheaper} The selective SSM's memory grows
x{2 ** slope(ssm['mbytes']):.2f} and its time x{2 ** slope(ssm['seconds']):.2f} over the same doubling: O(T), like
the LSTM (its parallel scan keeps the decays and states of every step, `intermediate_size x state_size` numbers per
token and layer, so its constant is larger).
Width {WIDTH}, {LAYERS} layers, batch {BATCH}, eager attention, the SSM's chunked parallel scan, float32.
"""
    save("cost_vs_length", "Cost vs sequence length: LSTM and SSM O(T) vs attention O(T^2)", figure, verdict,
         {"lengths": LENGTHS, **results, "crossover_time": cross_t, "crossover_memory": cross_m})
    return results


if __name__ == "__main__":
    run()
