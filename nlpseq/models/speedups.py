"""CPU speed tricks that compute the same function as the plain path, each measured.

The model code calls them by name, so it reads as the math: ``Dropout`` is dropout,
``linear_projections(x, (q_proj, k_proj, v_proj))`` is ``(q_proj(x), k_proj(x), v_proj(x))``, ``activation(name)``
is ``ACT2FN[name]``. How each one runs faster (a cheaper mask, one matrix multiply instead of three, a fused
kernel) lives here, with the size window where it pays and what was measured (``docs/transformers.md``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from transformers.activations import ACT2FN

#: fuse the Q/K/V products into one matrix multiply from this many input rows (batch x seq) on ...
FUSE_MIN_ROWS = 64
#: ... while the fused output has fewer elements than this (rows x 3 hidden; 4 MB in float32): beyond it each product is
#: large enough on its own, and concatenating the weights and splitting the gradients costs more than it saves
FUSE_MAX_ELEMENTS = 2**20


class Dropout(nn.Dropout):
    """Dropout (keep each element with probability ``1 - p``, scale the kept ones by ``1 / (1 - p)``) with a faster
    mask on CPU: torch's CPU kernel draws it with ``bernoulli_``; here one uniform draw becomes the mask in place,
    ``u >= p`` times ``1 / (1 - p)`` -- the same distribution, forward + backward 1.7x faster on a (32, 64, 1024)
    tensor. Other devices run torch's own fused kernel. The one dropout module of every nlpseq family."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or x.device.type != "cpu" or not 0.0 < self.p < 1.0:
            return super().forward(x)
        mask = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))    # 0 or 1 / (1 - p)
        return x * mask


def linear_projections(x: torch.Tensor, projections: Sequence[nn.Module]) -> tuple[torch.Tensor, ...]:
    """``p(x)`` for each projection: ``x (..., in)`` -> one ``(..., out_p)`` tensor per projection.

    ``[Q K V] = X [W_Q W_K W_V] + [b_Q b_K b_V]`` gives the same numbers as three separate products, but one
    large matrix multiply is faster than three small ones (GPT-2 stores the weights fused for this reason; the
    models keep them separate so the parameters read like the equations and load from any checkpoint). Wrapped
    projections (e.g. PEFT's LoRA layers) are called one by one so their own forward still runs, and so are
    projections without a bias and inputs where fusing does not pay: a generation step (fewer than
    ``FUSE_MIN_ROWS`` rows: copying the weights together costs more than it saves) and large batches
    (``FUSE_MAX_ELEMENTS``: each product already runs at full speed, and the concatenation plus the gradient split
    in backward only add memory traffic).
    """
    rows = x.numel() // x.shape[-1]
    if (len(projections) == 1 or rows < FUSE_MIN_ROWS
            or any(type(p) is not nn.Linear or p.bias is None for p in projections)
            or rows * sum(p.weight.shape[0] for p in projections) >= FUSE_MAX_ELEMENTS):
        return tuple(p(x) for p in projections)
    weight = torch.cat([p.weight for p in projections])
    bias = torch.cat([p.bias for p in projections])
    return nn.functional.linear(x, weight, bias).split([p.weight.shape[0] for p in projections], dim=-1)


def activation(name: str) -> nn.Module:
    """``ACT2FN[name]``, run by a faster fused kernel where one computes the same function: GPT-2's tanh GELU
    (``"gelu_new"``) as PyTorch's ``"gelu_pytorch_tanh"`` (max difference 2e-7)."""
    return ACT2FN[{"gelu_new": "gelu_pytorch_tanh"}.get(name, name)]


__all__ = ["FUSE_MAX_ELEMENTS", "FUSE_MIN_ROWS", "Dropout", "activation", "linear_projections"]
