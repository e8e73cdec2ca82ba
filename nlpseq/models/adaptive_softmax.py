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


def next_token_outputs(head: nn.Module, hidden_states: torch.Tensor, labels: torch.LongTensor | None,
                       loss_function, vocab_size: int, num_items_in_batch=None
                       ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``(logits, loss)`` of a causal LM's output layer: a full softmax (``head`` is the tied ``nn.Linear``) or the
    adaptive one, which with ``labels`` returns only the loss (skipping the full scores is what it saves)."""
    if isinstance(head, AdaptiveSoftmaxHead):
        if labels is not None:
            return None, head.loss(hidden_states, labels, num_items_in_batch)
        return head.logits(hidden_states), None
    logits = head(hidden_states)
    loss = (loss_function(logits, labels, vocab_size=vocab_size, num_items_in_batch=num_items_in_batch)
            if labels is not None else None)
    return logits, loss


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
