"""Position encodings: sinusoidal (the 2017 paper), learned absolute (BERT, GPT-2), rotary (RoFormer).

Attention alone is order-blind, so every token learns where it sits:

* sinusoidal, added to the token embeddings::

      PE(pos, 2i)   = sin(pos / 10000^(2i / d))
      PE(pos, 2i+1) = cos(pos / 10000^(2i / d))

* learned: a trainable ``(max_position_embeddings, hidden)`` table, added to the token embeddings;
* rotary: nothing is added; inside attention each (q, k) pair of channels ``(x_j, x_{j + d/2})`` is rotated by
  the angle ``pos * theta^(-2j/d)``, so ``q . k`` depends only on the distance between the two positions.

Positions are computed from ``position_ids`` (``(batch, seq)``), which follow the attention mask, so left-padded
batches get the same positions as unpadded ones. Nothing here is a buffer: the tables are recomputed from
``position_ids`` on every call, which costs little and keeps ``from_pretrained`` free of stale state.
"""

from __future__ import annotations

import torch
from torch import nn

from .configuration_transformer import POSITION_EMBEDDING_TYPES  # noqa: F401  (re-exported: its old home)


def inverse_frequencies(dim: int, base: float, device: torch.device | None = None) -> torch.Tensor:
    """``base^(-2i/dim)`` for ``i = 0 .. dim/2 - 1``, shape ``(dim // 2,)``."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float32, device=device) / dim)


def sinusoidal_position_encoding(position_ids: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """The 2017 paper's table for any positions: ``(batch, seq)`` -> ``(batch, seq, dim)``, sin on even channels."""
    angles = position_ids.float()[..., None] * inverse_frequencies(dim, base, position_ids.device)
    encoding = torch.stack((angles.sin(), angles.cos()), dim=-1)           # (batch, seq, dim/2, 2)
    return encoding.flatten(-2)[..., :dim]                                   # interleave: sin, cos, sin, cos ...


class SinusoidalPositionalEmbedding(nn.Module):
    """Fixed sinusoidal positions (no parameters, any length)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size

    def forward(self, position_ids: torch.Tensor) -> torch.Tensor:
        return sinusoidal_position_encoding(position_ids, self.hidden_size)


class RotaryEmbedding(nn.Module):
    """Returns ``(cos, sin)`` of shape ``(batch, seq, head_dim)`` for ``apply_rotary_pos_emb``."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        self.head_dim = head_dim
        self.base = base

    def forward(self, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        angles = position_ids.float()[..., None] * inverse_frequencies(self.head_dim, self.base, position_ids.device)
        angles = torch.cat((angles, angles), dim=-1)                         # (batch, seq, head_dim)
        return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``(x1, x2) -> (-x2, x1)`` on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(
    query: torch.Tensor, key: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate ``query``/``key`` ``(batch, heads, seq, head_dim)`` by their positions: ``x cos + rotate_half(x) sin``."""
    cos, sin = cos[:, None], sin[:, None]                                    # broadcast over heads
    return query * cos + rotate_half(query) * sin, key * cos + rotate_half(key) * sin
