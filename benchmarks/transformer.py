"""Transformer decoder/encoder speed, side by side with transformers' GPT-2 and BERT at identical shapes.

Rows: KV-cached vs uncached generation (256 new tokens, target >= 5x); train-step tokens/s of
``DecoderForCausalLM`` vs ``GPT2LMHeadModel`` and ``EncoderForMaskedLM`` vs ``BertForMaskedLM`` (SDPA, target
>= 1.0x; the encoder twice: with BERT's full MLM head at every position, and with its default sparse head, which
runs only at the ~15 % selected positions); cached greedy generation tokens/s vs GPT-2 (target >= 1.0x); on a
CUDA machine, the decoder's model-FLOPs utilisation (MFU) in bf16 at GPT-2 small's shape, beside GPT-2's (the ratio
column is ours over GPT-2's; the row also holds both MFUs). The reference models are built from our own weights
with ``nlpseq.convert.to_hf``, so both sides compute the same function. Single timed calls alternate between the
two sides (``common.interleaved``); each side keeps its best, and the ratio of medians is reported too.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nlpseq.convert import to_hf
from nlpseq.models.configuration_decoder import DecoderConfig
from nlpseq.models.configuration_encoder import EncoderConfig
from nlpseq.models.modeling_decoder import DecoderForCausalLM
from nlpseq.models.modeling_encoder import EncoderForMaskedLM

from .common import interleaved, row, save, side_by_side, train_step


def _sizes(quick: bool) -> dict:
    return dict(vocab_size=2000, hidden_size=128 if quick else 256, num_hidden_layers=2 if quick else 4,
                num_attention_heads=4, intermediate_size=512 if quick else 1024, max_position_embeddings=512,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


#: dense bf16 peak FLOP/s (no sparsity) by a fragment of ``torch.cuda.get_device_name()``, from vendor datasheets
PEAK_BF16_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10G": 70e12,
                   "4090": 165e12, "3090": 71e12}


def model_flops_per_token(num_parameters: int, num_layers: int, context: int, hidden_size: int) -> float:
    """Training FLOPs per token: ``6 N`` for the weight matmuls (forward + backward) plus ``12 L T d`` for the
    attention scores and their weighted sum (the PaLM paper's appendix B formula, the one nanoGPT uses)."""
    return 6 * num_parameters + 12 * num_layers * context * hidden_size


def decoder_mfu(device_name: str, steps: int = 10) -> dict | None:
    """Model-FLOPs utilisation of a GPT-2-small-shaped decoder training in bf16 autocast on the current GPU,
    side by side with transformers' ``GPT2LMHeadModel`` built from the same weights (steps interleaved).
    ``ratio`` is our model FLOP/s over GPT-2's; ``mfu`` / ``reference_mfu`` are each over the GPU's bf16 peak.
    ``None`` when the GPU's peak is not in the table."""
    peak = next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in device_name), None)
    if peak is None:
        return None
    config = DecoderConfig(vocab_size=50304, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                           intermediate_size=3072, max_position_embeddings=1024, hidden_dropout_prob=0.0,
                           attention_probs_dropout_prob=0.0)
    model = DecoderForCausalLM(config)
    gpt2 = to_hf(model).cuda().train()
    model = model.cuda().train()
    batch_size, context = 8, 1024
    ids = torch.randint(0, config.vocab_size, (batch_size, context), device="cuda")
    seconds = interleaved({"decoder": _bf16_train_step(model, ids), "gpt2": _bf16_train_step(gpt2, ids)},
                          rounds=steps, warmup=3)
    tokens_per_second = {name: batch_size * context / s["median"] for name, s in seconds.items()}
    flops = model_flops_per_token(model.num_parameters(), config.num_hidden_layers, context, config.hidden_size)
    ours, reference = flops * tokens_per_second["decoder"], flops * tokens_per_second["gpt2"]
    return row(f"DecoderForCausalLM vs GPT2LMHeadModel, GPT-2 small shape, bf16, B{batch_size} T{context} on "
               f"{device_name}", "model FLOP/s", ours, reference, tokens_per_second=tokens_per_second["decoder"],
               mfu=ours / peak, reference_mfu=reference / peak)


def _bf16_train_step(model: torch.nn.Module, ids: torch.Tensor) -> Callable[[], None]:
    """One fused-AdamW training step of a causal LM on ``ids`` (batch, seq) in bf16 autocast, synchronised."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()  # the timer is on the host: wait for the GPU's work

    return step


def run(quick: bool = False) -> list[dict]:
    torch.manual_seed(0)
    rounds = 4 if quick else 20
    batch_size, length = (4, 64) if quick else (8, 128)
    rows = []

    decoder = DecoderForCausalLM(DecoderConfig(**_sizes(quick), pad_token_id=0, eos_token_id=None)).eval()
    gpt2 = to_hf(decoder).eval()

    # 1. KV cache: 256 new tokens, greedy, same model with and without the cache. At batch 1 a cached step is
    #    mostly generate()'s per-step Python overhead (GPT-2 measures the same ratio), so the ratio is
    #    reported for one prompt and for a batch of 8; GPT-2's own ratio at batch 1 is given as context.
    new_tokens = 256
    generate = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    for prompts in (8, 1):
        prompt = torch.randint(1, 2000, (prompts, 16))
        with torch.no_grad():
            cached, uncached, _ = side_by_side(lambda p=prompt: decoder.generate(p, use_cache=True, **generate),
                                                lambda p=prompt: decoder.generate(p, use_cache=False, **generate),
                                                rounds=1 if quick else 2)
            extra = {}
            if prompts == 1:
                ref_cached, ref_uncached, _ = side_by_side(
                    lambda p=prompt: gpt2.generate(p, use_cache=True, pad_token_id=0, **generate),
                    lambda p=prompt: gpt2.generate(p, use_cache=False, pad_token_id=0, **generate),
                    rounds=1 if quick else 2)
                extra["gpt2_cache_speedup"] = ref_uncached / ref_cached
        rows.append(row(f"decoder generate 256 tokens x {prompts} prompts: KV cache vs no cache", "tokens/s",
                        prompts * new_tokens / cached, prompts * new_tokens / uncached,
                        target=5.0 if prompts > 1 else None, hidden_size=decoder.config.hidden_size, **extra))

    # 2. generation speed vs GPT-2 (both cached)
    generate_short = dict(max_new_tokens=128, min_new_tokens=128, do_sample=False)
    with torch.no_grad():
        ours, ref, median_ratio = side_by_side(lambda: decoder.generate(prompt, **generate_short),
                                                lambda: gpt2.generate(prompt, **generate_short), rounds=rounds)
    rows.append(row("DecoderForCausalLM vs GPT2LMHeadModel: generate 128 tokens (cached, greedy)", "tokens/s",
                    128 / ours, 128 / ref, target=1.0, median_ratio=median_ratio))

    # 3. train steps at identical shapes, SDPA on both sides
    ids = torch.randint(1, 2000, (batch_size, length))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}
    decoder.train()
    gpt2.train()
    ours, ref, median_ratio = side_by_side(train_step(decoder, batch), train_step(gpt2, batch), rounds=rounds)
    tokens = batch_size * length
    rows.append(row(f"DecoderForCausalLM vs GPT2LMHeadModel: train step B{batch_size} T{length}", "tokens/s",
                    tokens / ours, tokens / ref, target=1.0, median_ratio=median_ratio,
                    attn_implementation=decoder.config._attn_implementation))

    labels = torch.where(torch.rand(ids.shape) < 0.15, ids, torch.full_like(ids, -100))
    mlm_batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    for sparse in (False, True):   # the full head at every position, as BERT's, then our default sparse head
        encoder = EncoderForMaskedLM(EncoderConfig(**_sizes(quick), position_embedding_type="learned",  # BERT's
                                                   scale_embedding=False, type_vocab_size=2, pad_token_id=0,
                                                   sparse_prediction=sparse))
        bert = to_hf(encoder)
        encoder.train()
        bert.train()
        ours, ref, median_ratio = side_by_side(train_step(encoder, mlm_batch), train_step(bert, mlm_batch),
                                               rounds=rounds)
        rows.append(row(f"EncoderForMaskedLM (sparse_prediction={sparse}) vs BertForMaskedLM: train step "
                        f"B{batch_size} T{length}", "tokens/s", tokens / ours, tokens / ref, target=1.0,
                        median_ratio=median_ratio, attn_implementation=encoder.config._attn_implementation))

    # 4. on a CUDA machine: model-FLOPs utilisation of the decoder in bf16 (ratio = achieved / peak = MFU)
    if torch.cuda.is_available():
        mfu_row = decoder_mfu(torch.cuda.get_device_name(0), steps=5 if quick else 10)
        if mfu_row is not None:
            rows.append(mfu_row)
    return rows


if __name__ == "__main__":
    import sys

    quick = "--quick" in sys.argv
    if "--threads" in sys.argv:                  # e.g. 1 on a shared box where 2 threads oversubscribe the cores
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    path = save("transformer", run(quick=quick), quick=quick)
    print(path.read_text())
