"""What the models of every family share around their layers: the weight init, the dropout rule before a
classifier, and the classification losses.

A sequence head pools ``(batch, seq, hidden) -> (batch, hidden)`` its own way (the first token, the mean, the
last real token, the final recurrent state, a bag of words), then ``logits = W dropout(pooled) + b``; a token head
applies the same linear layer at every position. The losses are transformers' own, through ``model.loss_function``.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import initialization as init

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


def sequence_classification_loss(model, logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
    """``logits (batch, num_labels)`` against ``labels (batch,)`` (or ``(batch, num_labels)``): MSE, cross-entropy or
    binary cross-entropy by ``config.problem_type`` (set from the labels on first use); None without labels."""
    if labels is None:
        return None
    return model.loss_function(labels=labels, pooled_logits=logits, config=model.config)


def token_classification_loss(model, logits: torch.Tensor, labels: torch.Tensor | None,
                              num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor | None:
    """``logits (batch, seq, num_labels)`` against ``labels (batch, seq)``, -100 ignored: the mean cross-entropy over
    labelled tokens, or their sum over ``num_items_in_batch`` (the Trainer's count) when given; None without
    labels."""
    if labels is None:
        return None
    return model.loss_function(logits, labels, model.config, num_items_in_batch=num_items_in_batch)


__all__ = ["classifier_dropout", "init_normal", "sequence_classification_loss", "token_classification_loss"]
