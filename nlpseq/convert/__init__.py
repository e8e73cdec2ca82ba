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

One module per pair, each with its name map, its config translation both ways and its weight conversion both
ways: ``gpt2.py``, ``bert.py``, ``marian.py``, ``mamba.py``; ``rules.py`` holds the renaming they share.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from transformers import AutoConfig, BertForMaskedLM, GPT2LMHeadModel, MambaForCausalLM, MarianMTModel, PreTrainedModel

from ..errors import ConfigurationError
from ..models.modeling_decoder import DecoderForCausalLM
from ..models.modeling_encoder import EncoderForMaskedLM
from ..models.modeling_ssm import SelectiveSSMForCausalLM
from ..models.modeling_transformer_seq2seq import TransformerSeq2SeqForConditionalGeneration
from .bert import from_bert, to_bert
from .gpt2 import from_gpt2, to_gpt2
from .mamba import from_mamba, to_mamba
from .marian import from_marian, to_marian
from .rules import load_complete

#: transformers class -> its converter, tried in this order
_FROM_HF = ((GPT2LMHeadModel, from_gpt2), (BertForMaskedLM, from_bert), (MarianMTModel, from_marian),
            (MambaForCausalLM, from_mamba))


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
    return load_complete(model.to(hf.dtype), converted)


#: nlpseq class -> its converter, tried in this order
_TO_HF = ((DecoderForCausalLM, to_gpt2), (EncoderForMaskedLM, to_bert),
          (TransformerSeq2SeqForConditionalGeneration, to_marian), (SelectiveSSMForCausalLM, to_mamba))


def to_hf(model: NlpseqModel) -> HfModel:
    """The reverse of ``from_hf`` for models whose architecture GPT-2 / BERT / Marian / Mamba can express (else
    ``ValueError``)."""
    convert = _converter(model, _TO_HF)
    if convert is None:
        raise ConfigurationError(f"to_hf converts {_TO_NAMES}, got {type(model).__name__}.")
    hf, converted = convert(model)
    return load_complete(hf.to(model.dtype), converted)


__all__ = ["from_hf", "to_hf"]
