"""Mamba (``MambaForCausalLM``) <-> nlpseq's selective SSM (``SelectiveSSMForCausalLM``). Name map (``i`` = layer)::

    Mamba (MambaForCausalLM)                nlpseq selective SSM (SelectiveSSMForCausalLM)
    backbone.embeddings                     model.embed_tokens
    backbone.layers.i.norm                  model.layers.i.norm
    backbone.layers.i.mixer.{in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj}   model.layers.i.mixer.(same)
    backbone.norm_f / lm_head               model.norm_f / lm_head

Mamba's config fields are nlpseq's under the same names (``FIELDS``). Mamba keeps the residual stream in
float32 (``residual_in_fp32``) where nlpseq keeps the model's dtype: the same numbers in float32, and within
rounding in half precision. At a padded position Mamba zeroes the block's input but still decays the state, nlpseq
zeroes ``in_proj``'s output and sets ``Δ = 0`` (the state passes padding unchanged). Before the first real token
the state is still zero and after the last one nothing real follows, so left- and right-padded rows give the same
logits at their real positions (and the same generations); a hole inside a row does not, and with ``use_bias``
(Mamba's default is False) neither does left padding: Mamba's ``in_proj`` bias reaches the convolution from the pads.
"""

from __future__ import annotations

import copy

from transformers import MambaConfig, MambaForCausalLM

from ..models.configuration_ssm import SelectiveSSMConfig
from ..models.modeling_ssm import SelectiveSSMForCausalLM
from .rules import Converted, copy_renamed, name_pairs, require

GLOBAL = [
    ("backbone.embeddings.weight", "model.embed_tokens.weight", False),
    ("backbone.norm_f.weight", "model.norm_f.weight", False),
    ("lm_head.weight", "lm_head.weight", False),
]

LAYER = [("backbone.layers.{i}.norm.weight", "model.layers.{i}.norm.weight", False)] + [
    (f"backbone.layers.{{i}}.mixer.{name}", f"model.layers.{{i}}.mixer.{name}", False)
    for name in ("in_proj", "conv1d", "x_proj", "dt_proj", "A_log", "D", "out_proj")]


#: config fields Mamba and nlpseq's selective SSM share, name and meaning
FIELDS = ("vocab_size", "hidden_size", "state_size", "num_hidden_layers", "expand", "conv_kernel", "use_bias",
          "use_conv_bias", "hidden_act", "initializer_range", "time_step_rank", "time_step_scale", "time_step_min",
          "time_step_max", "time_step_init_scheme", "time_step_floor", "layer_norm_epsilon",
          "rescale_prenorm_residual", "tie_word_embeddings", "use_cache", "pad_token_id", "bos_token_id",
          "eos_token_id")


def config_from_mamba(config: MambaConfig) -> SelectiveSSMConfig:
    """The selective-SSM config of a Mamba: the shared fields as they are (``time_step_rank`` already resolved), the
    scan of ``SelectiveSSMConfig``'s default (parallel), no dropout (Mamba has none)."""
    return SelectiveSSMConfig(**{name: getattr(config, name) for name in FIELDS})


def config_to_mamba(config: SelectiveSSMConfig) -> MambaConfig:
    """The Mamba config of a selective SSM that Mamba can express (the full softmax; dropout, which only acts in
    training, and the scan implementation are not carried over)."""
    require(config, "Mamba", adaptive_softmax_cutoffs=None)
    return MambaConfig(**{name: getattr(config, name) for name in FIELDS})


def from_mamba(hf: MambaForCausalLM) -> tuple[SelectiveSSMForCausalLM, Converted]:
    """A selective-SSM language model for ``hf`` (with its generation config) and Mamba's weights under its names (a
    prefix rename: the mixers' tensors have the same names and shapes)."""
    config = config_from_mamba(hf.config)
    converted = copy_renamed(hf.state_dict(), name_pairs(GLOBAL, LAYER, config.num_hidden_layers), reverse=False)
    model = SelectiveSSMForCausalLM(config)
    model.generation_config = copy.deepcopy(hf.generation_config)
    return model, converted


def to_mamba(model: SelectiveSSMForCausalLM) -> tuple[MambaForCausalLM, Converted]:
    """A Mamba for ``model`` and its weights under Mamba's names."""
    config = model.config
    hf = MambaForCausalLM(config_to_mamba(config))
    converted = copy_renamed(model.state_dict(), name_pairs(GLOBAL, LAYER, config.num_hidden_layers), reverse=True)
    return hf, converted
