"""Scaled dot-product attention written out, and the multi-head attention module every Transformer shares.

The textbook equations, with ``X`` the layer input of shape ``(batch, seq, hidden)``::

    Q = X W_Q,  K = X W_K,  V = X W_V                      (for cross-attention K and V come from another sequence)
    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V      per head, d_k = hidden / heads
    MultiHead(X) = Concat(head_1, ..., head_h) W_O

``eager_attention_forward`` is the readable reference (it returns the attention weights). Every other backend
(``"sdpa"``, the default, or anything registered in transformers' ``ALL_ATTENTION_FUNCTIONS`` such as
``"flex_attention"``) is picked at run time from ``config._attn_implementation``, the same switch as in
transformers' own models (``from_pretrained(..., attn_implementation="eager")`` or
``model.set_attn_implementation("eager")``). Only eager returns weights: asking for ``output_attentions`` on
another backend raises a ``ValueError`` that says so.

Masks are boolean, shaped ``(batch, 1, query_len, key_len)``, ``True`` = may attend. ``None`` means "no padding";
a causal module then masks the future itself (SDPA uses its fused ``is_causal`` path).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers.cache_utils import Cache, EncoderDecoderCache
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from .errors import ConfigurationError
from .positions import apply_rotary_pos_emb
from .speedups import linear_projections


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(Q K^T / sqrt(d_k) + mask) V``, written out.

    Args:
        query: ``(batch, heads, query_len, head_dim)``; key, value: ``(batch, heads, key_len, head_dim)``.
        attention_mask: boolean ``(batch, 1, query_len, key_len)`` (``True`` = attend), an additive float mask,
            or ``None`` (then ``module.is_causal`` decides whether the future is hidden).
    Returns:
        ``(output, weights)``: output ``(batch, query_len, heads, head_dim)``, weights
        ``(batch, heads, query_len, key_len)``.
    """
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query, key.transpose(-1, -2)) * scaling          # (batch, heads, q, k)
    q_len, k_len = scores.shape[-2:]
    if attention_mask is None and getattr(module, "is_causal", False) and q_len > 1:
        # query i sits at absolute position (k_len - q_len + i) and may see keys up to there
        attention_mask = causal_mask(q_len, k_len, scores.device)[None, None]
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=module.training)
    output = torch.matmul(weights, value).transpose(1, 2).contiguous()      # (batch, q, heads, head_dim)
    return output, weights


def causal_mask(query_length: int, key_length: int, device: torch.device | None = None) -> torch.Tensor:
    """Boolean ``(query_length, key_length)``: query ``i`` sees keys ``<= key_length - query_length + i``."""
    return torch.ones(query_length, key_length, dtype=torch.bool, device=device).tril(key_length - query_length)


def make_attention_mask(
    attention_mask: torch.Tensor | None,
    query_length: int,
    past_length: int = 0,
    is_causal: bool = False,
) -> torch.Tensor | None:
    """Turn a 2D padding mask ``(batch, key_len)`` (1 = real token) into the 4D boolean mask the layers take.

    ``key_len = past_length + query_length`` for self-attention; for cross-attention pass the encoder mask with
    ``past_length = key_len - query_length`` and ``is_causal=False``. Returns ``None`` when no mask is needed (no
    padding, and either not causal or a case the causal module handles itself), which lets SDPA use its fastest
    kernel. Rows that would see no key at all (queries at left-padding positions) are opened to every key:
    their outputs are never used and this keeps softmax free of NaN.
    """
    if attention_mask is not None and attention_mask.dim() == 4:
        return attention_mask.bool()
    has_padding = attention_mask is not None and not bool(attention_mask.all())
    if not has_padding and (not is_causal or past_length == 0 or query_length == 1):
        return None
    key_length = past_length + query_length if attention_mask is None else attention_mask.shape[-1]
    device = attention_mask.device if attention_mask is not None else None
    mask = torch.ones(1, 1, query_length, key_length, dtype=torch.bool, device=device)
    if attention_mask is not None:
        mask = mask & attention_mask.bool()[:, None, None, :]
    if is_causal:
        mask = mask & causal_mask(query_length, key_length, device)
    return mask | ~mask.any(dim=-1, keepdim=True)


def check_attention_implementation(config, output_attentions: bool) -> None:
    """Attention weights exist only on the eager path: say so instead of silently returning ``None``."""
    if output_attentions and config._attn_implementation != "eager":
        raise ConfigurationError(
            f"output_attentions=True needs attn_implementation='eager', but this model runs "
            f"'{config._attn_implementation}', which does not return attention weights. Load it with "
            "`from_pretrained(..., attn_implementation='eager')` or call `model.set_attn_implementation('eager')`."
        )


class MultiHeadAttention(nn.Module):
    """Multi-head self- or cross-attention with an optional KV cache and rotary positions.

    Self-attention (``key_value_states=None``): Q, K and V all come from ``hidden_states``; with a cache, the new
    K/V are appended with ``cache.update`` and the full K/V come back. Cross-attention (``key_value_states`` =
    encoder output ``(batch, source_len, hidden)``): K/V are computed from it once and stored in the
    cross-attention half of an ``EncoderDecoderCache``, then reused at every generation step.
    """

    def __init__(self, config, layer_idx: int, is_causal: bool = False, is_cross_attention: bool = False):
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ConfigurationError(
                f"hidden_size={config.hidden_size} is not divisible by num_attention_heads="
                f"{config.num_attention_heads}; pick sizes with hidden_size % num_attention_heads == 0."
            )
        self.config = config
        self.layer_idx = layer_idx
        self.is_causal = is_causal
        self.is_cross_attention = is_cross_attention
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // self.num_heads
        self.scaling = 1.0 / math.sqrt(self.head_dim)
        self.dropout = config.attention_probs_dropout_prob
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.k_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.v_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size)

    def _project(self, x: torch.Tensor, projections: tuple[nn.Module, ...]) -> tuple[torch.Tensor, ...]:
        """``x W + b`` for each projection, as heads ``(batch, heads, seq, head_dim)``; ``linear_projections`` fuses
        the products into one matrix multiply where that is faster."""
        return tuple(y.view(*y.shape[:-1], self.num_heads, self.head_dim).transpose(1, 2)  # split into heads
                     for y in linear_projections(x, projections))

    def _cross_key_values(self, key_value_states: torch.Tensor, past_key_values: Cache | None):
        cache = past_key_values.cross_attention_cache if isinstance(past_key_values, EncoderDecoderCache) else None
        if cache is not None and past_key_values.is_updated.get(self.layer_idx):
            return cache.layers[self.layer_idx].keys, cache.layers[self.layer_idx].values
        key, value = self._project(key_value_states, (self.k_proj, self.v_proj))
        if cache is not None:
            key, value = cache.update(key, value, self.layer_idx)
            past_key_values.is_updated[self.layer_idx] = True
        return key, value

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        key_value_states: torch.Tensor | None = None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        past_key_values: Cache | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """hidden_states ``(batch, seq, hidden)`` -> ``(output (batch, seq, hidden), weights or None)``."""
        if self.is_cross_attention:
            (query,) = self._project(hidden_states, (self.q_proj,))          # (batch, heads, seq, head_dim)
            key, value = self._cross_key_values(key_value_states, past_key_values)
        else:
            query, key, value = self._project(hidden_states, (self.q_proj, self.k_proj, self.v_proj))
            if position_embeddings is not None:                              # rotary: rotate q and k
                query, key = apply_rotary_pos_emb(query, key, *position_embeddings)
            if isinstance(past_key_values, EncoderDecoderCache):
                past_key_values = past_key_values.self_attention_cache
            if past_key_values is not None:
                key, value = past_key_values.update(key, value, self.layer_idx)

        attention_interface = eager_attention_forward if self.config._attn_implementation == "eager" else \
            ALL_ATTENTION_FUNCTIONS.get_interface(self.config._attn_implementation, eager_attention_forward)
        output, weights = attention_interface(
            self, query, key, value, attention_mask,
            scaling=self.scaling, dropout=self.dropout if self.training else 0.0, **kwargs,
        )
        output = output.reshape(*hidden_states.shape[:-1], -1)               # concat heads: (batch, seq, hidden)
        return self.o_proj(output), weights
