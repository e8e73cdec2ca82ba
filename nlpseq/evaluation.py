"""Evaluation beyond the Trainer's mean loss: the perplexity of a causal LM on one long token stream."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby

import torch
from transformers import PreTrainedModel

from .errors import InputError


@torch.no_grad()
def stream_perplexity(model: PreTrainedModel, input_ids: Sequence[int] | torch.Tensor, context: int,
                      stride: int | None = None, batch_size: int = 8) -> dict[str, float]:
    """Perplexity of a causal LM on one long token stream (a whole test set): ``exp`` of the mean NLL of every
    token after the first, each predicted exactly once.

    Windows of ``context`` tokens advance by ``stride`` (default ``context // 2``) and each scores only its
    tokens that no earlier window scored, so every token but those of the first window sees at least
    ``context - stride`` tokens of history (transformers' "perplexity of fixed-length models" method). Works
    for any model whose forward takes ``logits_to_keep`` (the decoder and the recurrent LM do).

    Returns ``{"perplexity", "nll" (mean, nats per token), "tokens" (how many were scored)}``.
    """
    ids = torch.as_tensor(input_ids, dtype=torch.long).flatten()
    stride = stride or context // 2
    if len(ids) < 2 or not 0 < stride < context:
        raise InputError(f"stream_perplexity needs >= 2 tokens (got {len(ids)}) and 0 < stride < context (got "
                         f"stride={stride}, context={context}); pass a longer stream or a smaller stride")
    first = min(context, len(ids))
    spans = [(0, first, first - 1)]  # (start, end, tokens scored = the last ones of the window)
    while spans[-1][1] < len(ids):
        end = min(spans[-1][1] + stride, len(ids))
        spans.append((end - context, end, end - spans[-1][1]))
    model.eval()
    total = 0.0
    for scored, group in groupby(spans, key=lambda span: span[2]):
        group = list(group)
        for i in range(0, len(group), batch_size):
            windows = torch.stack([ids[start:end] for start, end, _ in group[i:i + batch_size]]).to(model.device)
            logits = model(input_ids=windows, use_cache=False, logits_to_keep=scored + 1).logits[:, :-1]
            total += torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), windows[:, -scored:].flatten(),
                                                       reduction="sum").item()
    tokens = len(ids) - 1
    return {"perplexity": math.exp(total / tokens), "nll": total / tokens, "tokens": tokens}
