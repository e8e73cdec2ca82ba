"""RNN / LSTM / GRU models on the Hugging Face stack.

``RecurrentModel`` maps ``input_ids (batch, seq)`` to ``(batch, seq, num_directions * hidden)`` through token
embeddings and a ``Recurrent`` stack. The heads are the textbook set-ups:

- ``RecurrentForCausalLM`` (many-to-many, next token): ``y_t = softmax(V h_t + c)``, with ``generate()``; the
  recurrent state is the cache, so each new token costs one step instead of re-reading the prompt.
- ``RecurrentForSequenceClassification`` (many-to-one): the final state, or mean / max pooling over real tokens.
- ``RecurrentForTokenClassification`` (many-to-many, one label per token).

Padding (left or right) never changes a sequence's result: the state stops at padding and outputs there are 0.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from transformers.utils import can_return_tuple

from .adaptive_softmax import causal_lm_output, output_layer
from .configuration_recurrent import RecurrentConfig
from .errors import ConfigurationError, InputError
from .generation_checks import CheckedGenerationMixin
from .heads import mean_vectors, sequence_classifier_output, token_classifier_output
from .recurrent import Recurrent, RecurrentPreTrainedBase, State, state_from_cache
from .speedups import Dropout


class RecurrentPreTrainedModel(RecurrentPreTrainedBase):
    config_class = RecurrentConfig
    _no_split_modules = ["Recurrent"]


class RecurrentModel(RecurrentPreTrainedModel):
    """Token embeddings -> dropout -> ``Recurrent`` stack -> dropout. Returns ``BaseModelOutputWithPast`` whose
    ``past_key_values`` is the final recurrent state (layout in ``recurrent.py``) when ``use_cache``. The table is
    ``embed_tokens``, where transformers' own ``get_input_embeddings`` / ``set_input_embeddings`` look first."""

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.embedding_size)
        self.dropout = Dropout(config.hidden_dropout_prob)
        self.recurrent = Recurrent(config.cell, config.embedding_size, config.hidden_size,
                                   num_layers=config.num_hidden_layers, bidirectional=config.bidirectional,
                                   dropout=config.dropout, implementation=config.rnn_implementation)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values: State | Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPast | tuple:
        """input_ids ``(batch, seq)``; attention_mask ``(batch, seq)`` or ``(batch, past + seq)`` during
        generation (only its last ``seq`` columns matter: the past is summarised by the state)."""
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        output_hidden_states = bool(
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        if (input_ids is None) == (inputs_embeds is None):
            raise InputError("Pass exactly one of input_ids or inputs_embeds.")
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        past_key_values = state_from_cache(past_key_values)
        if attention_mask is not None:
            attention_mask = attention_mask[:, -inputs_embeds.shape[1]:]

        recurrent = self.recurrent(self.dropout(inputs_embeds), past_key_values, attention_mask=attention_mask,
                                   output_layer_outputs=output_hidden_states,
                                   implementation=self.config.rnn_implementation)
        hidden_states = self.dropout(recurrent.output)
        return BaseModelOutputWithPast(
            last_hidden_state=hidden_states,
            past_key_values=recurrent.state if use_cache else None,
            hidden_states=(inputs_embeds, *recurrent.layer_outputs) if output_hidden_states else None,
        )


class RecurrentForCausalLM(RecurrentPreTrainedModel, CheckedGenerationMixin):
    """Next-token LM: ``logits_t = (h_t [P]) E^T`` (the tied embedding ``E``; ``P`` projects ``hidden ->
    embedding_size`` only when the sizes differ). Loss: cross-entropy of ``logits[:, :-1]`` vs ``labels[:, 1:]``
    with -100 ignored; a sum over ``num_items_in_batch`` under the Trainer, so gradient accumulation is exact."""

    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        if config.bidirectional:
            raise ConfigurationError("RecurrentForCausalLM cannot be bidirectional: predicting the next token must not "
                                     "read the future. Set bidirectional=False (keep it for the classification heads).")
        self.model = RecurrentModel(config)
        self.projection = (nn.Linear(config.hidden_size, config.embedding_size)
                           if config.hidden_size != config.embedding_size else nn.Identity())
        self.lm_head = output_layer(config.embedding_size, config)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values: State | Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        logits_to_keep: int = 0,
        **kwargs,
    ) -> CausalLMOutputWithPast | tuple:
        """Returns logits ``(batch, seq, vocab)`` (only the last ``logits_to_keep`` positions if > 0); with
        ``config.adaptive_softmax_cutoffs`` and ``labels``, only the loss."""
        outputs = self.model(input_ids, attention_mask=attention_mask, past_key_values=past_key_values,
                             inputs_embeds=inputs_embeds, use_cache=use_cache,
                             output_hidden_states=output_hidden_states, return_dict=True)
        hidden_states = outputs.last_hidden_state
        if logits_to_keep:
            hidden_states = hidden_states[:, -logits_to_keep:]
        return causal_lm_output(self, self.projection(hidden_states), labels, outputs, kwargs.get("num_items_in_batch"))


class RecurrentForSequenceClassification(RecurrentPreTrainedModel):
    """Many-to-one: pool the sequence (``config.classifier_pooling``), then ``logits = W pooled + b``.

    ``"last"`` uses the top layer's final state: after the last real token reading left to right, and (when
    bidirectional) after the first token reading right to left. ``"mean"`` / ``"max"`` pool the top layer's
    outputs over real tokens.
    """

    accepts_loss_kwargs = False  # the loss is a plain mean over the batch: let the Trainer scale it

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = RecurrentModel(config)
        self.score = nn.Linear(self.model.recurrent.output_size, config.num_labels)
        self.post_init()

    def pool(self, hidden_states: torch.Tensor, state: State, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """``(batch, seq, D * hidden)`` -> ``(batch, D * hidden)``."""
        if self.config.classifier_pooling == "last":
            directions = self.model.recurrent.num_directions
            top = state[0][-directions:]                       # (directions, batch, hidden)
            return top.transpose(0, 1).flatten(1)
        if self.config.classifier_pooling == "mean":
            return mean_vectors(hidden_states, attention_mask)
        real = (torch.ones(hidden_states.shape[:2], device=hidden_states.device) if attention_mask is None
                else attention_mask.to(hidden_states.device)).bool()[..., None]
        return hidden_states.masked_fill(~real, torch.finfo(hidden_states.dtype).min).amax(1)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        """Returns logits ``(batch, num_labels)``; the loss follows ``config.problem_type``."""
        outputs = self.model(input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds, use_cache=True,
                             output_hidden_states=output_hidden_states, return_dict=True)
        logits = self.score(self.pool(outputs.last_hidden_state, outputs.past_key_values, attention_mask))
        return sequence_classifier_output(self, logits, labels, outputs.hidden_states)


class RecurrentForTokenClassification(RecurrentPreTrainedModel):
    """Many-to-many tagging: ``logits_t = W h_t + b`` for every token (bidirectional sees both sides)."""

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = RecurrentModel(config)
        self.classifier = nn.Linear(self.model.recurrent.output_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> TokenClassifierOutput | tuple:
        """Returns logits ``(batch, seq, num_labels)``; labels ``(batch, seq)`` with -100 ignored."""
        outputs = self.model(input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds, use_cache=False,
                             output_hidden_states=output_hidden_states, return_dict=True)
        logits = self.classifier(outputs.last_hidden_state)
        return token_classifier_output(self, logits, labels, outputs.hidden_states,
                                       num_items_in_batch=kwargs.get("num_items_in_batch"))


__all__ = [
    "RecurrentForCausalLM", "RecurrentForSequenceClassification", "RecurrentForTokenClassification",
    "RecurrentModel", "RecurrentPreTrainedModel",
]
