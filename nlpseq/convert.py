"""Move weights between transformers' GPT-2 / BERT / Marian / Mamba and nlpseq's decoder / encoder /
encoder-decoder / selective SSM.

``from_hf(GPT2LMHeadModel)`` gives a ``DecoderForCausalLM`` and ``from_hf(BertForMaskedLM)`` an
``EncoderForMaskedLM`` with the same logits (configs translated, weights copied), so a pretrained checkpoint on
disk can be the starting point. ``to_hf`` goes back where the architecture matches (learned positions; pre-norm
and no embedding LayerNorm for GPT-2; post-norm with embedding LayerNorm for BERT; the full softmax for Mamba).

Supported pairs, each way::

    transformers                nlpseq
    GPT2LMHeadModel             DecoderForCausalLM
    BertForMaskedLM             EncoderForMaskedLM
    MarianMTModel               TransformerSeq2SeqForConditionalGeneration
    MambaForCausalLM            SelectiveSSMForCausalLM

Name map (``i`` = layer)::

    GPT-2                                   nlpseq decoder (prefix model.decoder.)
    transformer.wte / wpe                   embeddings.token_embeddings / embeddings.position_embeddings
    transformer.h.i.ln_1 / ln_2             layers.i.self_attn_norm / layers.i.ffn_norm
    transformer.h.i.attn.c_attn  (in, 3h)   layers.i.self_attn.{q,k,v}_proj  (split, transposed: Conv1D is x W)
    transformer.h.i.attn.c_proj             layers.i.self_attn.o_proj  (transposed)
    transformer.h.i.mlp.c_fc / c_proj       layers.i.ffn.fc_in / fc_out  (transposed)
    transformer.ln_f                        norm

    BERT                                    nlpseq encoder (prefix model.encoder.)
    bert.embeddings.{word,position,token_type}_embeddings   embeddings.{token,position,token_type}_embeddings
    bert.embeddings.LayerNorm                               embeddings.norm
    bert.encoder.layer.i.attention.self.{query,key,value}   layers.i.self_attn.{q,k,v}_proj
    bert.encoder.layer.i.attention.output.dense / LayerNorm layers.i.self_attn.o_proj / self_attn_norm
    bert.encoder.layer.i.intermediate.dense                 layers.i.ffn.fc_in
    bert.encoder.layer.i.output.dense / LayerNorm           layers.i.ffn.fc_out / ffn_norm
    cls.predictions.transform.dense / LayerNorm / decoder   mlm_head.dense / norm / decoder

    Marian (MarianMTModel)                     nlpseq encoder-decoder (TransformerSeq2SeqForConditionalGeneration)
    model.{encoder,decoder}.embed_tokens       model.{encoder,decoder}.embeddings.token_embeddings
    model.S.layers.i.self_attn.{q,k,v,out}_proj  model.S.layers.i.self_attn.{q,k,v,o}_proj   (S = encoder | decoder)
    model.decoder.layers.i.encoder_attn.*      model.decoder.layers.i.cross_attn.*
    model.S.layers.i.{self_attn,encoder_attn}_layer_norm   model.S.layers.i.{self_attn,cross_attn}_norm
    model.S.layers.i.fc1 / fc2 / final_layer_norm           model.S.layers.i.ffn.fc_in / ffn.fc_out / ffn_norm
    lm_head / final_logits_bias                lm_head.weight / lm_head.bias

    Mamba (MambaForCausalLM)                nlpseq selective SSM (SelectiveSSMForCausalLM)
    backbone.embeddings                     model.embed_tokens
    backbone.layers.i.norm                  model.layers.i.norm
    backbone.layers.i.mixer.{in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj}   model.layers.i.mixer.(same)
    backbone.norm_f / lm_head               model.norm_f / lm_head

Mamba's config fields are nlpseq's under the same names (``_MAMBA_FIELDS``). Mamba keeps the residual stream in
float32 (``residual_in_fp32``) where nlpseq keeps the model's dtype: the same numbers in float32, and within
rounding in half precision. At a padded position Mamba zeroes the block's input but still decays the state, nlpseq
zeroes ``in_proj``'s output and sets ``Δ = 0`` (the state passes padding unchanged). Before the first real token
the state is still zero and after the last one nothing real follows, so left- and right-padded rows give the same
logits at their real positions (and the same generations); a hole inside a row does not, and with ``use_bias``
(Mamba's default is False) neither does left padding: Mamba's ``in_proj`` bias reaches the convolution from the pads.

Marian is the 2017 design (post-norm, sinusoidal positions, scaled embeddings) except that it lays the sinusoid
out as ``[sin ... | cos ...]`` halves where nlpseq (like the 2017 paper's formula) interleaves ``sin, cos, sin, cos``. A
Transformer does not care in which order the channels of its residual stream are listed, as long as every weight
that reads the stream (columns of Q/K/V, FFN input, embeddings, output head) and every weight that writes it
(rows of the attention output and FFN output, LayerNorm scales and shifts) uses the same order. So the conversion
permutes those channels: an exact reparametrisation, the logits are unchanged.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable

import torch
from transformers import (
    AutoConfig,
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    MambaConfig,
    MambaForCausalLM,
    MarianConfig,
    MarianMTModel,
    PreTrainedModel,
)

from .errors import ConfigurationError
from .models.configuration_decoder import DecoderConfig
from .models.configuration_encoder import EncoderConfig
from .models.configuration_ssm import SelectiveSSMConfig
from .models.configuration_transformer_seq2seq import TransformerSeq2SeqConfig
from .models.modeling_decoder import DecoderForCausalLM
from .models.modeling_encoder import EncoderForMaskedLM
from .models.modeling_ssm import SelectiveSSMForCausalLM
from .models.modeling_transformer_seq2seq import TransformerSeq2SeqForConditionalGeneration

# (hf name, nlpseq name, transpose) with {i} for the layer index; weight and bias unless the name ends in .weight
_GPT2_GLOBAL = [
    ("transformer.wte.weight", "model.decoder.embeddings.token_embeddings.weight", False),
    ("transformer.wpe.weight", "model.decoder.embeddings.position_embeddings.weight", False),
    ("transformer.ln_f", "model.decoder.norm", False),
    ("lm_head.weight", "lm_head.weight", False),
]
_GPT2_LAYER = [
    ("transformer.h.{i}.ln_1", "model.decoder.layers.{i}.self_attn_norm", False),
    ("transformer.h.{i}.ln_2", "model.decoder.layers.{i}.ffn_norm", False),
    ("transformer.h.{i}.attn.c_proj", "model.decoder.layers.{i}.self_attn.o_proj", True),
    ("transformer.h.{i}.mlp.c_fc", "model.decoder.layers.{i}.ffn.fc_in", True),
    ("transformer.h.{i}.mlp.c_proj", "model.decoder.layers.{i}.ffn.fc_out", True),
]
_BERT_GLOBAL = [
    ("bert.embeddings.word_embeddings.weight", "model.encoder.embeddings.token_embeddings.weight", False),
    ("bert.embeddings.position_embeddings.weight", "model.encoder.embeddings.position_embeddings.weight", False),
    ("bert.embeddings.token_type_embeddings.weight", "model.encoder.embeddings.token_type_embeddings.weight", False),
    ("bert.embeddings.LayerNorm", "model.encoder.embeddings.norm", False),
    ("cls.predictions.transform.dense", "mlm_head.dense", False),
    ("cls.predictions.transform.LayerNorm", "mlm_head.norm", False),
    ("cls.predictions.decoder", "mlm_head.decoder", False),
]
_BERT_LAYER = [
    ("bert.encoder.layer.{i}.attention.self.query", "model.encoder.layers.{i}.self_attn.q_proj", False),
    ("bert.encoder.layer.{i}.attention.self.key", "model.encoder.layers.{i}.self_attn.k_proj", False),
    ("bert.encoder.layer.{i}.attention.self.value", "model.encoder.layers.{i}.self_attn.v_proj", False),
    ("bert.encoder.layer.{i}.attention.output.dense", "model.encoder.layers.{i}.self_attn.o_proj", False),
    ("bert.encoder.layer.{i}.attention.output.LayerNorm", "model.encoder.layers.{i}.self_attn_norm", False),
    ("bert.encoder.layer.{i}.intermediate.dense", "model.encoder.layers.{i}.ffn.fc_in", False),
    ("bert.encoder.layer.{i}.output.dense", "model.encoder.layers.{i}.ffn.fc_out", False),
    ("bert.encoder.layer.{i}.output.LayerNorm", "model.encoder.layers.{i}.ffn_norm", False),
]

_MARIAN_GLOBAL = [
    ("model.encoder.embed_tokens.weight", "model.encoder.embeddings.token_embeddings.weight", False),
    ("model.decoder.embed_tokens.weight", "model.decoder.embeddings.token_embeddings.weight", False),
    ("lm_head.weight", "lm_head.weight", False),
]


def _marian_layer_rules(stack: str) -> list[tuple[str, str, bool]]:
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

_MAMBA_GLOBAL = [
    ("backbone.embeddings.weight", "model.embed_tokens.weight", False),
    ("backbone.norm_f.weight", "model.norm_f.weight", False),
    ("lm_head.weight", "lm_head.weight", False),
]
_MAMBA_LAYER = [("backbone.layers.{i}.norm.weight", "model.layers.{i}.norm.weight", False)] + [
    (f"backbone.layers.{{i}}.mixer.{name}", f"model.layers.{{i}}.mixer.{name}", False)
    for name in ("in_proj", "conv1d", "x_proj", "dt_proj", "A_log", "D", "out_proj")]
#: config fields Mamba and nlpseq's selective SSM share, name and meaning
_MAMBA_FIELDS = ("vocab_size", "hidden_size", "state_size", "num_hidden_layers", "expand", "conv_kernel", "use_bias",
                 "use_conv_bias", "hidden_act", "initializer_range", "time_step_rank", "time_step_scale",
                 "time_step_min", "time_step_max", "time_step_init_scheme", "time_step_floor", "layer_norm_epsilon",
                 "rescale_prenorm_residual", "tie_word_embeddings", "use_cache", "pad_token_id", "bos_token_id",
                 "eos_token_id")


# nlpseq tensor names that read the residual stream (permute columns) or write it (permute rows)
_READS_STREAM = ("q_proj.weight", "k_proj.weight", "v_proj.weight", "fc_in.weight", "lm_head.weight",
                 "token_embeddings.weight")
_WRITES_STREAM = ("o_proj.weight", "o_proj.bias", "fc_out.weight", "fc_out.bias", "norm.weight", "norm.bias")


def _marian_channel_order(hidden_size: int) -> torch.Tensor:
    """``order`` with ``ours = marian[..., order]``: our channel ``2j`` is Marian's ``sin`` channel ``j``,
    our ``2j+1`` its ``cos`` channel ``j`` (Marian's ``hidden/2 + j``)."""
    half = torch.arange(hidden_size // 2)
    return torch.stack((half, half + hidden_size // 2), dim=-1).flatten()


def _reorder_stream(state: dict[str, torch.Tensor], order: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reorder the residual-stream channels of every nlpseq-named tensor that reads or writes the stream."""
    out = {}
    for name, tensor in state.items():
        if name.endswith(_READS_STREAM):
            tensor = tensor[:, order]
        elif name.endswith(_WRITES_STREAM):
            tensor = tensor[order]
        out[name] = tensor.contiguous()
    return out


#: a rule whose name ends so names one tensor; any other rule names a module: its weight and its bias
_TENSOR_NAMES = (".weight", ".A_log", ".D")


def _name_pairs(global_rules: list, layer_rules: list, num_layers: int) -> list[tuple[str, str, bool]]:
    """Expand the rules into concrete (hf, ours, transpose) tensor names (a bias the model lacks is skipped by
    ``_copy``)."""
    rules = global_rules + [(h.format(i=i), o.format(i=i), t) for i in range(num_layers) for h, o, t in layer_rules]
    pairs = []
    for hf_name, our_name, transpose in rules:
        if hf_name.endswith(_TENSOR_NAMES):
            pairs.append((hf_name, our_name, transpose))
        else:
            pairs.append((f"{hf_name}.weight", f"{our_name}.weight", transpose))
            pairs.append((f"{hf_name}.bias", f"{our_name}.bias", False))
    return pairs


def _copy(source: dict[str, torch.Tensor], pairs: list, reverse: bool) -> dict[str, torch.Tensor]:
    """Rename (and transpose) tensors hf -> ours, or ours -> hf when ``reverse``."""
    out = {}
    for hf_name, our_name, transpose in pairs:
        src, dst = (our_name, hf_name) if reverse else (hf_name, our_name)
        if src in source:
            out[dst] = source[src].t().contiguous() if transpose else source[src].clone()
    return out


def _gpt2_to_config(config: GPT2Config) -> DecoderConfig:
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


def _bert_to_config(config: BertConfig) -> EncoderConfig:
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


def _marian_to_config(config: MarianConfig) -> TransformerSeq2SeqConfig:
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


def _mamba_to_config(config: MambaConfig) -> SelectiveSSMConfig:
    """The selective-SSM config of a Mamba: the shared fields as they are (``time_step_rank`` already resolved), the
    scan of ``SelectiveSSMConfig``'s default (parallel), no dropout (Mamba has none)."""
    return SelectiveSSMConfig(**{name: getattr(config, name) for name in _MAMBA_FIELDS})


def _marian_pairs(config: TransformerSeq2SeqConfig) -> list[tuple[str, str, bool]]:
    return (_name_pairs(_MARIAN_GLOBAL, _marian_layer_rules("encoder"), config.encoder_layers)
            + _name_pairs([], _marian_layer_rules("decoder"), config.decoder_layers))


def _load(model: PreTrainedModel, state_dict: dict[str, torch.Tensor]) -> PreTrainedModel:
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    tied = set(getattr(model, "_tied_weights_keys", None) or {}) if model.config.tie_word_embeddings else set()
    missing = [k for k in missing if k not in tied]
    if missing or unexpected:
        raise RuntimeError(f"Weight conversion incomplete: missing {missing}, unexpected {unexpected}.")
    return model.eval()


#: converted weights: tensor name (in the target layout) -> tensor
Converted = dict[str, torch.Tensor]


def _from_gpt2(hf: GPT2LMHeadModel) -> tuple[DecoderForCausalLM, Converted]:
    """A decoder for ``hf`` and GPT-2's weights under its names (the fused ``c_attn`` split into q, k, v)."""
    state, config = hf.state_dict(), _gpt2_to_config(hf.config)
    converted = _copy(state, _name_pairs(_GPT2_GLOBAL, _GPT2_LAYER, config.num_hidden_layers), reverse=False)
    for i in range(config.num_hidden_layers):                            # fused c_attn -> q, k, v
        weight = state[f"transformer.h.{i}.attn.c_attn.weight"].t().chunk(3, dim=0)
        bias = state[f"transformer.h.{i}.attn.c_attn.bias"].chunk(3, dim=0)
        for name, w, b in zip(("q_proj", "k_proj", "v_proj"), weight, bias):
            converted[f"model.decoder.layers.{i}.self_attn.{name}.weight"] = w.contiguous()
            converted[f"model.decoder.layers.{i}.self_attn.{name}.bias"] = b.clone()
    return DecoderForCausalLM(config), converted


def _from_bert(hf: BertForMaskedLM) -> tuple[EncoderForMaskedLM, Converted]:
    """An encoder for ``hf`` and BERT's weights under its names."""
    state, config = hf.state_dict(), _bert_to_config(hf.config)
    converted = _copy(state, _name_pairs(_BERT_GLOBAL, _BERT_LAYER, config.num_hidden_layers), reverse=False)
    return EncoderForMaskedLM(config), converted


def _from_marian(hf: MarianMTModel) -> tuple[TransformerSeq2SeqForConditionalGeneration, Converted]:
    """An encoder-decoder for ``hf`` (with its generation config) and Marian's weights under its names, the
    residual-stream channels interleaved."""
    state, config = hf.state_dict(), _marian_to_config(hf.config)
    converted = _copy(state, _marian_pairs(config), reverse=False)
    converted["lm_head.bias"] = state["final_logits_bias"][0].clone()
    converted = _reorder_stream(converted, _marian_channel_order(config.hidden_size))
    model = TransformerSeq2SeqForConditionalGeneration(config)
    model.generation_config = copy.deepcopy(hf.generation_config)
    return model, converted


def _from_mamba(hf: MambaForCausalLM) -> tuple[SelectiveSSMForCausalLM, Converted]:
    """A selective-SSM language model for ``hf`` (with its generation config) and Mamba's weights under its names (a
    prefix rename: the mixers' tensors have the same names and shapes)."""
    config = _mamba_to_config(hf.config)
    converted = _copy(hf.state_dict(), _name_pairs(_MAMBA_GLOBAL, _MAMBA_LAYER, config.num_hidden_layers),
                      reverse=False)
    model = SelectiveSSMForCausalLM(config)
    model.generation_config = copy.deepcopy(hf.generation_config)
    return model, converted


#: transformers class -> its converter, tried in this order
_FROM_HF = ((GPT2LMHeadModel, _from_gpt2), (BertForMaskedLM, _from_bert), (MarianMTModel, _from_marian),
            (MambaForCausalLM, _from_mamba))
#: model_type of a checkpoint folder -> the transformers class that loads it
_HF_LOADERS = {"gpt2": GPT2LMHeadModel, "bert": BertForMaskedLM, "marian": MarianMTModel, "mamba": MambaForCausalLM}
#: what from_hf / to_hf accept, for their error messages
_FROM_NAMES = "GPT2LMHeadModel, BertForMaskedLM, MarianMTModel and MambaForCausalLM"
_TO_NAMES = ("DecoderForCausalLM, EncoderForMaskedLM, TransformerSeq2SeqForConditionalGeneration and "
             "SelectiveSSMForCausalLM")


def _load_hf(path: str | os.PathLike, **from_pretrained_kwargs) -> PreTrainedModel:
    """The GPT-2, BERT, Marian or Mamba checkpoint in the folder ``path``."""
    model_type = AutoConfig.from_pretrained(path).model_type
    if model_type not in _HF_LOADERS:
        raise ConfigurationError(f"{path} holds a {model_type!r} model; from_hf converts {sorted(_HF_LOADERS)}.")
    return _HF_LOADERS[model_type].from_pretrained(path, **from_pretrained_kwargs)


def _converter(model: PreTrainedModel, table: tuple) -> Callable | None:
    """The converter of the first class in ``table`` that ``model`` is an instance of."""
    return next((convert for cls, convert in table if isinstance(model, cls)), None)


#: the models from_hf returns and to_hf takes, and the transformers models to_hf returns
NlpseqModel = (DecoderForCausalLM | EncoderForMaskedLM | TransformerSeq2SeqForConditionalGeneration
               | SelectiveSSMForCausalLM)
HfModel = GPT2LMHeadModel | BertForMaskedLM | MarianMTModel | MambaForCausalLM


def from_hf(model_or_path: PreTrainedModel | str | os.PathLike, **from_pretrained_kwargs) -> NlpseqModel:
    """Convert a ``GPT2LMHeadModel`` -> ``DecoderForCausalLM``, a ``BertForMaskedLM`` -> ``EncoderForMaskedLM``, a
    ``MarianMTModel`` -> ``TransformerSeq2SeqForConditionalGeneration`` (with its ``generation_config``) or a
    ``MambaForCausalLM`` -> ``SelectiveSSMForCausalLM``.

    ``model_or_path`` is a loaded model or a local checkpoint folder (loaded with ``from_pretrained`` and
    ``from_pretrained_kwargs``). The result has the same dtype and attention backend as the source.
    """
    hf = model_or_path
    if isinstance(model_or_path, (str, os.PathLike)):
        hf = _load_hf(model_or_path, **from_pretrained_kwargs)
    convert = _converter(hf, _FROM_HF)
    if convert is None:
        raise ConfigurationError(f"from_hf converts {_FROM_NAMES}, got {type(hf).__name__}.")
    model, converted = convert(hf)
    return _load(model.to(hf.dtype), converted)


def _require(config, family: str, **expected) -> None:
    wrong = {k: getattr(config, k) for k, v in expected.items() if getattr(config, k) != v}
    if wrong:
        raise ConfigurationError(f"to_hf: {family} needs {expected}; this model has {wrong}, which {family} cannot "
                                 "express.")


def _config_to_gpt2(config: DecoderConfig) -> GPT2Config:
    """The GPT-2 config of a decoder that GPT-2 can express (learned positions, pre-norm, no extras)."""
    _require(config, "GPT-2", position_embedding_type="learned", norm_position="pre", embedding_layer_norm=False,
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


def _config_to_bert(config: EncoderConfig) -> BertConfig:
    """The BERT config of an encoder that BERT can express (learned positions, post-norm, embedding LayerNorm)."""
    _require(config, "BERT", position_embedding_type="learned", norm_position="post", embedding_layer_norm=True,
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


def _config_to_marian(config: TransformerSeq2SeqConfig) -> MarianConfig:
    """The Marian config of an encoder-decoder that Marian can express (sinusoidal positions, post-norm)."""
    _require(config, "Marian", position_embedding_type="sinusoidal", norm_position="post",
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


def _config_to_mamba(config: SelectiveSSMConfig) -> MambaConfig:
    """The Mamba config of a selective SSM that Mamba can express (the full softmax; dropout, which only acts in
    training, and the scan implementation are not carried over)."""
    _require(config, "Mamba", adaptive_softmax_cutoffs=None)
    return MambaConfig(**{name: getattr(config, name) for name in _MAMBA_FIELDS})


def _to_gpt2(model: DecoderForCausalLM) -> tuple[GPT2LMHeadModel, Converted]:
    """A GPT-2 for ``model`` and its weights under GPT-2's names (q, k, v fused into ``c_attn``)."""
    config, state = model.config, model.state_dict()
    hf = GPT2LMHeadModel(_config_to_gpt2(config))
    converted = _copy(state, _name_pairs(_GPT2_GLOBAL, _GPT2_LAYER, config.num_hidden_layers), reverse=True)
    for i in range(config.num_hidden_layers):                            # q, k, v -> fused c_attn
        prefix = f"model.decoder.layers.{i}.self_attn"
        converted[f"transformer.h.{i}.attn.c_attn.weight"] = torch.cat(
            [state[f"{prefix}.{n}.weight"] for n in ("q_proj", "k_proj", "v_proj")]).t().contiguous()
        converted[f"transformer.h.{i}.attn.c_attn.bias"] = torch.cat(
            [state[f"{prefix}.{n}.bias"] for n in ("q_proj", "k_proj", "v_proj")])
    return hf, converted


def _to_bert(model: EncoderForMaskedLM) -> tuple[BertForMaskedLM, Converted]:
    """A BERT for ``model`` and its weights under BERT's names (a zero segment vector when it has none)."""
    config, state = model.config, model.state_dict()
    hf = BertForMaskedLM(_config_to_bert(config))
    converted = _copy(state, _name_pairs(_BERT_GLOBAL, _BERT_LAYER, config.num_hidden_layers), reverse=True)
    if config.type_vocab_size == 0:                                      # BERT always adds a segment vector: 0
        converted["bert.embeddings.token_type_embeddings.weight"] = torch.zeros(1, config.hidden_size)
    converted["cls.predictions.bias"] = converted["cls.predictions.decoder.bias"]
    return hf, converted


def _to_marian(model: TransformerSeq2SeqForConditionalGeneration) -> tuple[MarianMTModel, Converted]:
    """A Marian model for ``model`` and its weights under Marian's names, the residual-stream channels in
    Marian's ``[sin | cos]`` order; Marian's own fixed position tables are kept."""
    config = model.config
    hf = MarianMTModel(_config_to_marian(config))
    state = _reorder_stream(model.state_dict(), torch.argsort(_marian_channel_order(config.hidden_size)))
    converted = _copy(state, _marian_pairs(config), reverse=True)
    converted["final_logits_bias"] = state["lm_head.bias"][None]
    if config.share_encoder_decoder_embeddings:
        converted["model.shared.weight"] = converted["model.encoder.embed_tokens.weight"]
    converted.update({k: v for k, v in hf.state_dict().items() if "embed_positions" in k})  # fixed tables
    return hf, converted


def _to_mamba(model: SelectiveSSMForCausalLM) -> tuple[MambaForCausalLM, Converted]:
    """A Mamba for ``model`` and its weights under Mamba's names."""
    config = model.config
    hf = MambaForCausalLM(_config_to_mamba(config))
    converted = _copy(model.state_dict(), _name_pairs(_MAMBA_GLOBAL, _MAMBA_LAYER, config.num_hidden_layers),
                      reverse=True)
    return hf, converted


#: nlpseq class -> its converter, tried in this order
_TO_HF = ((DecoderForCausalLM, _to_gpt2), (EncoderForMaskedLM, _to_bert),
          (TransformerSeq2SeqForConditionalGeneration, _to_marian), (SelectiveSSMForCausalLM, _to_mamba))


def to_hf(model: NlpseqModel) -> HfModel:
    """The reverse of ``from_hf`` for models whose architecture GPT-2 / BERT / Marian / Mamba can express (else
    ``ValueError``)."""
    convert = _converter(model, _TO_HF)
    if convert is None:
        raise ConfigurationError(f"to_hf converts {_TO_NAMES}, got {type(model).__name__}.")
    hf, converted = convert(model)
    return _load(hf.to(model.dtype), converted)


__all__ = ["from_hf", "to_hf"]
