"""The selective SSM (Mamba-1) against its references, in the same run.

Rows:

1. train-step tokens/s of ``SelectiveSSMForCausalLM`` vs transformers' ``MambaForCausalLM`` (its torch-only path,
   the one that runs on CPU) at the same shape, built from our weights with ``nlpseq.convert.to_hf`` (target
   >= 1.0x);
2. the chunked parallel scan vs the sequential step loop, on the same weights (train step);
3. generation: milliseconds per new token after a context of 128 .. 4,096 tokens, the SSM (its state is the whole
   cache) against our decoder with its KV cache, at about the same parameter count (the SSM has twice the layers:
   a Mamba block holds about half a Transformer block's weights, as in the Mamba paper); and the bytes each
   keeps per sequence at that context: flat for the SSM, growing for the decoder. The crossover is plotted in
   ``docs/figures/ssm-generation.png``.

Timed calls alternate between the two sides (``common.interleaved``); each side keeps its best.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import torch

from nlpseq.convert import to_hf
from nlpseq.models.configuration_decoder import DecoderConfig
from nlpseq.models.configuration_ssm import SelectiveSSMConfig
from nlpseq.models.modeling_decoder import DecoderForCausalLM
from nlpseq.models.modeling_ssm import SelectiveSSMForCausalLM

from .common import row, save, side_by_side, train_step

FIGURE = Path(__file__).resolve().parents[1] / "docs" / "figures" / "ssm-generation.png"
VOCAB = 2000


def cache_bytes(cache) -> int:
    """Bytes held by a generation cache: our SSM's ``(conv_state, ssm_state)`` tuple or a ``DynamicCache``."""
    if isinstance(cache, tuple):
        return sum(t.numel() * t.element_size() for t in cache)
    return sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))


@torch.no_grad()
def ms_per_new_token(model, context: int, new_tokens: int) -> tuple[float, int]:
    """Prefill ``context`` tokens (one sequence), then time ``new_tokens`` greedy one-token forward calls that
    carry the cache: milliseconds per new token, and the cache's bytes at the end."""
    ids = torch.randint(3, VOCAB, (1, context), generator=torch.Generator().manual_seed(context))
    out = model(ids, use_cache=True, logits_to_keep=1)
    cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    start = time.perf_counter()
    for _ in range(new_tokens):
        out = model(token, past_key_values=cache, use_cache=True)
        cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    return (time.perf_counter() - start) * 1e3 / new_tokens, cache_bytes(cache)


def generation_models(hidden: int, layers: int, max_context: int) -> dict[str, torch.nn.Module]:
    """Our decoder (``layers`` blocks) and an SSM with twice the blocks: about the same parameter count."""
    torch.manual_seed(0)
    decoder = DecoderForCausalLM(DecoderConfig(
        vocab_size=VOCAB, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
        intermediate_size=4 * hidden, max_position_embeddings=max_context, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, pad_token_id=0))
    ssm = SelectiveSSMForCausalLM(SelectiveSSMConfig(vocab_size=VOCAB, hidden_size=hidden,
                                                     num_hidden_layers=2 * layers, pad_token_id=0))
    return {"decoder (KV cache)": decoder.eval(), "selective SSM (state)": ssm.eval()}


def generation_rows(quick: bool) -> tuple[list[dict], dict]:
    """Rows and curves for the generation comparison at contexts 128 .. 4,096 (quick: 128 .. 1,024)."""
    contexts = [128, 256, 512, 1024] if quick else [128, 256, 512, 1024, 2048, 4096]
    new_tokens = 16 if quick else 32
    models = generation_models(128 if quick else 256, 2 if quick else 4, contexts[-1] + new_tokens + 1)
    curves = {name: {"ms": [], "mbytes": []} for name in models}
    for context in contexts:
        for name, model in models.items():
            ms_per_new_token(model, context, 2)                                           # warm-up
            ms, size = min(ms_per_new_token(model, context, new_tokens) for _ in range(2))
            curves[name]["ms"].append(ms)
            curves[name]["mbytes"].append(size / 2**20)
            print(f"  context {context:5d} {name:24s} {ms:7.2f} ms/token {size / 2**20:8.2f} MiB", flush=True)
    decoder, ssm = (curves[name] for name in models)
    params = {name: model.num_parameters() for name, model in models.items()}
    rows = [row(f"generation after {c} tokens: SSM state vs decoder KV cache", "new tokens/s",
                1e3 / ssm["ms"][i], 1e3 / decoder["ms"][i], ssm_cache_mib=ssm["mbytes"][i],
                decoder_cache_mib=decoder["mbytes"][i], parameters=params) for i, c in enumerate(contexts)]
    return rows, {"contexts": contexts, "curves": curves, "params": params}


def plot_generation(result: dict, path: Path = FIGURE) -> Path:
    """Two panels against context length: ms per new token, and MiB of cache per sequence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, curve in result["curves"].items():
        label = f"{name}, {result['params'][name] / 1e6:.2f}M params"
        ax_t.plot(result["contexts"], curve["ms"], "o-", label=label)
        ax_m.plot(result["contexts"], curve["mbytes"], "o-", label=label)
    for ax, ylabel in ((ax_t, "ms per new token (batch 1, greedy)"), (ax_m, "cache per sequence (MiB)")):
        ax.set(xscale="log", xlabel="context length (tokens already in the cache)", ylabel=ylabel)
        ax.set_xticks(result["contexts"], [str(c) for c in result["contexts"]])
        ax.minorticks_off()
        ax.legend()
    figure.suptitle(f"Generation cost per new token ({torch.get_num_threads()} CPU threads)")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def train_rows(quick: bool) -> list[dict]:
    """Train-step tokens/s against MambaForCausalLM, and the parallel scan against the sequential one."""
    torch.manual_seed(0)
    batch_size, length = (4, 64) if quick else (8, 128)
    rounds = 3 if quick else 10
    config = SelectiveSSMConfig(vocab_size=VOCAB, hidden_size=128 if quick else 256,
                                num_hidden_layers=2 if quick else 4, pad_token_id=0)
    ours = SelectiveSSMForCausalLM(config).train()
    mamba = to_hf(ours).train()
    ids = torch.randint(3, VOCAB, (batch_size, length))
    batch = {"input_ids": ids, "labels": ids}
    tokens = batch_size * length
    best, ref, median_ratio = side_by_side(train_step(ours, batch), train_step(mamba, batch), rounds=rounds)
    rows = [row(f"SelectiveSSMForCausalLM vs MambaForCausalLM (torch path): train step B{batch_size} T{length}",
                "tokens/s", tokens / best, tokens / ref, target=1.0, median_ratio=median_ratio,
                chunk_size=config.chunk_size)]
    sequential = copy.deepcopy(ours)
    sequential.config.ssm_implementation = "sequential"     # the mixers read the flag at every call
    best, ref, median_ratio = side_by_side(train_step(ours, batch), train_step(sequential, batch), rounds=rounds)
    rows.append(row(f"selective scan, parallel (chunks of {config.chunk_size}) vs sequential: train step "
                    f"B{batch_size} T{length}", "tokens/s", tokens / best, tokens / ref, target=1.0,
                    median_ratio=median_ratio))
    return rows


def run(quick: bool = False) -> list[dict]:
    rows = train_rows(quick)
    generation, result = generation_rows(quick)
    plot_generation(result)
    return rows + generation


if __name__ == "__main__":
    import sys

    quick = "--quick" in sys.argv
    path = save("ssm", run(quick=quick), quick=quick)
    print(path.read_text())
