"""GPT-2 (``GPT2LMHeadModel``) <-> nlpseq's decoder (``DecoderForCausalLM``). Name map (``i`` = layer)::

    GPT-2                                   nlpseq decoder (prefix model.decoder.)
    transformer.wte / wpe                   embeddings.token_embeddings / embeddings.position_embeddings
    transformer.h.i.ln_1 / ln_2             layers.i.self_attn_norm / layers.i.ffn_norm
    transformer.h.i.attn.c_attn  (in, 3h)   layers.i.self_attn.{q,k,v}_proj  (split, transposed: Conv1D is x W)
    transformer.h.i.attn.c_proj             layers.i.self_attn.o_proj  (transposed)
    transformer.h.i.mlp.c_fc / c_proj       layers.i.ffn.fc_in / fc_out  (transposed)
    transformer.ln_f                        norm

``to_gpt2`` needs the layout GPT-2 has: learned positions, pre-norm, no embedding LayerNorm or scaling.
"""

from __future__ import annotations

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from ..errors import ConfigurationError
from ..models.configuration_decoder import DecoderConfig
from ..models.modeling_decoder import DecoderForCausalLM
from .rules import Converted, copy_renamed, name_pairs, require

# (hf name, nlpseq name, transpose) with {i} for the layer index; weight and bias unless the name ends in .weight
GLOBAL = [
    ("transformer.wte.weight", "model.decoder.embeddings.token_embeddings.weight", False),
    ("transformer.wpe.weight", "model.decoder.embeddings.position_embeddings.weight", False),
    ("transformer.ln_f", "model.decoder.norm", False),
    ("lm_head.weight", "lm_head.weight", False),
]

LAYER = [
    ("transformer.h.{i}.ln_1", "model.decoder.layers.{i}.self_attn_norm", False),
    ("transformer.h.{i}.ln_2", "model.decoder.layers.{i}.ffn_norm", False),
    ("transformer.h.{i}.attn.c_proj", "model.decoder.layers.{i}.self_attn.o_proj", True),
    ("transformer.h.{i}.mlp.c_fc", "model.decoder.layers.{i}.ffn.fc_in", True),
    ("transformer.h.{i}.mlp.c_proj", "model.decoder.layers.{i}.ffn.fc_out", True),
]


def config_from_gpt2(config: GPT2Config) -> DecoderConfig:
    unsupported = {"add_cross_attention": config.add_cross_attention,
                   "scale_attn_by_inverse_layer_idx": config.scale_attn_by_inverse_layer_idx,
                   "scale_attn_weights=False": not config.scale_attn_weights}
    if any(unsupported.values()):
        raise ConfigurationError(f"This GPT-2 variant cannot be converted: {[k for k, v in unsupported.items() if v]} "
                                 "has no nlpseq equivalent.")
    return DecoderConfig(
        vocab_size=config.vocab_size, hidden_size=config.n_embd, num_hidden_layers=config.n_layer,
        num_attention_heads=config.n_head, intermediate_size=config.n_inner or 4 * config.n_embd,
        max_position_embeddings=config.n_positions, hidden_act=config.activation_function,
        hidden_dropout_prob=config.resid_pdrop, attention_probs_dropout_prob=config.attn_pdrop,
        layer_norm_eps=config.layer_norm_epsilon, initializer_range=config.initializer_range,
        position_embedding_type="learned", norm_position="pre", tie_word_embeddings=config.tie_word_embeddings,
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id,
        attn_implementation=config._attn_implementation,
    )


def config_to_gpt2(config: DecoderConfig) -> GPT2Config:
    """The GPT-2 config of a decoder that GPT-2 can express (learned positions, pre-norm, no extras)."""
    require(config, "GPT-2", position_embedding_type="learned", norm_position="pre", embedding_layer_norm=False,
            scale_embedding=False, type_vocab_size=0)
    return GPT2Config(
        vocab_size=config.vocab_size, n_embd=config.hidden_size, n_layer=config.num_hidden_layers,
        n_head=config.num_attention_heads, n_inner=config.intermediate_size,
        n_positions=config.max_position_embeddings, activation_function=config.hidden_act,
        resid_pdrop=config.hidden_dropout_prob, embd_pdrop=config.hidden_dropout_prob,
        attn_pdrop=config.attention_probs_dropout_prob, layer_norm_epsilon=config.layer_norm_eps,
        initializer_range=config.initializer_range, tie_word_embeddings=config.tie_word_embeddings,
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id,
    )


def from_gpt2(hf: GPT2LMHeadModel) -> tuple[DecoderForCausalLM, Converted]:
    """A decoder for ``hf`` and GPT-2's weights under its names (the fused ``c_attn`` split into q, k, v)."""
    state, config = hf.state_dict(), config_from_gpt2(hf.config)
    converted = copy_renamed(state, name_pairs(GLOBAL, LAYER, config.num_hidden_layers), reverse=False)
    for i in range(config.num_hidden_layers):                            # fused c_attn -> q, k, v
        weight = state[f"transformer.h.{i}.attn.c_attn.weight"].t().chunk(3, dim=0)
        bias = state[f"transformer.h.{i}.attn.c_attn.bias"].chunk(3, dim=0)
        for name, w, b in zip(("q_proj", "k_proj", "v_proj"), weight, bias):
            converted[f"model.decoder.layers.{i}.self_attn.{name}.weight"] = w.contiguous()
            converted[f"model.decoder.layers.{i}.self_attn.{name}.bias"] = b.clone()
    return DecoderForCausalLM(config), converted


def to_gpt2(model: DecoderForCausalLM) -> tuple[GPT2LMHeadModel, Converted]:
    """A GPT-2 for ``model`` and its weights under GPT-2's names (q, k, v fused into ``c_attn``)."""
    config, state = model.config, model.state_dict()
    hf = GPT2LMHeadModel(config_to_gpt2(config))
    converted = copy_renamed(state, name_pairs(GLOBAL, LAYER, config.num_hidden_layers), reverse=True)
    for i in range(config.num_hidden_layers):                            # q, k, v -> fused c_attn
        prefix = f"model.decoder.layers.{i}.self_attn"
        converted[f"transformer.h.{i}.attn.c_attn.weight"] = torch.cat(
            [state[f"{prefix}.{n}.weight"] for n in ("q_proj", "k_proj", "v_proj")]).t().contiguous()
        converted[f"transformer.h.{i}.attn.c_attn.bias"] = torch.cat(
            [state[f"{prefix}.{n}.bias"] for n in ("q_proj", "k_proj", "v_proj")])
    return hf, converted
