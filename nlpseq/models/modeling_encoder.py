"""Transformer encoder: BERT pretrains it by masking tokens and predicting them from both sides.

``EncoderModel`` maps ``input_ids (batch, seq)`` to contextual vectors ``(batch, seq, hidden)`` with
bidirectional self-attention (padding is masked, nothing else). Heads:

* ``EncoderForMaskedLM``: ``logits = LayerNorm(act(h W + b)) E^T + b_vocab`` (BERT's head, output tied to the
  input embeddings ``E``); train with ``DataCollatorForLanguageModeling`` (15% selected, 80/10/10);
* ``EncoderForSequenceClassification``: the first token (``classifier_pooling="cls"``) or the mean of the real
  tokens (``"mean"``) -> dropout -> linear;
* ``EncoderForTokenClassification``: dropout -> linear on every position.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN
from transformers.modeling_outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from transformers.utils import can_return_tuple

from .configuration_encoder import EncoderConfig
from .heads import classifier_dropout, mean_vectors, sequence_classifier_output, token_classifier_output
from .transformer_blocks import TransformerPreTrainedModel, TransformerStack, resolve_output_flags


class EncoderPreTrainedModel(TransformerPreTrainedModel):
    config_class = EncoderConfig


class EncoderModel(EncoderPreTrainedModel):
    """Embeddings -> N bidirectional blocks (-> final LayerNorm for pre-norm). Returns ``BaseModelOutput``; all
    input preparation (ids or embeddings, length check, positions, mask) is ``TransformerStack.forward``."""

    def __init__(self, config: EncoderConfig):
        super().__init__(config)
        self.encoder = TransformerStack(config, is_causal=False, positions_follow_mask=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embeddings.token_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.encoder.embeddings.token_embeddings = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> BaseModelOutput | tuple:
        """input_ids ``(batch, seq)``; attention_mask ``(batch, seq)`` with 1 for real tokens, 0 for padding. Positions
        count from the first token (right padding, as BERT), unless ``position_ids`` are given."""
        output_attentions, output_hidden_states = resolve_output_flags(self.config, output_attentions,
                                                                       output_hidden_states)
        return self.encoder(
            input_ids, attention_mask, inputs_embeds, position_ids=position_ids, token_type_ids=token_type_ids,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )


class MaskedLMHead(nn.Module):
    """BERT's prediction head: ``LayerNorm(act(h W + b)) E^T + b_vocab``, ``(batch, seq, hidden) -> vocab``."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = ACT2FN[config.hidden_act]
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(self.act(self.dense(hidden_states))))


class EncoderHead(EncoderPreTrainedModel):
    """What the three heads share: ``self.model`` (an ``EncoderModel``) and ``forward``, which runs it and passes
    its output to the head's ``_head_output``."""

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> MaskedLMOutput | SequenceClassifierOutput | TokenClassifierOutput | tuple:
        """Returns the head's logits (their shape is on its ``_head_output``) and, given ``labels``, its loss."""
        outputs = self.model(
            input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, position_ids=position_ids,
            inputs_embeds=inputs_embeds, output_attentions=output_attentions,
            output_hidden_states=output_hidden_states, return_dict=True,
        )
        return self._head_output(outputs, attention_mask, labels, kwargs.get("num_items_in_batch"))


class EncoderForMaskedLM(EncoderHead):
    """Masked LM: predict the selected tokens from both sides; labels are -100 except at selected positions.
    Under the Trainer the loss is a sum divided by ``num_items_in_batch`` (correct under accumulation/DDP)."""

    _tied_weights_keys = {"mlm_head.decoder.weight": "model.encoder.embeddings.token_embeddings.weight"}

    def __init__(self, config: EncoderConfig):
        super().__init__(config)
        self.model = EncoderModel(config)
        self.mlm_head = MaskedLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.mlm_head.decoder

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.mlm_head.decoder = value

    def _head_output(self, outputs: BaseModelOutput, attention_mask: torch.Tensor | None, labels: torch.Tensor | None,
                     num_items_in_batch: int | torch.Tensor | None) -> MaskedLMOutput:
        """Logits ``(batch, seq, vocab)``; in training with labels and ``config.sparse_prediction``, only the selected
        positions go through the head (logits ``(n_selected, vocab)``): the same loss, for a fraction of the cost."""
        hidden_states = outputs.last_hidden_state
        if labels is not None and self.training and self.config.sparse_prediction:
            selected = labels != -100
            hidden_states, labels = hidden_states[selected], labels[selected]
        logits = self.mlm_head(hidden_states)
        loss = None if labels is None else self.loss_function(logits, labels, vocab_size=self.config.vocab_size,
                                                               num_items_in_batch=num_items_in_batch)
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states,
                              attentions=outputs.attentions)


class EncoderClassifier(EncoderHead):
    """What the two classification heads share: dropout -> linear (``classifier``) on the encoder's vectors."""

    accepts_loss_kwargs = False  # the loss is a plain mean over the batch: let the Trainer scale it

    def __init__(self, config: EncoderConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = EncoderModel(config)
        self.dropout = classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()


class EncoderForSequenceClassification(EncoderClassifier):
    """Sequence label from the first token's vector (``"cls"``) or the mean over real tokens (``"mean"``)."""

    def pool(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """``(batch, seq, hidden)`` -> ``(batch, hidden)`` by ``config.classifier_pooling``."""
        if self.config.classifier_pooling == "cls":
            return hidden_states[:, 0]
        return mean_vectors(hidden_states, attention_mask)

    def _head_output(self, outputs: BaseModelOutput, attention_mask: torch.Tensor | None, labels: torch.Tensor | None,
                     num_items_in_batch: int | torch.Tensor | None) -> SequenceClassifierOutput:
        """Logits ``(batch, num_labels)``; the loss follows ``config.problem_type``."""
        logits = self.classifier(self.dropout(self.pool(outputs.last_hidden_state, attention_mask)))
        return sequence_classifier_output(self, logits, labels, outputs.hidden_states, outputs.attentions)


class EncoderForTokenClassification(EncoderClassifier):
    """A label per token (tagging): dropout -> linear on every position, ``(batch, seq, num_labels)``."""

    def _head_output(self, outputs: BaseModelOutput, attention_mask: torch.Tensor | None, labels: torch.Tensor | None,
                     num_items_in_batch: int | torch.Tensor | None) -> TokenClassifierOutput:
        """Logits ``(batch, seq, num_labels)``; labels ``(batch, seq)`` with -100 ignored."""
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        return token_classifier_output(self, logits, labels, outputs.hidden_states, outputs.attentions)


__all__ = [
    "EncoderForMaskedLM", "EncoderForSequenceClassification", "EncoderForTokenClassification", "EncoderModel",
    "EncoderPreTrainedModel",
]
