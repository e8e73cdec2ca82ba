"""Transformer decoder: GPT pretrains it by predicting the next token under a causal mask.

``DecoderModel`` maps ``input_ids (batch, seq)`` to hidden states ``(batch, seq, hidden)``;
``DecoderForCausalLM`` adds the (tied) output projection ``logits = h E^T`` and ``generate()`` with a KV cache;
``DecoderForSequenceClassification`` classifies from the last real token. Left padding is safe: position ids
follow the attention mask, and ``generate()`` passes them along.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    SequenceClassifierOutputWithPast,
)
from transformers.utils import can_return_tuple

from .adaptive_softmax import causal_lm_output, output_layer
from .configuration_decoder import DecoderConfig
from .generation_checks import CheckedGenerationMixin
from .heads import classifier_dropout, last_token_vectors, sequence_classifier_output
from .transformer_blocks import TransformerPreTrainedModel, TransformerStack, resolve_output_flags


class DecoderPreTrainedModel(TransformerPreTrainedModel):
    config_class = DecoderConfig


class DecoderModel(DecoderPreTrainedModel):
    """Embeddings -> N causal blocks (-> final LayerNorm for pre-norm). Returns ``BaseModelOutputWithPast``; all
    input preparation (length check incl. the cached past, positions from the mask, causal mask, KV cache) is
    ``TransformerStack.forward``."""

    def __init__(self, config: DecoderConfig):
        super().__init__(config)
        self.decoder = TransformerStack(config, is_causal=True)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.decoder.embeddings.token_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.decoder.embeddings.token_embeddings = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPast | tuple:
        """input_ids ``(batch, seq)``; attention_mask ``(batch, past + seq)`` with 1 for real tokens."""
        output_attentions, output_hidden_states = resolve_output_flags(self.config, output_attentions,
                                                                       output_hidden_states)
        return self.decoder(
            input_ids, attention_mask, inputs_embeds, position_ids=position_ids, past_key_values=past_key_values,
            use_cache=use_cache if use_cache is not None else self.config.use_cache,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )


class DecoderForCausalLM(DecoderPreTrainedModel, CheckedGenerationMixin):
    """Next-token LM: ``p(x_t | x_<t) = softmax(h_t E^T)``; loss = cross-entropy of ``logits[:, :-1]`` vs
    ``labels[:, 1:]`` (labels are the inputs; -100 is ignored). Under the Trainer the loss is a sum divided by
    ``num_items_in_batch``, so gradient accumulation and DDP give the same update as one big batch."""

    _tied_weights_keys = {"lm_head.weight": "model.decoder.embeddings.token_embeddings.weight"}

    def __init__(self, config: DecoderConfig):
        super().__init__(config)
        self.model = DecoderModel(config)
        self.lm_head = output_layer(config.hidden_size, config)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        logits_to_keep: int = 0,
        **kwargs,
    ) -> CausalLMOutputWithPast | tuple:
        """Returns logits ``(batch, seq, vocab)`` (only the last ``logits_to_keep`` positions if > 0); with
        ``config.adaptive_softmax_cutoffs`` and ``labels``, only the loss. With ``labels`` (training) no KV cache is
        built unless ``use_cache=True`` is passed: nothing would reuse it, and filling it copies every layer's keys
        and values."""
        if use_cache is None and labels is not None:
            use_cache = False
        outputs = self.model(
            input_ids, attention_mask=attention_mask, position_ids=position_ids, past_key_values=past_key_values,
            inputs_embeds=inputs_embeds, use_cache=use_cache, output_attentions=output_attentions,
            output_hidden_states=output_hidden_states, return_dict=True,
        )
        hidden_states = outputs.last_hidden_state
        return causal_lm_output(self, hidden_states[:, -logits_to_keep:] if logits_to_keep else hidden_states, labels,
                                outputs, kwargs.get("num_items_in_batch"))


class DecoderForSequenceClassification(DecoderPreTrainedModel):
    """Classifies a sequence from the hidden state of its last real token (the only one that saw everything)."""

    accepts_loss_kwargs = False  # the loss is a plain mean over the batch: let the Trainer scale it

    def __init__(self, config: DecoderConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = DecoderModel(config)
        self.dropout = classifier_dropout(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutputWithPast | tuple:
        """Returns logits ``(batch, num_labels)``; the loss follows ``config.problem_type``."""
        outputs = self.model(
            input_ids, attention_mask=attention_mask, position_ids=position_ids, inputs_embeds=inputs_embeds,
            use_cache=False, output_attentions=output_attentions, output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        hidden_states = outputs.last_hidden_state                              # (batch, seq, hidden)
        pooled = last_token_vectors(hidden_states, input_ids, attention_mask, self.config.pad_token_id)
        logits = self.score(self.dropout(pooled))
        return sequence_classifier_output(self, logits, labels, outputs.hidden_states, outputs.attentions,
                                          SequenceClassifierOutputWithPast)


__all__ = ["DecoderForCausalLM", "DecoderForSequenceClassification", "DecoderModel", "DecoderPreTrainedModel"]
