"""The encoder-decoder Transformer (Vaswani et al., 2017): the seeds' last step, cross-attention.

The encoder reads the whole source at once, the decoder writes the target one token at a time::

    encoder:  H = Encoder(x)                  bidirectional self-attention with a padding mask   (batch, src, hidden)
    decoder:  S = Decoder(y_<t, H)            causal self-attention, then cross-attention over H   (batch, tgt, hidden)
              CrossAttention(S, H) = softmax(Q K^T / sqrt(d_k)) V,   Q = S W_Q,   K = H W_K,   V = H W_V
    output:   p(y_t | y_<t, x) = softmax(s_t E^T + b)                 (E = the target embedding table when tied)

The decoder's tokens so far make the queries ("I go" -> a query for "go"), the encoder's outputs for the source
("나는 학교에 간다") make the keys and values, and the softmax weights (e.g. 0.1 / 0.3 / 0.6) say where it looks
before writing the next word. With ``attn_implementation="eager"`` and ``output_attentions=True`` the outputs carry
``encoder_attentions``, ``decoder_attentions`` and ``cross_attentions`` (one ``(batch, heads, query, key)`` tensor
per layer); ``nlpseq.plotting.plot_alignment`` draws a cross-attention map.

Both stacks are ``TransformerStack``s from ``transformer_blocks`` (the same blocks as the encoder and decoder
families). Generation keeps an ``EncoderDecoderCache``: the decoder's own keys/values grow by one token per
step, the cross-attention keys/values are computed from ``H`` once and reused.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.cache_utils import Cache, DynamicCache, EncoderDecoderCache
from transformers.modeling_outputs import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
)
from transformers.utils import can_return_tuple

from .attention import check_attention_implementation, make_attention_mask
from .configuration_transformer_seq2seq import TransformerSeq2SeqConfig
from .errors import ConfigurationError, InputError
from .generation_checks import CheckedGenerationMixin
from .transformer_blocks import (
    TransformerPreTrainedModel,
    TransformerStack,
    check_sequence_length,
    positions_from_mask,
)


class TransformerSeq2SeqPreTrainedModel(TransformerPreTrainedModel):
    config_class = TransformerSeq2SeqConfig


def _embedded(stack: TransformerStack, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None,
              attention_mask: torch.Tensor | None, past_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token (+ position) embeddings ``(batch, seq, hidden)`` and the position ids they used."""
    if (input_ids is None) == (inputs_embeds is None):
        raise InputError("Pass exactly one of input_ids or inputs_embeds (for the decoder: decoder_input_ids, "
                         "decoder_inputs_embeds, or labels to build them from).")
    reference = input_ids if input_ids is not None else inputs_embeds
    length = reference.shape[1]
    check_sequence_length(stack.config, past_length + length)
    position_ids = positions_from_mask(attention_mask, past_length, length, reference.device)
    return stack.embeddings(input_ids, position_ids, inputs_embeds), position_ids


class TransformerSeq2SeqEncoder(TransformerStack):
    """Bidirectional blocks over the source: ``input_ids (batch, src)`` -> ``H (batch, src, hidden)``."""

    main_input_name = "input_ids"

    def __init__(self, config: TransformerSeq2SeqConfig):
        super().__init__(config, is_causal=False, num_layers=config.encoder_layers)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> BaseModelOutput:
        """attention_mask ``(batch, src)``: 1 for real tokens, 0 for padding (never attended to).

        ``generate()`` calls this once per batch (it also passes ``return_dict``, which is always true here).
        """
        check_attention_implementation(self.config, bool(output_attentions))
        hidden_states, position_ids = _embedded(self, input_ids, inputs_embeds, attention_mask, past_length=0)
        mask = make_attention_mask(attention_mask, hidden_states.shape[1])
        hidden_states, all_hidden, all_attentions, _ = super().forward(
            hidden_states, mask, position_ids,
            output_attentions=bool(output_attentions), output_hidden_states=bool(output_hidden_states),
        )
        return BaseModelOutput(last_hidden_state=hidden_states, hidden_states=all_hidden, attentions=all_attentions)


class TransformerSeq2SeqDecoder(TransformerStack):
    """Causal blocks with cross-attention: ``y_<t (batch, tgt)`` and ``H`` -> ``S (batch, tgt, hidden)``."""

    def __init__(self, config: TransformerSeq2SeqConfig):
        super().__init__(config, is_causal=True, has_cross_attention=True, num_layers=config.decoder_layers)
        if config.decoder_vocab_size != config.vocab_size:                   # a separate target vocabulary
            self.embeddings.token_embeddings = nn.Embedding(config.decoder_vocab_size, config.hidden_size)

    def forward(
        self,
        input_ids: torch.LongTensor | None,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        past_key_values: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> BaseModelOutputWithPastAndCrossAttentions:
        """attention_mask ``(batch, past + tgt)`` for the target, encoder_attention_mask ``(batch, src)``."""
        past_length = past_key_values.get_seq_length() if past_key_values is not None else 0
        hidden_states, position_ids = _embedded(self, input_ids, inputs_embeds, attention_mask, past_length)
        length, source_length = hidden_states.shape[1], encoder_hidden_states.shape[1]
        self_mask = make_attention_mask(attention_mask, length, past_length, is_causal=True)
        cross_mask = make_attention_mask(encoder_attention_mask, length, source_length - length)
        hidden_states, all_hidden, all_self, all_cross = super().forward(
            hidden_states, self_mask, position_ids, encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=cross_mask, past_key_values=past_key_values,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )
        return BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden_states, past_key_values=past_key_values, hidden_states=all_hidden,
            attentions=all_self, cross_attentions=all_cross,
        )


class TransformerSeq2SeqModel(TransformerSeq2SeqPreTrainedModel):
    """Encoder + decoder without the output projection. Returns ``Seq2SeqModelOutput``."""

    def __init__(self, config: TransformerSeq2SeqConfig):
        super().__init__(config)
        self.encoder = TransformerSeq2SeqEncoder(config)
        self.decoder = TransformerSeq2SeqDecoder(config)
        if config.share_encoder_decoder_embeddings:
            self._tied_weights_keys = {
                "decoder.embeddings.token_embeddings.weight": "encoder.embeddings.token_embeddings.weight"
            }
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embeddings.token_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.encoder.embeddings.token_embeddings = value
        if self.config.share_encoder_decoder_embeddings:
            self.decoder.embeddings.token_embeddings = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: BaseModelOutput | tuple | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> Seq2SeqModelOutput | tuple:
        """Source ``input_ids (batch, src)`` (or precomputed ``encoder_outputs``), target ``decoder_input_ids
        (batch, tgt)`` -> decoder states ``(batch, tgt, hidden)``."""
        output_attentions = bool(output_attentions if output_attentions is not None else self.config.output_attentions)
        output_hidden_states = bool(
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        check_attention_implementation(self.config, output_attentions)
        if self.is_activation_checkpointing and self.training:
            use_cache = False                       # the backward replay would append to the cache twice
        if past_key_values is not None and not isinstance(past_key_values, EncoderDecoderCache):
            raise InputError(f"past_key_values must be an EncoderDecoderCache (self- and cross-attention halves), "
                             f"got {type(past_key_values).__name__}; pass None to start a new one.")
        if use_cache and past_key_values is None:
            past_key_values = EncoderDecoderCache(DynamicCache(), DynamicCache())

        if encoder_outputs is None:
            encoder_outputs = self.encoder(input_ids, attention_mask, inputs_embeds,
                                           output_attentions=output_attentions,
                                           output_hidden_states=output_hidden_states)
        elif not isinstance(encoder_outputs, BaseModelOutput):
            encoder_outputs = BaseModelOutput(*encoder_outputs)
        decoder_outputs = self.decoder(
            decoder_input_ids, encoder_outputs.last_hidden_state, attention_mask=decoder_attention_mask,
            encoder_attention_mask=attention_mask, past_key_values=past_key_values if use_cache else None,
            inputs_embeds=decoder_inputs_embeds, output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return Seq2SeqModelOutput(
            last_hidden_state=decoder_outputs.last_hidden_state,
            past_key_values=past_key_values if use_cache else None,
            decoder_hidden_states=decoder_outputs.hidden_states, decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states, encoder_attentions=encoder_outputs.attentions,
        )


def seq2seq_loss(logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: int | torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Token cross-entropy ``-sum_t log p(y_t | y_<t, x)`` over labels != -100, divided by their count.

    ``logits (batch, tgt, vocab)`` and ``labels (batch, tgt)`` are aligned (no shift: the decoder input was
    already shifted right). Under the Trainer, ``num_items_in_batch`` (tokens in the whole accumulated batch)
    replaces the count, so gradient accumulation gives the same update as one big batch.
    """
    total = nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels.flatten().to(logits.device),
                                        ignore_index=-100, reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else (labels != -100).sum()
    return total / count


class TransformerSeq2SeqForConditionalGeneration(TransformerSeq2SeqPreTrainedModel, CheckedGenerationMixin):
    """Translation: ``p(y_t | y_<t, x) = softmax(s_t E^T + b)``; ``generate()`` gives greedy, sampling and beam
    search. With ``labels`` (target ids, -100 = ignore) the decoder input is built by shifting them right
    behind ``decoder_start_token_id`` and the loss is ``seq2seq_loss``."""

    def __init__(self, config: TransformerSeq2SeqConfig):
        super().__init__(config)
        self.model = TransformerSeq2SeqModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.decoder_vocab_size)
        decoder_table = "model.decoder.embeddings.token_embeddings.weight"
        if config.share_encoder_decoder_embeddings:                          # one table: source, target, output
            encoder_table = "model.encoder.embeddings.token_embeddings.weight"
            self._tied_weights_keys = {decoder_table: encoder_table, "lm_head.weight": encoder_table}
        else:
            self._tied_weights_keys = {"lm_head.weight": decoder_table}
        self.post_init()

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: ``[start, y_1, ..., y_{T-1}]`` from labels ``[y_1, ..., y_T]`` (-100 -> pad).

        ``DataCollatorForSeq2Seq(tokenizer, model=model)`` calls this to add ``decoder_input_ids`` to each batch.
        """
        start, pad = self.config.decoder_start_token_id, self.config.pad_token_id
        if start is None or pad is None:
            raise ConfigurationError("Building decoder inputs from labels needs config.decoder_start_token_id and "
                                     f"config.pad_token_id (got {start} and {pad}); set them from the tokenizer, "
                                     "e.g. decoder_start_token_id=tokenizer.bos_token_id, "
                                     "pad_token_id=tokenizer.pad_token_id.")
        shifted = labels.new_full(labels.shape, start)
        shifted[:, 1:] = labels[:, :-1]
        return shifted.masked_fill(shifted == -100, pad)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: BaseModelOutput | tuple | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        logits_to_keep: int = 0,
        **kwargs,
    ) -> Seq2SeqLMOutput | tuple:
        """Returns logits ``(batch, tgt, decoder_vocab)`` (only the last ``logits_to_keep`` positions if > 0).

        With ``labels`` (training) no cache is built unless ``use_cache=True`` is passed, as in transformers'
        Marian and BART: nothing would reuse it, and filling it copies every layer's keys and values.
        """
        if use_cache is None and labels is not None:
            use_cache = False
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        outputs = self.model(
            input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask, encoder_outputs=encoder_outputs,
            past_key_values=past_key_values, inputs_embeds=inputs_embeds, decoder_inputs_embeds=decoder_inputs_embeds,
            use_cache=use_cache, output_attentions=output_attentions, output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        hidden_states = outputs.last_hidden_state
        logits = self.lm_head(hidden_states[:, -logits_to_keep:] if logits_to_keep else hidden_states)
        loss = seq2seq_loss(logits, labels, kwargs.get("num_items_in_batch")) if labels is not None else None
        return Seq2SeqLMOutput(
            loss=loss, logits=logits, past_key_values=outputs.past_key_values,
            decoder_hidden_states=outputs.decoder_hidden_states, decoder_attentions=outputs.decoder_attentions,
            cross_attentions=outputs.cross_attentions, encoder_last_hidden_state=outputs.encoder_last_hidden_state,
            encoder_hidden_states=outputs.encoder_hidden_states, encoder_attentions=outputs.encoder_attentions,
        )


__all__ = [
    "TransformerSeq2SeqForConditionalGeneration",
    "TransformerSeq2SeqModel",
    "TransformerSeq2SeqPreTrainedModel",
    "seq2seq_loss",
]
