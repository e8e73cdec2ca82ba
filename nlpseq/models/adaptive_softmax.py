"""The adaptive softmax (Grave et al. 2017): a next-token output layer whose cost follows word frequency.

A full softmax over ``V`` words costs ``V x d`` multiply-adds per token: on WikiText-2 (33k words) that is most of a
small LSTM's training step. Zipf's law says a few thousand words cover most tokens, so the vocabulary (ids ordered
by frequency, as nlpseq's ``word`` and ``char`` tokenizers give them) is cut into a head and tail clusters::

    head:        p(w | h) = softmax(W_0 h)[w]                                  for w < cutoffs[0]
    cluster c:   p(w | h) = softmax(W_0 h)[V_0 + c] * softmax(W_c P_c h)[w]    for cutoffs[c] <= w < cutoffs[c+1]

``W_0`` scores the frequent words plus one entry per cluster; ``P_c`` projects ``h`` down to ``d / div_value^(c+1)``
before the cluster's own softmax, so rare words cost little. The pieces are ``torch.nn.AdaptiveLogSoftmaxWithLoss``;
this module adds the language-model plumbing (shifted labels, ``-100`` ignored, the Trainer's ``num_items_in_batch``).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from .errors import ConfigurationError


class AdaptiveSoftmaxHead(nn.AdaptiveLogSoftmaxWithLoss):
    """``hidden (batch, seq, d)`` -> next-token log-probabilities, or the loss without the full ``(.., V)`` scores."""

    def __init__(self, in_features: int, vocab_size: int, cutoffs: list[int], div_value: float):
        super().__init__(in_features, vocab_size, list(cutoffs), div_value=div_value, head_bias=False)

    def logits(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, d)`` -> log-probabilities ``(batch, seq, vocab)`` (valid logits for ``generate()``)."""
        flat = hidden_states.reshape(-1, hidden_states.shape[-1])
        return self.log_prob(flat).view(*hidden_states.shape[:-1], self.n_classes)

    def loss(self, hidden_states: torch.Tensor, labels: torch.LongTensor,
             num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor:
        """Next-token cross-entropy: position ``t`` predicts ``labels[:, t + 1]``; ``-100`` is ignored. A mean over
        the predicted tokens, or their sum over ``num_items_in_batch`` (the Trainer's count, exact under gradient
        accumulation), like ``transformers``' ``ForCausalLMLoss``."""
        hidden = hidden_states[:, :-1].reshape(-1, hidden_states.shape[-1])
        target = labels[:, 1:].reshape(-1).to(hidden.device)
        keep = target != -100
        nll = -self(hidden[keep], target[keep]).output.sum()
        count = num_items_in_batch if num_items_in_batch is not None else keep.sum().clamp(min=1)
        return nll / count


def causal_lm_output(model, hidden_states: torch.Tensor, labels: torch.LongTensor | None,
                     outputs: BaseModelOutputWithPast, num_items_in_batch=None) -> CausalLMOutputWithPast:
    """A causal LM's output from ``hidden_states`` (the positions it keeps) and the base model's ``outputs`` (cache,
    hidden states, attentions): ``model.lm_head`` is a full softmax (the tied ``nn.Linear``) or the adaptive one,
    which with ``labels`` returns only the loss (skipping the full scores is what it saves)."""
    head, logits, loss = model.lm_head, None, None
    if not isinstance(head, AdaptiveSoftmaxHead):
        logits = head(hidden_states)
        if labels is not None:
            loss = model.loss_function(logits, labels, vocab_size=model.config.vocab_size,
                                       num_items_in_batch=num_items_in_batch)
    elif labels is not None:
        loss = head.loss(hidden_states, labels, num_items_in_batch)
    else:
        logits = head.logits(hidden_states)
    return CausalLMOutputWithPast(loss=loss, logits=logits, past_key_values=outputs.past_key_values,
                                  hidden_states=outputs.hidden_states, attentions=outputs.attentions)


def output_layer(in_features: int, config) -> nn.Module:
    """The LM's output layer for ``config``: ``nn.Linear`` (tied to the embeddings) or the adaptive softmax."""
    if config.adaptive_softmax_cutoffs:
        narrowest = int(in_features // config.adaptive_softmax_div_value ** len(config.adaptive_softmax_cutoffs))
        if narrowest < 1:
            raise ConfigurationError(f"adaptive_softmax_div_value={config.adaptive_softmax_div_value} projects the "
                                     f"{in_features}-wide input of the last of {len(config.adaptive_softmax_cutoffs)} "
                                     "tail clusters to 0 features; lower the div value or use fewer cutoffs")
        return AdaptiveSoftmaxHead(in_features, config.vocab_size, config.adaptive_softmax_cutoffs,
                                   config.adaptive_softmax_div_value)
    return nn.Linear(in_features, config.vocab_size, bias=False)
