"""The parts every nlpseq Transformer shares: embeddings, feed-forward, the block, the stack, the base class.

A block is the diagram of Vaswani et al. (2017, Fig. 1), with an optional cross-attention sub-layer for
encoder-decoder models::

    post-norm (2017 paper, BERT):  x = LayerNorm(x + Dropout(SubLayer(x)))
    pre-norm  (GPT-2):             x = x + Dropout(SubLayer(LayerNorm(x)))      (+ a final LayerNorm after the stack)

    SubLayer = self-attention -> [cross-attention over the encoder output] -> FFN(x) = act(x W_1 + b_1) W_2 + b_2

Encoder (bidirectional), decoder (causal) and encoder-decoder models are built from these pieces only, and all of
them prepare their inputs in one place, ``TransformerStack.forward``: ids or embeddings, the length check, position
ids, masks, cache. Their shared config fields are ``TransformerConfig`` in ``configuration_transformer.py``
(torch-free; re-exported here).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache, EncoderDecoderCache
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import (
    BaseModelOutput,
    BaseModelOutputWithPast,
    BaseModelOutputWithPastAndCrossAttentions,
)

from .attention import MultiHeadAttention, check_attention_implementation, make_attention_mask
from .configuration_transformer import NORM_POSITIONS, TransformerConfig  # noqa: F401  (NORM_POSITIONS: its old home)
from .errors import InputError
from .heads import init_normal
from .positions import RotaryEmbedding, SinusoidalPositionalEmbedding
from .speedups import Dropout, activation


class TransformerEmbeddings(nn.Module):
    """Token (+ segment) (+ absolute position) embeddings -> [LayerNorm] -> dropout: ``(batch, seq, hidden)``."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.token_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = None
        if config.position_embedding_type == "learned":
            self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        elif config.position_embedding_type == "sinusoidal":
            self.position_embeddings = SinusoidalPositionalEmbedding(config.hidden_size)
        self.token_type_embeddings = (
            nn.Embedding(config.type_vocab_size, config.hidden_size) if config.type_vocab_size > 0 else None
        )
        self.norm = (
            nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps) if config.embedding_layer_norm else None
        )
        self.dropout = Dropout(config.hidden_dropout_prob)
        self.scale = config.hidden_size**0.5 if config.scale_embedding else 1.0

    def forward(
        self,
        input_ids: torch.Tensor | None,
        position_ids: torch.Tensor,
        inputs_embeds: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.token_embeddings(input_ids)
        hidden_states = inputs_embeds * self.scale
        if self.position_embeddings is not None:
            hidden_states = hidden_states + self.position_embeddings(position_ids).to(hidden_states.dtype)
        if self.token_type_embeddings is not None:
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(position_ids).expand(hidden_states.shape[:2])
            hidden_states = hidden_states + self.token_type_embeddings(token_type_ids)
        if self.norm is not None:
            hidden_states = self.norm(hidden_states)
        return self.dropout(hidden_states)


def check_sequence_length(config: TransformerConfig, total_length: int) -> None:
    """Learned position tables have a fixed size: fail with a clear message instead of an index error."""
    if config.position_embedding_type == "learned" and total_length > config.max_position_embeddings:
        raise InputError(
            f"Sequence length {total_length} exceeds max_position_embeddings={config.max_position_embeddings} of "
            "the learned position table. Truncate the input (tokenizer(..., truncation=True, max_length="
            f"{config.max_position_embeddings})) or use position_embedding_type='sinusoidal' or 'rotary'."
        )


def positions_from_mask(attention_mask: torch.Tensor | None, past_length: int, length: int,
                        device: torch.device) -> torch.Tensor:
    """Position ids ``(batch or 1, length)`` that follow the padding mask (left padding starts at 0 too)."""
    if attention_mask is None:
        return torch.arange(past_length, past_length + length, device=device)[None]
    positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    return positions[:, past_length:past_length + length]


class FeedForward(nn.Module):
    """Position-wise FFN: ``act(x W_1 + b_1) W_2 + b_2``, ``(batch, seq, hidden) -> (batch, seq, hidden)``."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.fc_in = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = activation(config.hidden_act)
        self.fc_out = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc_out(self.act(self.fc_in(hidden_states)))


class TransformerBlock(GradientCheckpointingLayer):
    """Self-attention, optional cross-attention, FFN; each wrapped in residual + LayerNorm (pre or post)."""

    def __init__(self, config: TransformerConfig, layer_idx: int, is_causal: bool = False,
                 has_cross_attention: bool = False):
        super().__init__()
        self.pre_norm = config.norm_position == "pre"
        self.self_attn = MultiHeadAttention(config, layer_idx, is_causal=is_causal)
        self.self_attn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.cross_attn = self.cross_attn_norm = None
        if has_cross_attention:
            self.cross_attn = MultiHeadAttention(config, layer_idx, is_cross_attention=True)
            self.cross_attn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.ffn = FeedForward(config)
        self.ffn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def _sublayer_input(self, hidden_states: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
        return norm(hidden_states) if self.pre_norm else hidden_states

    def _residual(self, residual: torch.Tensor, update: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
        hidden_states = residual + self.dropout(update)
        return hidden_states if self.pre_norm else norm(hidden_states)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``(batch, seq, hidden)`` -> ``(hidden_states, self-attention weights, cross-attention weights)``."""
        update, self_weights = self.self_attn(
            self._sublayer_input(hidden_states, self.self_attn_norm), attention_mask,
            position_embeddings=position_embeddings, past_key_values=past_key_values,
        )
        hidden_states = self._residual(hidden_states, update, self.self_attn_norm)

        cross_weights = None
        if self.cross_attn is not None:
            update, cross_weights = self.cross_attn(
                self._sublayer_input(hidden_states, self.cross_attn_norm), encoder_attention_mask,
                key_value_states=encoder_hidden_states, past_key_values=past_key_values,
            )
            hidden_states = self._residual(hidden_states, update, self.cross_attn_norm)

        update = self.ffn(self._sublayer_input(hidden_states, self.ffn_norm))
        hidden_states = self._residual(hidden_states, update, self.ffn_norm)
        return hidden_states, self_weights, cross_weights


def resolve_output_flags(config: TransformerConfig, output_attentions: bool | None,
                         output_hidden_states: bool | None) -> tuple[bool, bool]:
    """``output_attentions`` / ``output_hidden_states`` as passed, else the config's defaults."""
    return (bool(output_attentions if output_attentions is not None else config.output_attentions),
            bool(output_hidden_states if output_hidden_states is not None else config.output_hidden_states))


class TransformerStack(nn.Module):
    """Embeddings -> N blocks -> final LayerNorm (pre-norm only): the one input path of every nlpseq Transformer.

    ``forward`` does the whole preparation once, for the encoder, the decoder (KV cache) and both stacks of the
    encoder-decoder (the decoder's with cross-attention): the length check (past included), position ids, the 4D
    masks, the embeddings, the blocks, the final norm, the cache, the collected hidden states and attention maps.

    Every model *has* its stacks (``EncoderModel.encoder``, ``DecoderModel.decoder``,
    ``TransformerSeq2SeqModel.encoder`` / ``.decoder``); none *is* one. A ``PreTrainedModel`` cannot be a stack
    without moving its parameters from ``model.encoder.*`` / ``model.decoder.*`` (the names checkpoints and the
    GPT-2 / BERT / Marian conversions use), and the encoder-decoder's two stacks differ from the others only in
    constructor arguments, so a subclass would add nothing.
    """

    main_input_name = "input_ids"

    def __init__(self, config: TransformerConfig, is_causal: bool, has_cross_attention: bool = False,
                 num_layers: int | None = None, positions_follow_mask: bool = True):
        """``num_layers`` defaults to ``config.num_hidden_layers`` (encoder-decoder models size each stack).
        ``positions_follow_mask=False`` counts positions from the first token whatever the mask (BERT's rule)."""
        super().__init__()
        self.config = config
        self.is_causal = is_causal
        self.has_cross_attention = has_cross_attention
        self.positions_follow_mask = positions_follow_mask
        self.embeddings = TransformerEmbeddings(config)
        self.rotary = (
            RotaryEmbedding(config.hidden_size // config.num_attention_heads, config.rope_theta)
            if config.position_embedding_type == "rotary" else None
        )
        self.layers = nn.ModuleList(
            TransformerBlock(config, i, is_causal=is_causal, has_cross_attention=has_cross_attention)
            for i in range(config.num_hidden_layers if num_layers is None else num_layers)
        )
        self.norm = (
            nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps) if config.norm_position == "pre" else None
        )

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        use_cache: bool = False,
        output_attentions: bool | None = False,
        output_hidden_states: bool | None = False,
        **kwargs,
    ) -> BaseModelOutput | BaseModelOutputWithPast | BaseModelOutputWithPastAndCrossAttentions:
        """input_ids ``(batch, seq)`` or inputs_embeds ``(batch, seq, hidden)`` -> ``(batch, seq, hidden)``.

        attention_mask ``(batch, past + seq)``: 1 for real tokens, 0 for padding. encoder_hidden_states ``(batch,
        source, hidden)`` and encoder_attention_mask ``(batch, source)`` feed the cross-attention. A causal stack
        with ``use_cache`` starts a cache when ``past_key_values`` is None and returns it. The output is
        ``BaseModelOutput`` (bidirectional), ``BaseModelOutputWithPast`` (causal) or
        ``BaseModelOutputWithPastAndCrossAttentions`` (cross-attention); ``hidden_states`` holds the embeddings
        and each block's output, the last entry after the final norm. ``generate()`` calls an encoder stack
        directly (with ``return_dict``, which is ignored: the output is always a ``ModelOutput``).
        """
        output_attentions, output_hidden_states = bool(output_attentions), bool(output_hidden_states)
        check_attention_implementation(self.config, output_attentions)
        past_key_values = self._cache(past_key_values, use_cache)
        past_length = past_key_values.get_seq_length() if past_key_values is not None else 0
        hidden_states, position_ids = self._embed(input_ids, inputs_embeds, attention_mask, position_ids,
                                                  token_type_ids, past_length)
        length = hidden_states.shape[1]
        self_mask = make_attention_mask(attention_mask, length, past_length, is_causal=self.is_causal)
        cross_mask = None
        if encoder_hidden_states is not None:
            cross_mask = make_attention_mask(encoder_attention_mask, length, encoder_hidden_states.shape[1] - length)
        hidden_states, all_hidden, all_self, all_cross = self._blocks(
            hidden_states, self_mask, position_ids, encoder_hidden_states, cross_mask, past_key_values,
            output_attentions, output_hidden_states,
        )
        return self._output(hidden_states, past_key_values, all_hidden, all_self, all_cross)

    def _cache(self, past_key_values: Cache | None, use_cache: bool) -> Cache | None:
        """The cache the blocks fill: None without ``use_cache``, when bidirectional, or under activation
        checkpointing in training (the backward replay would append to it twice); a new one if none was passed."""
        if self.has_cross_attention and past_key_values is not None \
                and not isinstance(past_key_values, EncoderDecoderCache):
            raise InputError(f"past_key_values must be an EncoderDecoderCache (self- and cross-attention halves), "
                             f"got {type(past_key_values).__name__}; pass None to start a new one.")
        if not use_cache or not self.is_causal or (
                self.training and any(layer.gradient_checkpointing for layer in self.layers)):
            return None
        if past_key_values is not None:
            return past_key_values
        if self.has_cross_attention:
            return EncoderDecoderCache(DynamicCache(), DynamicCache())
        return DynamicCache(config=self.config)

    def _embed(self, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None,
               attention_mask: torch.Tensor | None, position_ids: torch.Tensor | None,
               token_type_ids: torch.Tensor | None, past_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked inputs -> embeddings ``(batch, seq, hidden)`` and the position ids ``(batch or 1, seq)`` used."""
        if (input_ids is None) == (inputs_embeds is None):
            hint = (" (for the decoder: decoder_input_ids, decoder_inputs_embeds, or labels to build them from)"
                    if self.config.is_encoder_decoder else "")
            raise InputError(f"Pass exactly one of input_ids or inputs_embeds{hint}.")
        reference = input_ids if input_ids is not None else inputs_embeds
        length = reference.shape[1]
        check_sequence_length(self.config, past_length + length)
        if position_ids is None:
            mask = attention_mask if self.positions_follow_mask else None
            position_ids = positions_from_mask(mask, past_length, length, reference.device)
        return self.embeddings(input_ids, position_ids, inputs_embeds, token_type_ids), position_ids

    def _blocks(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None, position_ids: torch.Tensor,
                encoder_hidden_states: torch.Tensor | None, encoder_attention_mask: torch.Tensor | None,
                past_key_values: Cache | None, output_attentions: bool, output_hidden_states: bool
                ) -> tuple[torch.Tensor, tuple | None, tuple | None, tuple | None]:
        """Embedded input ``(batch, seq, hidden)`` and 4D masks -> (last hidden, all hidden, self, cross maps)."""
        position_embeddings = self.rotary(position_ids, hidden_states.dtype) if self.rotary is not None else None
        all_hidden = (hidden_states,) if output_hidden_states else None
        all_self = () if output_attentions else None
        all_cross = () if output_attentions and encoder_hidden_states is not None else None
        for layer in self.layers:
            hidden_states, self_weights, cross_weights = layer(
                hidden_states, attention_mask=attention_mask, position_embeddings=position_embeddings,
                encoder_hidden_states=encoder_hidden_states, encoder_attention_mask=encoder_attention_mask,
                past_key_values=past_key_values,
            )
            if output_hidden_states:
                all_hidden += (hidden_states,)
            if output_attentions:
                all_self += (self_weights,)
                if all_cross is not None:
                    all_cross += (cross_weights,)
        if self.norm is not None:
            hidden_states = self.norm(hidden_states)
            if output_hidden_states:
                all_hidden = all_hidden[:-1] + (hidden_states,)
        return hidden_states, all_hidden, all_self, all_cross

    def _output(self, hidden_states: torch.Tensor, past_key_values: Cache | None, all_hidden: tuple | None,
                all_self: tuple | None, all_cross: tuple | None
                ) -> BaseModelOutput | BaseModelOutputWithPast | BaseModelOutputWithPastAndCrossAttentions:
        """The output type transformers uses for this kind of stack (one object per call)."""
        if self.has_cross_attention:
            return BaseModelOutputWithPastAndCrossAttentions(
                last_hidden_state=hidden_states, past_key_values=past_key_values, hidden_states=all_hidden,
                attentions=all_self, cross_attentions=all_cross,
            )
        if self.is_causal:
            return BaseModelOutputWithPast(last_hidden_state=hidden_states, past_key_values=past_key_values,
                                           hidden_states=all_hidden, attentions=all_self)
        return BaseModelOutput(last_hidden_state=hidden_states, hidden_states=all_hidden, attentions=all_self)


class TransformerPreTrainedModel(PreTrainedModel):
    """The weight init every family shares (``init_normal``) and the capabilities transformers checks (SDPA,
    backends, checkpointing)."""

    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    _no_split_modules = ["TransformerBlock"]
    _skip_keys_device_placement = ["past_key_values"]

    def _init_weights(self, module: nn.Module) -> None:
        init_normal(module, self.config.initializer_range)
