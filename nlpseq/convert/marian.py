"""Marian (``MarianMTModel``) <-> nlpseq's encoder-decoder (``TransformerSeq2SeqForConditionalGeneration``).
Name map (``i`` = layer, ``S`` = encoder | decoder)::

    Marian (MarianMTModel)                     nlpseq encoder-decoder (TransformerSeq2SeqForConditionalGeneration)
    model.{encoder,decoder}.embed_tokens       model.{encoder,decoder}.embeddings.token_embeddings
    model.S.layers.i.self_attn.{q,k,v,out}_proj  model.S.layers.i.self_attn.{q,k,v,o}_proj   (S = encoder | decoder)
    model.decoder.layers.i.encoder_attn.*      model.decoder.layers.i.cross_attn.*
    model.S.layers.i.{self_attn,encoder_attn}_layer_norm   model.S.layers.i.{self_attn,cross_attn}_norm
    model.S.layers.i.fc1 / fc2 / final_layer_norm           model.S.layers.i.ffn.fc_in / ffn.fc_out / ffn_norm
    lm_head / final_logits_bias                lm_head.weight / lm_head.bias

Marian is the 2017 design (post-norm, sinusoidal positions, scaled embeddings) except that it lays the sinusoid
out as ``[sin ... | cos ...]`` halves where nlpseq (like the 2017 paper's formula) interleaves ``sin, cos, sin, cos``. A
Transformer does not care in which order the channels of its residual stream are listed, as long as every weight
that reads the stream (columns of Q/K/V, FFN input, embeddings, output head) and every weight that writes it
(rows of the attention output and FFN output, LayerNorm scales and shifts) uses the same order. So the conversion
permutes those channels: an exact reparametrisation, the logits are unchanged.
"""

from __future__ import annotations

import copy

import torch
from transformers import MarianConfig, MarianMTModel

from ..errors import ConfigurationError
from ..models.configuration_transformer_seq2seq import TransformerSeq2SeqConfig
from ..models.modeling_transformer_seq2seq import TransformerSeq2SeqForConditionalGeneration
from .rules import Converted, copy_renamed, name_pairs, require

GLOBAL = [
    ("model.encoder.embed_tokens.weight", "model.encoder.embeddings.token_embeddings.weight", False),
    ("model.decoder.embed_tokens.weight", "model.decoder.embeddings.token_embeddings.weight", False),
    ("lm_head.weight", "lm_head.weight", False),
]


def layer_rules(stack: str) -> list[tuple[str, str, bool]]:
    """Rules for one Marian ``encoder`` or ``decoder`` layer (the prefixes are the same on both sides)."""
    prefix = f"model.{stack}.layers.{{i}}"
    attentions = [("self_attn", "self_attn")] + ([("encoder_attn", "cross_attn")] if stack == "decoder" else [])
    rules = []
    for hf_attn, our_attn in attentions:
        rules += [(f"{prefix}.{hf_attn}.{hf}_proj", f"{prefix}.{our_attn}.{ours}_proj", False)
                  for hf, ours in (("q", "q"), ("k", "k"), ("v", "v"), ("out", "o"))]
        rules.append((f"{prefix}.{hf_attn}_layer_norm", f"{prefix}.{our_attn}_norm", False))
    return rules + [(f"{prefix}.fc1", f"{prefix}.ffn.fc_in", False), (f"{prefix}.fc2", f"{prefix}.ffn.fc_out", False),
                    (f"{prefix}.final_layer_norm", f"{prefix}.ffn_norm", False)]


def name_map(config: TransformerSeq2SeqConfig) -> list[tuple[str, str, bool]]:
    """Every (hf, ours, transpose) tensor pair of a Marian model shaped like ``config``."""
    return (name_pairs(GLOBAL, layer_rules("encoder"), config.encoder_layers)
            + name_pairs([], layer_rules("decoder"), config.decoder_layers))


# nlpseq tensor names that read the residual stream (permute columns) or write it (permute rows)
READS_STREAM = ("q_proj.weight", "k_proj.weight", "v_proj.weight", "fc_in.weight", "lm_head.weight",
                 "token_embeddings.weight")


WRITES_STREAM = ("o_proj.weight", "o_proj.bias", "fc_out.weight", "fc_out.bias", "norm.weight", "norm.bias")


def channel_order(hidden_size: int) -> torch.Tensor:
    """``order`` with ``ours = marian[..., order]``: our channel ``2j`` is Marian's ``sin`` channel ``j``,
    our ``2j+1`` its ``cos`` channel ``j`` (Marian's ``hidden/2 + j``)."""
    half = torch.arange(hidden_size // 2)
    return torch.stack((half, half + hidden_size // 2), dim=-1).flatten()


def reorder_stream(state: dict[str, torch.Tensor], order: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reorder the residual-stream channels of every nlpseq-named tensor that reads or writes the stream."""
    out = {}
    for name, tensor in state.items():
        if name.endswith(READS_STREAM):
            tensor = tensor[:, order]
        elif name.endswith(WRITES_STREAM):
            tensor = tensor[order]
        out[name] = tensor.contiguous()
    return out


def config_from_marian(config: MarianConfig) -> TransformerSeq2SeqConfig:
    different = {name: (getattr(config, f"encoder_{name}"), getattr(config, f"decoder_{name}"))
                 for name in ("attention_heads", "ffn_dim")
                 if getattr(config, f"encoder_{name}") != getattr(config, f"decoder_{name}")}
    if different:
        raise ConfigurationError(f"This Marian model sizes its encoder and decoder differently ({different}: encoder, "
                                 "decoder); nlpseq's encoder-decoder shares heads and feed-forward width between them.")
    share = config.share_encoder_decoder_embeddings and config.tie_word_embeddings   # v5 ties all or nothing
    return TransformerSeq2SeqConfig(
        vocab_size=config.vocab_size, decoder_vocab_size=config.decoder_vocab_size,
        share_encoder_decoder_embeddings=share, tie_word_embeddings=config.tie_word_embeddings,
        hidden_size=config.d_model, encoder_layers=config.encoder_layers, decoder_layers=config.decoder_layers,
        num_hidden_layers=config.decoder_layers, num_attention_heads=config.encoder_attention_heads,
        intermediate_size=config.encoder_ffn_dim, max_position_embeddings=config.max_position_embeddings,
        hidden_act=config.activation_function, hidden_dropout_prob=config.dropout,
        attention_probs_dropout_prob=config.attention_dropout, layer_norm_eps=1e-5, initializer_range=config.init_std,
        position_embedding_type="sinusoidal", norm_position="post", embedding_layer_norm=False,
        scale_embedding=config.scale_embedding, pad_token_id=config.pad_token_id, bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id, decoder_start_token_id=config.decoder_start_token_id,
        attn_implementation=config._attn_implementation,
    )


def config_to_marian(config: TransformerSeq2SeqConfig) -> MarianConfig:
    """The Marian config of an encoder-decoder that Marian can express (sinusoidal positions, post-norm)."""
    require(config, "Marian", position_embedding_type="sinusoidal", norm_position="post",
            embedding_layer_norm=False, type_vocab_size=0)
    return MarianConfig(
        vocab_size=config.vocab_size, decoder_vocab_size=config.decoder_vocab_size,
        share_encoder_decoder_embeddings=config.share_encoder_decoder_embeddings,
        tie_word_embeddings=config.tie_word_embeddings, d_model=config.hidden_size,
        encoder_layers=config.encoder_layers, decoder_layers=config.decoder_layers,
        encoder_attention_heads=config.num_attention_heads, decoder_attention_heads=config.num_attention_heads,
        encoder_ffn_dim=config.intermediate_size, decoder_ffn_dim=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings, activation_function=config.hidden_act,
        dropout=config.hidden_dropout_prob, attention_dropout=config.attention_probs_dropout_prob,
        init_std=config.initializer_range, scale_embedding=config.scale_embedding,
        pad_token_id=config.pad_token_id, bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
        forced_eos_token_id=None, decoder_start_token_id=config.decoder_start_token_id,
    )


def from_marian(hf: MarianMTModel) -> tuple[TransformerSeq2SeqForConditionalGeneration, Converted]:
    """An encoder-decoder for ``hf`` (with its generation config) and Marian's weights under its names, the
    residual-stream channels interleaved."""
    state, config = hf.state_dict(), config_from_marian(hf.config)
    converted = copy_renamed(state, name_map(config), reverse=False)
    converted["lm_head.bias"] = state["final_logits_bias"][0].clone()
    converted = reorder_stream(converted, channel_order(config.hidden_size))
    model = TransformerSeq2SeqForConditionalGeneration(config)
    model.generation_config = copy.deepcopy(hf.generation_config)
    return model, converted


def to_marian(model: TransformerSeq2SeqForConditionalGeneration) -> tuple[MarianMTModel, Converted]:
    """A Marian model for ``model`` and its weights under Marian's names, the residual-stream channels in
    Marian's ``[sin | cos]`` order; Marian's own fixed position tables are kept."""
    config = model.config
    hf = MarianMTModel(config_to_marian(config))
    state = reorder_stream(model.state_dict(), torch.argsort(channel_order(config.hidden_size)))
    converted = copy_renamed(state, name_map(config), reverse=True)
    converted["final_logits_bias"] = state["lm_head.bias"][None]
    if config.share_encoder_decoder_embeddings:
        converted["model.shared.weight"] = converted["model.encoder.embed_tokens.weight"]
    converted.update({k: v for k, v in hf.state_dict().items() if "embed_positions" in k})  # fixed tables
    return hf, converted
