"""What the models of every family share around their layers: the weight init, the dropout rule before a
classifier, and the classification losses and outputs.

A sequence head pools ``(batch, seq, hidden) -> (batch, hidden)`` its own way (the first token, the mean, the
last real token, the final recurrent state, a bag of words), then ``logits = W dropout(pooled) + b``; a token head
applies the same linear layer at every position. The losses are transformers' own, through ``model.loss_function``.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput, TokenClassifierOutput
from transformers.utils import ModelOutput

from .speedups import Dropout


def init_normal(module: nn.Module, std: float) -> None:
    """The init rule of every family's ``_init_weights``: Normal(0, ``std``) for ``nn.Linear`` weights and
    ``nn.Embedding`` tables, zero biases, LayerNorm weight 1 and bias 0; other modules are left to the family
    (recurrent cells, the BoW idf). ``transformers.initialization`` leaves tensors loaded by ``from_pretrained``
    untouched."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        init.normal_(module.weight, mean=0.0, std=std)
        if getattr(module, "bias", None) is not None:
            init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        init.ones_(module.weight)
        init.zeros_(module.bias)


def classifier_dropout(config) -> Dropout:
    """Dropout before a Transformer's classifier: ``config.classifier_dropout``, or ``hidden_dropout_prob`` when it
    is None (BERT's and GPT-2's rule)."""
    rate = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
    return Dropout(rate)


def mean_vectors(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """``(batch, seq, hidden) -> (batch, hidden)``: the mean over each row's real tokens (``attention_mask == 1``;
    all tokens without a mask)."""
    if attention_mask is None:
        return hidden_states.mean(dim=1)
    weights = attention_mask.to(hidden_states.device, hidden_states.dtype)[..., None]          # (batch, seq, 1)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def last_token_vectors(hidden_states: torch.Tensor, input_ids: torch.Tensor | None,
                       attention_mask: torch.Tensor | None, pad_token_id: int | None) -> torch.Tensor:
    """``(batch, seq, hidden) -> (batch, hidden)``: each row's last real token (the only one a left-to-right model
    read everything by), for left or right padding. Real tokens are ``attention_mask == 1``, else the non-pad ids,
    else all of them."""
    if attention_mask is not None:
        real = attention_mask.bool()
    elif input_ids is not None and pad_token_id is not None:
        real = input_ids != pad_token_id
    else:
        return hidden_states[:, -1]
    index = (real.long() * torch.arange(real.shape[1], device=real.device)).argmax(-1)          # (batch,)
    return hidden_states[torch.arange(hidden_states.shape[0], device=hidden_states.device), index]


def sequence_classifier_output(model, logits: torch.Tensor, labels: torch.Tensor | None,
                               hidden_states: tuple[torch.Tensor, ...] | None = None,
                               attentions: tuple[torch.Tensor, ...] | None = None,
                               output_class: type[ModelOutput] = SequenceClassifierOutput) -> ModelOutput:
    """``logits (batch, num_labels)`` against ``labels (batch,)`` (or ``(batch, num_labels)``): MSE, cross-entropy or
    binary cross-entropy by ``config.problem_type`` (set from the labels on first use); no loss without labels.
    Returned as ``output_class`` with the base model's ``hidden_states`` and ``attentions``."""
    loss = None if labels is None else model.loss_function(labels=labels, pooled_logits=logits, config=model.config)
    return output_class(loss=loss, logits=logits, hidden_states=hidden_states, attentions=attentions)


def token_classifier_output(model, logits: torch.Tensor, labels: torch.Tensor | None,
                            hidden_states: tuple[torch.Tensor, ...] | None = None,
                            attentions: tuple[torch.Tensor, ...] | None = None,
                            num_items_in_batch: int | torch.Tensor | None = None) -> TokenClassifierOutput:
    """``logits (batch, seq, num_labels)`` against ``labels (batch, seq)``, -100 ignored: the mean cross-entropy over
    labelled tokens, or their sum over ``num_items_in_batch`` (the Trainer's count) when given; no loss without
    labels. Returned with the base model's ``hidden_states`` and ``attentions``."""
    loss = (None if labels is None
            else model.loss_function(logits, labels, model.config, num_items_in_batch=num_items_in_batch))
    return TokenClassifierOutput(loss=loss, logits=logits, hidden_states=hidden_states, attentions=attentions)


__all__ = [
    "classifier_dropout", "init_normal", "last_token_vectors", "mean_vectors", "sequence_classifier_output",
    "token_classifier_output",
]
