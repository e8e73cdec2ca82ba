"""BERT (``BertForMaskedLM``) <-> nlpseq's encoder (``EncoderForMaskedLM``). Name map (``i`` = layer)::

    BERT                                    nlpseq encoder (prefix model.encoder.)
    bert.embeddings.{word,position,token_type}_embeddings   embeddings.{token,position,token_type}_embeddings
    bert.embeddings.LayerNorm                               embeddings.norm
    bert.encoder.layer.i.attention.self.{query,key,value}   layers.i.self_attn.{q,k,v}_proj
    bert.encoder.layer.i.attention.output.dense / LayerNorm layers.i.self_attn.o_proj / self_attn_norm
    bert.encoder.layer.i.intermediate.dense                 layers.i.ffn.fc_in
    bert.encoder.layer.i.output.dense / LayerNorm           layers.i.ffn.fc_out / ffn_norm
    cls.predictions.transform.dense / LayerNorm / decoder   mlm_head.dense / norm / decoder

``to_bert`` needs the layout BERT has: learned positions, post-norm, an embedding LayerNorm, no scaling.
"""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForMaskedLM

from ..errors import ConfigurationError
from ..models.configuration_encoder import EncoderConfig
from ..models.modeling_encoder import EncoderForMaskedLM
from .rules import Converted, copy_renamed, name_pairs, require

GLOBAL = [
    ("bert.embeddings.word_embeddings.weight", "model.encoder.embeddings.token_embeddings.weight", False),
    ("bert.embeddings.position_embeddings.weight", "model.encoder.embeddings.position_embeddings.weight", False),
    ("bert.embeddings.token_type_embeddings.weight", "model.encoder.embeddings.token_type_embeddings.weight", False),
    ("bert.embeddings.LayerNorm", "model.encoder.embeddings.norm", False),
    ("cls.predictions.transform.dense", "mlm_head.dense", False),
    ("cls.predictions.transform.LayerNorm", "mlm_head.norm", False),
    ("cls.predictions.decoder", "mlm_head.decoder", False),
]

LAYER = [
    ("bert.encoder.layer.{i}.attention.self.query", "model.encoder.layers.{i}.self_attn.q_proj", False),
    ("bert.encoder.layer.{i}.attention.self.key", "model.encoder.layers.{i}.self_attn.k_proj", False),
    ("bert.encoder.layer.{i}.attention.self.value", "model.encoder.layers.{i}.self_attn.v_proj", False),
    ("bert.encoder.layer.{i}.attention.output.dense", "model.encoder.layers.{i}.self_attn.o_proj", False),
    ("bert.encoder.layer.{i}.attention.output.LayerNorm", "model.encoder.layers.{i}.self_attn_norm", False),
    ("bert.encoder.layer.{i}.intermediate.dense", "model.encoder.layers.{i}.ffn.fc_in", False),
    ("bert.encoder.layer.{i}.output.dense", "model.encoder.layers.{i}.ffn.fc_out", False),
    ("bert.encoder.layer.{i}.output.LayerNorm", "model.encoder.layers.{i}.ffn_norm", False),
]


def config_from_bert(config: BertConfig) -> EncoderConfig:
    if config.is_decoder or config.add_cross_attention:
        raise ConfigurationError("Only encoder BERT (is_decoder=False, no cross-attention) converts to "
                                 "EncoderForMaskedLM.")
    return EncoderConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings, hidden_act=config.hidden_act,
        hidden_dropout_prob=config.hidden_dropout_prob,
        attention_probs_dropout_prob=config.attention_probs_dropout_prob, layer_norm_eps=config.layer_norm_eps,
        initializer_range=config.initializer_range, type_vocab_size=config.type_vocab_size,
        position_embedding_type="learned", norm_position="post", embedding_layer_norm=True, scale_embedding=False,
        tie_word_embeddings=config.tie_word_embeddings, pad_token_id=config.pad_token_id,
        attn_implementation=config._attn_implementation,
    )


def config_to_bert(config: EncoderConfig) -> BertConfig:
    """The BERT config of an encoder that BERT can express (learned positions, post-norm, embedding LayerNorm)."""
    require(config, "BERT", position_embedding_type="learned", norm_position="post", embedding_layer_norm=True,
            scale_embedding=False)
    return BertConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings, hidden_act=config.hidden_act,
        hidden_dropout_prob=config.hidden_dropout_prob,
        attention_probs_dropout_prob=config.attention_probs_dropout_prob, layer_norm_eps=config.layer_norm_eps,
        initializer_range=config.initializer_range, type_vocab_size=max(config.type_vocab_size, 1),
        tie_word_embeddings=config.tie_word_embeddings, pad_token_id=config.pad_token_id,
    )


def from_bert(hf: BertForMaskedLM) -> tuple[EncoderForMaskedLM, Converted]:
    """An encoder for ``hf`` and BERT's weights under its names."""
    state, config = hf.state_dict(), config_from_bert(hf.config)
    converted = copy_renamed(state, name_pairs(GLOBAL, LAYER, config.num_hidden_layers), reverse=False)
    return EncoderForMaskedLM(config), converted


def to_bert(model: EncoderForMaskedLM) -> tuple[BertForMaskedLM, Converted]:
    """A BERT for ``model`` and its weights under BERT's names (a zero segment vector when it has none)."""
    config, state = model.config, model.state_dict()
    hf = BertForMaskedLM(config_to_bert(config))
    converted = copy_renamed(state, name_pairs(GLOBAL, LAYER, config.num_hidden_layers), reverse=True)
    if config.type_vocab_size == 0:                                      # BERT always adds a segment vector: 0
        converted["bert.embeddings.token_type_embeddings.weight"] = torch.zeros(1, config.hidden_size)
    converted["cls.predictions.bias"] = converted["cls.predictions.decoder.bias"]
    return hf, converted
