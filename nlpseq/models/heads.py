"""What the classification heads of every family share: the dropout rule before a classifier, and the losses.

A sequence head pools ``(batch, seq, hidden) -> (batch, hidden)`` its own way (the first token, the mean, the
last real token, the final recurrent state, a bag of words), then ``logits = W dropout(pooled) + b``; a token head
applies the same linear layer at every position. The losses are transformers' own, through ``model.loss_function``.
"""

from __future__ import annotations

import torch
from torch import nn


def classifier_dropout(config) -> nn.Dropout:
    """Dropout before a Transformer's classifier: ``config.classifier_dropout``, or ``hidden_dropout_prob`` when it
    is None (BERT's and GPT-2's rule)."""
    rate = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
    return nn.Dropout(rate)


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


__all__ = ["classifier_dropout", "sequence_classification_loss", "token_classification_loss"]
