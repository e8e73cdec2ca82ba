"""The encoder-decoder Transformer (Vaswani et al., 2017): the last step of the textbook story, cross-attention.

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

Both stacks are plain ``TransformerStack``s from ``transformer_blocks`` (the same blocks and the same input
preparation as the encoder and decoder families); teacher forcing and the loss come from ``seq2seq_utils``, shared
with the recurrent encoder-decoder. Generation keeps an ``EncoderDecoderCache``: the decoder's own keys/values grow by
one token per step, the cross-attention keys/values are computed from ``H`` once and reused.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutput, Seq2SeqLMOutput, Seq2SeqModelOutput
from transformers.utils import can_return_tuple

from .configuration_transformer_seq2seq import TransformerSeq2SeqConfig
from .generation_checks import CheckedGenerationMixin
from .seq2seq_utils import seq2seq_loss, shift_tokens_right
from .transformer_blocks import TransformerPreTrainedModel, TransformerStack, resolve_output_flags


class TransformerSeq2SeqPreTrainedModel(TransformerPreTrainedModel):
    config_class = TransformerSeq2SeqConfig


class TransformerSeq2SeqModel(TransformerSeq2SeqPreTrainedModel):
    """Encoder + decoder without the output projection: ``H`` and ``S`` of the module docstring (``generate()`` calls
    the encoder once per batch). Returns ``Seq2SeqModelOutput``."""

    def __init__(self, config: TransformerSeq2SeqConfig):
        super().__init__(config)
        self.encoder = TransformerStack(config, is_causal=False, num_layers=config.encoder_layers)
        self.decoder = TransformerStack(config, is_causal=True, has_cross_attention=True,
                                        num_layers=config.decoder_layers)
        if config.target_vocab_size != config.vocab_size:                    # a separate target vocabulary
            self.decoder.embeddings.token_embeddings = nn.Embedding(config.target_vocab_size, config.hidden_size)
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
        (batch, tgt)`` -> decoder states ``(batch, tgt, hidden)``. attention_mask ``(batch, src)`` masks source
        padding (in the encoder and in cross-attention), decoder_attention_mask ``(batch, past + tgt)`` the
        target's; ``past_key_values`` is an ``EncoderDecoderCache``."""
        output_attentions, output_hidden_states = resolve_output_flags(self.config, output_attentions,
                                                                       output_hidden_states)
        if encoder_outputs is None:
            encoder_outputs = self.encoder(input_ids, attention_mask, inputs_embeds,
                                           output_attentions=output_attentions,
                                           output_hidden_states=output_hidden_states)
        elif not isinstance(encoder_outputs, BaseModelOutput):
            encoder_outputs = BaseModelOutput(*encoder_outputs)
        decoder_outputs = self.decoder(
            decoder_input_ids, decoder_attention_mask, decoder_inputs_embeds,
            encoder_hidden_states=encoder_outputs.last_hidden_state, encoder_attention_mask=attention_mask,
            past_key_values=past_key_values, use_cache=use_cache if use_cache is not None else self.config.use_cache,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )
        return Seq2SeqModelOutput(
            last_hidden_state=decoder_outputs.last_hidden_state, past_key_values=decoder_outputs.past_key_values,
            decoder_hidden_states=decoder_outputs.hidden_states, decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states, encoder_attentions=encoder_outputs.attentions,
        )


class TransformerSeq2SeqForConditionalGeneration(TransformerSeq2SeqPreTrainedModel, CheckedGenerationMixin):
    """Translation: ``p(y_t | y_<t, x) = softmax(s_t E^T + b)``; ``generate()`` gives greedy, sampling and beam
    search. With ``labels`` (target ids, -100 = ignore) the decoder input is built by shifting them right
    behind ``decoder_start_token_id`` and the loss is ``seq2seq_loss``."""

    def __init__(self, config: TransformerSeq2SeqConfig):
        super().__init__(config)
        self.model = TransformerSeq2SeqModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.target_vocab_size)
        decoder_table = "model.decoder.embeddings.token_embeddings.weight"
        if config.share_encoder_decoder_embeddings:                          # one table: source, target, output
            encoder_table = "model.encoder.embeddings.token_embeddings.weight"
            self._tied_weights_keys = {decoder_table: encoder_table, "lm_head.weight": encoder_table}
        else:
            self._tied_weights_keys = {"lm_head.weight": decoder_table}
        self.post_init()

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: ``[start, y_1, ..., y_{T-1}]`` from labels ``[y_1, ..., y_T]`` (-100 -> pad);
        ``DataCollatorForSeq2Seq(tokenizer, model=model)`` calls this to add ``decoder_input_ids`` to each batch."""
        return shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)

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
        """Returns logits ``(batch, tgt, decoder_vocab)`` (only the last ``logits_to_keep`` positions if > 0). With
        ``labels``, no cache unless ``use_cache=True`` (as in Marian and BART; why: ``DecoderForCausalLM.forward``)."""
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


__all__ = ["TransformerSeq2SeqForConditionalGeneration", "TransformerSeq2SeqModel", "TransformerSeq2SeqPreTrainedModel"]
