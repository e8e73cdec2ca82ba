"""The recurrent encoder-decoder (sequence to sequence, Sutskever et al. 2014) with attention.

The textbook many-to-many case with unequal lengths: an encoder RNN reads the source ``x_1 .. x_S``, a decoder RNN
writes the target ``y_1 .. y_T`` one token at a time, starting from ``<s>`` and stopping at ``</s>``. Training
feeds the gold previous token (teacher forcing); ``generate()`` feeds the model's own (greedy or beam search).

Without attention the decoder sees the source only through the encoder's final state, one vector for the whole
sentence: the bottleneck the textbooks point out. Attention lets every decoder step look at all encoder outputs
``h_1 .. h_S`` (``(batch, source, enc)``, ``enc = num_directions * hidden``)::

    a_t = softmax_s(score(q_t, h_s))       masked at source padding           (batch, target, source)
    c_t = sum_s a_ts h_s                   the context vector                 (batch, target, enc)
    h~_t = tanh(W_c [s_t; c_t])            the attentional state              (batch, target, hidden)
    p(y_t | y_<t, x) = softmax(W_out h~_t)

- Bahdanau (additive, 2015): ``score(s_{t-1}, h_s) = v^T tanh(W_q s_{t-1} + W_k h_s + b)``, queried with the
  *previous* decoder state; the context enters the cell: ``s_t = cell([y_{t-1}; c_t], s_{t-1})``.
- Luong (multiplicative, 2015): ``score(s_t, h_s) = s_t^T h_s`` (dot) or ``s_t^T W_a h_s`` (general), queried
  with the *current* state ``s_t = cell(y_{t-1}, s_{t-1})``; with input feeding the cell also reads ``h~_{t-1}``.

A bidirectional encoder's final states (forward and backward, per layer) become the decoder's initial states
through a bridge ``s_0 = tanh(W_b [h_fwd; h_bwd] + b_b)``. The decoder's cache (``past_key_values``) is its
recurrent state, so each generated token costs one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_outputs import Seq2SeqLMOutput
from transformers.utils import ModelOutput, can_return_tuple

from .configuration_recurrent_seq2seq import RecurrentSeq2SeqConfig
from .errors import ConfigurationError, InputError
from .generation_checks import CheckedGenerationMixin
from .recurrent import Recurrent, RecurrentPreTrainedBase, State, state_from_cache
from .seq2seq_utils import seq2seq_loss, shift_tokens_right
from .speedups import Dropout


@dataclass
class RecurrentSeq2SeqEncoderOutput(ModelOutput):
    """``last_hidden_state (batch, source, enc)``; the final states, batch-first ``(batch, layers *
    directions, hidden)`` so ``generate()`` can expand them for beams; ``final_cell_state`` only for LSTMs."""

    last_hidden_state: torch.Tensor | None = None
    final_hidden_state: torch.Tensor | None = None
    final_cell_state: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class AttentionMemory:
    """What the decoder attends to: encoder outputs ``values (batch, source, enc)``, their projection ``keys``
    (computed once per source) and ``mask (batch, source)``, True at real tokens."""

    values: torch.Tensor
    keys: torch.Tensor
    mask: torch.Tensor


class SourceAttention(nn.Module):
    """Attention of decoder states over encoder outputs; subclasses define ``key_proj`` and ``score``."""

    def score(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, queries: torch.Tensor, memory: AttentionMemory) -> tuple[torch.Tensor, torch.Tensor]:
        """``queries (batch, target, query)`` -> context ``(batch, target, enc)``, weights ``(batch, target,
        source)`` with zero weight on source padding."""
        scores = self.score(queries, memory.keys)
        scores = scores.masked_fill(~memory.mask[:, None, :], torch.finfo(scores.dtype).min)
        weights = scores.softmax(dim=-1)
        return weights @ memory.values, weights


class BahdanauAttention(SourceAttention):
    """Additive: ``score(q, h_s) = v^T tanh(W_q q + W_k h_s + b)``."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.query_proj = nn.Linear(query_size, attention_size, bias=False)   # W_q
        self.key_proj = nn.Linear(key_size, attention_size)                   # W_k, b
        self.energy = nn.Linear(attention_size, 1, bias=False)                # v

    def score(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.query_proj(queries)[:, :, None] + keys[:, None])  # (batch, target, source, att)
        return self.energy(hidden).squeeze(-1)


class LuongAttention(SourceAttention):
    """Multiplicative: ``score(q, h_s) = q^T h_s`` (``"dot"``) or ``q^T W_a h_s`` (``"general"``)."""

    def __init__(self, query_size: int, key_size: int, score: str):
        super().__init__()
        self.key_proj = nn.Linear(key_size, query_size, bias=False) if score == "general" else nn.Identity()

    def score(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return queries @ keys.transpose(1, 2)


class RecurrentSeq2SeqEncoder(nn.Module):
    """Source embeddings -> dropout -> a (bidirectional) ``Recurrent`` stack."""

    main_input_name = "input_ids"

    def __init__(self, config: RecurrentSeq2SeqConfig):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.embedding_size)
        self.dropout = Dropout(config.hidden_dropout_prob)
        self.recurrent = Recurrent(config.cell, config.embedding_size, config.hidden_size,
                                   num_layers=config.num_hidden_layers, bidirectional=config.bidirectional_encoder,
                                   dropout=config.dropout, implementation=config.rnn_implementation)

    def forward(self, input_ids: torch.LongTensor | None = None, attention_mask: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None, output_hidden_states: bool | None = None,
                **kwargs) -> RecurrentSeq2SeqEncoderOutput:
        if (input_ids is None) == (inputs_embeds is None):
            raise InputError("Pass exactly one of input_ids or inputs_embeds to the encoder.")
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        length = inputs_embeds.shape[1]
        if length > self.config.max_source_length:
            raise InputError(f"The source has {length} tokens, more than config.max_source_length="
                             f"{self.config.max_source_length}; truncate it (tokenizer(..., truncation=True, "
                             "max_length=...)) or raise max_source_length in the config.")
        out = self.recurrent(self.dropout(inputs_embeds), attention_mask=attention_mask,
                             output_layer_outputs=bool(output_hidden_states),
                             implementation=self.config.rnn_implementation)
        final = [state.transpose(0, 1) for state in out.state]          # (batch, layers * directions, hidden)
        return RecurrentSeq2SeqEncoderOutput(
            last_hidden_state=out.output, final_hidden_state=final[0],
            final_cell_state=final[1] if len(final) > 1 else None,
            hidden_states=(inputs_embeds, *out.layer_outputs) if output_hidden_states else None,
        )


class RecurrentSeq2SeqDecoder(nn.Module):
    """Takes target embeddings ``(batch, target, embedding)`` and a state; returns the attentional states
    ``h~ (batch, target, hidden)`` (the plain top-layer states without attention), the new state and the
    attention weights. State (the generation cache): the ``Recurrent`` state ``(h,)`` / ``(h, c)`` of
    ``(layers, batch, hidden)``, plus ``h~_{t-1}`` as ``(1, batch, hidden)`` with input feeding."""

    def __init__(self, config: RecurrentSeq2SeqConfig):
        super().__init__()
        self.config = config
        hidden, directions = config.hidden_size, 2 if config.bidirectional_encoder else 1
        encoder_size = directions * hidden
        extra_input = {"bahdanau": encoder_size, "luong": hidden if config.input_feeding else 0, "none": 0}
        self.recurrent = Recurrent(config.cell, config.embedding_size + extra_input[config.attention], hidden,
                                   num_layers=config.num_hidden_layers, dropout=config.dropout,
                                   implementation=config.rnn_implementation)
        # The bridge: one Linear per state tensor (h, and c for an LSTM), [h_fwd; h_bwd] -> s_0, per layer.
        self.bridge = nn.ModuleList(nn.Linear(encoder_size, hidden) for _ in range(self.recurrent.state_size)) \
            if config.bidirectional_encoder else None
        self.attention: SourceAttention | None = None
        if config.attention == "bahdanau":
            self.attention = BahdanauAttention(hidden, encoder_size, hidden)
        elif config.attention == "luong":
            self.attention = LuongAttention(hidden, encoder_size, config.luong_score)
        self.combine = nn.Linear(hidden + encoder_size, hidden) if self.attention is not None else None  # W_c
        self.dropout = Dropout(config.hidden_dropout_prob)
        # Bahdanau's query and input feeding make step t depend on step t-1's attention: decode step by step.
        self.stepwise = config.attention == "bahdanau" or config.input_feeding

    def memory(self, encoder_hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> AttentionMemory:
        mask = (torch.ones(encoder_hidden_states.shape[:2], dtype=torch.bool, device=encoder_hidden_states.device)
                if attention_mask is None else attention_mask.to(encoder_hidden_states.device).bool())
        keys = self.attention.key_proj(encoder_hidden_states) if self.attention is not None else encoder_hidden_states
        return AttentionMemory(values=encoder_hidden_states, keys=keys, mask=mask)

    def initial_state(self, encoder_outputs: RecurrentSeq2SeqEncoderOutput) -> State:
        """``s_0`` from the encoder's final states (through the bridge when the encoder is bidirectional)."""
        finals = [encoder_outputs.final_hidden_state, encoder_outputs.final_cell_state][: self.recurrent.state_size]
        states = []
        for index, final in enumerate(finals):                     # (batch, layers * directions, hidden)
            if self.bridge is not None:
                batch, rows, hidden = final.shape
                final = torch.tanh(self.bridge[index](final.reshape(batch, rows // 2, 2 * hidden)))
            states.append(final.transpose(0, 1).contiguous())     # (layers, batch, hidden)
        if self.config.input_feeding:
            states.append(states[0].new_zeros(1, *states[0].shape[1:]))
        return tuple(states)

    def attentional_state(self, outputs: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """``h~_t = tanh(W_c [s_t; c_t])``."""
        return torch.tanh(self.combine(torch.cat([outputs, context], dim=-1)))

    def attend(self, outputs: torch.Tensor, memory: AttentionMemory) -> tuple[torch.Tensor, torch.Tensor]:
        """Luong: ``c_t`` from the current states ``s_t``, then ``h~_t``."""
        context, weights = self.attention(outputs, memory)
        return self.attentional_state(outputs, context), weights

    def step(self, inputs_embeds: torch.Tensor, memory: AttentionMemory, state: State
             ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """One target position ``(batch, 1, embedding)``, for Bahdanau attention or Luong input feeding."""
        if self.config.input_feeding:
            *rnn_state, feed = state
            out = self.recurrent(torch.cat([inputs_embeds, feed.transpose(0, 1)], dim=-1), tuple(rnn_state))
            attentional, weights = self.attend(out.output, memory)
            return attentional, (*out.state, attentional.transpose(0, 1)), weights
        previous = state[0][-1][:, None]                           # s_{t-1}, top layer: (batch, 1, hidden)
        context, weights = self.attention(previous, memory)
        out = self.recurrent(torch.cat([inputs_embeds, context], dim=-1), state)
        return self.attentional_state(out.output, context), out.state, weights

    def forward(self, inputs_embeds: torch.Tensor, memory: AttentionMemory, state: State
                ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        inputs_embeds = self.dropout(inputs_embeds)
        if self.stepwise:
            outputs, weights = [], []
            for t in range(inputs_embeds.shape[1]):
                attentional, state, step_weights = self.step(inputs_embeds[:, t : t + 1], memory, state)
                outputs.append(attentional)
                weights.append(step_weights)
            return self.dropout(torch.cat(outputs, dim=1)), state, torch.cat(weights, dim=1)
        out = self.recurrent(inputs_embeds, state)
        if self.attention is None:
            return self.dropout(out.output), out.state, None
        attentional, weights = self.attend(out.output, memory)
        return self.dropout(attentional), out.state, weights


class RecurrentSeq2SeqPreTrainedModel(RecurrentPreTrainedBase):
    config_class = RecurrentSeq2SeqConfig


class RecurrentSeq2SeqForConditionalGeneration(RecurrentSeq2SeqPreTrainedModel, CheckedGenerationMixin):
    """Encoder, decoder and output layer ``logits_t = (h~_t [P]) W_out^T`` (``W_out`` tied to the target
    embedding when ``tie_word_embeddings``; ``P`` projects ``hidden -> embedding`` only when they differ).

    ``labels`` give the loss (``seq2seq_loss``: -100 ignored, exact under gradient accumulation) and, when
    ``decoder_input_ids`` are missing, the teacher-forcing inputs (``prepare_decoder_input_ids_from_labels``).
    With ``output_attentions=True`` the cross-attention weights ``(batch, target, source)`` are ``cross_attentions[0]``.
    """

    def __init__(self, config: RecurrentSeq2SeqConfig):
        super().__init__(config)
        if config.decoder_start_token_id is None:
            raise ConfigurationError("config.decoder_start_token_id is missing: the decoder needs a first input "
                                     "token. Set it to the tokenizer's start token "
                                     "(decoder_start_token_id=tokenizer.bos_token_id).")
        self.encoder = RecurrentSeq2SeqEncoder(config)
        # One embedding table for both sides when the vocabulary is shared, else a separate target table.
        self.decoder_embed_tokens = (nn.Embedding(config.decoder_vocab_size, config.embedding_size)
                                     if config.decoder_vocab_size is not None else None)
        self.decoder = RecurrentSeq2SeqDecoder(config)
        self.output_projection = (nn.Linear(config.hidden_size, config.embedding_size)
                                  if config.hidden_size != config.embedding_size else nn.Identity())
        self.lm_head = nn.Linear(config.embedding_size, config.target_vocab_size, bias=False)
        target = "decoder_embed_tokens" if config.decoder_vocab_size is not None else "encoder.embed_tokens"
        self._tied_weights_keys = {"lm_head.weight": f"{target}.weight"}
        self.post_init()
        if config.freeze_embeddings:
            self.freeze_embeddings()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.encoder.embed_tokens = value

    def get_decoder_input_embeddings(self) -> nn.Embedding:
        return self.decoder_embed_tokens if self.decoder_embed_tokens is not None else self.encoder.embed_tokens

    def tie_weights(self, *args, **kwargs) -> None:
        """Tie as usual, then re-apply ``config.freeze_embeddings``: ``from_pretrained`` swaps in freshly loaded
        parameters (trainable by default) after ``__init__``, and ends its loading with this call."""
        super().tie_weights(*args, **kwargs)
        if getattr(self.config, "freeze_embeddings", False) and hasattr(self, "lm_head"):
            self.freeze_embeddings()

    def freeze_embeddings(self, freeze: bool = True) -> None:
        """Stop (or resume) training the input embedding tables (a tied output layer shares their weights)."""
        for table in {self.get_input_embeddings(), self.get_decoder_input_embeddings()}:
            table.weight.requires_grad_(not freeze)
        self.config.freeze_embeddings = freeze

    def load_pretrained_embeddings(self, weight: torch.Tensor, decoder_weight: torch.Tensor | None = None,
                                   freeze: bool = True) -> None:
        """Copy pretrained vectors ``(vocab, embedding_size)`` (a tensor, or an ``nlpseq.Embeddings``, whose
        ``.weight`` is used) into the source table (the shared one, or ``decoder_weight`` into a separate target
        table), then freeze them unless ``freeze=False``; the freeze is kept across ``save_pretrained`` /
        ``from_pretrained`` through ``config.freeze_embeddings``."""
        weight = getattr(weight, "weight", weight)
        decoder_weight = getattr(decoder_weight, "weight", decoder_weight)
        pairs = [(self.get_input_embeddings(), weight)]
        if decoder_weight is not None:
            if self.decoder_embed_tokens is None:
                raise ConfigurationError("decoder_weight given but source and target share one embedding table; set "
                                         "config.decoder_vocab_size for a separate target vocabulary.")
            pairs.append((self.decoder_embed_tokens, decoder_weight))
        for table, vectors in pairs:
            if tuple(vectors.shape) != tuple(table.weight.shape):
                raise ConfigurationError(f"Pretrained embeddings have shape {tuple(vectors.shape)} but the model's "
                                         f"table is {tuple(table.weight.shape)} (vocab, embedding_size); build the "
                                         "config with vocab_size=len(tokenizer) and embedding_size equal to the "
                                         "vectors' width.")
            with torch.no_grad():
                table.weight.copy_(vectors.to(table.weight.dtype))
        self.freeze_embeddings(freeze)

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: ``[start, y_1, ..., y_{T-1}]`` from labels ``[y_1, ..., y_T]`` (-100 -> pad)."""
        return shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: RecurrentSeq2SeqEncoderOutput | tuple | None = None,
        past_key_values: State | Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> Seq2SeqLMOutput | tuple:
        """input_ids ``(batch, source)``, decoder_input_ids ``(batch, target)`` -> logits ``(batch, target,
        vocab)``. ``decoder_attention_mask`` is accepted and unused: the decoder reads left to right, so target
        padding (always after the real tokens) cannot change earlier positions, and the loss ignores it."""
        if decoder_input_ids is None:
            if labels is None:
                raise InputError("Pass decoder_input_ids or labels (the decoder's inputs are the labels shifted "
                                 "right, starting with decoder_start_token_id).")
            decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        past_key_values = state_from_cache(past_key_values)
        encoder_outputs = self._encode(input_ids, attention_mask, inputs_embeds, encoder_outputs, output_hidden_states)
        logits, state, attentional, weights = self._decode(decoder_input_ids, encoder_outputs, attention_mask,
                                                           past_key_values, scheduled=labels is not None)
        loss = seq2seq_loss(logits, labels, kwargs.get("num_items_in_batch")) if labels is not None else None
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        return Seq2SeqLMOutput(
            loss=loss, logits=logits, past_key_values=state if use_cache else None,
            decoder_hidden_states=(attentional,) if output_hidden_states and attentional is not None else None,
            cross_attentions=(weights,) if output_attentions and weights is not None else None,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states,
        )

    def _encode(self, input_ids: torch.LongTensor | None, attention_mask: torch.Tensor | None,
                inputs_embeds: torch.Tensor | None, encoder_outputs: RecurrentSeq2SeqEncoderOutput | tuple | None,
                output_hidden_states: bool | None) -> RecurrentSeq2SeqEncoderOutput:
        """Run the encoder over the source ``(batch, source)``, or take ``encoder_outputs`` (from ``generate()``,
        or a tuple from ``return_dict=False``)."""
        if encoder_outputs is None:
            return self.encoder(input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds,
                                output_hidden_states=output_hidden_states)
        if isinstance(encoder_outputs, RecurrentSeq2SeqEncoderOutput):
            return encoder_outputs
        fields = list(encoder_outputs)  # a to_tuple() drops None: re-insert a GRU / RNN's missing cell state
        if len(fields) > 2 and isinstance(fields[2], (tuple, list)):
            fields.insert(2, None)
        return RecurrentSeq2SeqEncoderOutput(*fields)

    def _decode(self, decoder_input_ids: torch.LongTensor, encoder_outputs: RecurrentSeq2SeqEncoderOutput,
                attention_mask: torch.Tensor | None, past_key_values: State | None, scheduled: bool
                ) -> tuple[torch.Tensor, State, torch.Tensor | None, torch.Tensor | None]:
        """Logits ``(batch, target, vocab)``, the new state, the attentional states ``(batch, target, hidden)``
        (None under scheduled sampling) and the attention weights ``(batch, target, source)``. ``scheduled``:
        labels were given, so in training ``teacher_forcing_ratio < 1`` turns on scheduled sampling."""
        state = self.decoder.initial_state(encoder_outputs) if past_key_values is None else tuple(past_key_values)
        memory = self.decoder.memory(encoder_outputs.last_hidden_state, attention_mask)
        if scheduled and self.training and self.config.teacher_forcing_ratio < 1.0:
            logits, state, weights = self.scheduled_sampling(decoder_input_ids, memory, state)
            return logits, state, None, weights
        attentional, state, weights = self.decoder(self.get_decoder_input_embeddings()(decoder_input_ids),
                                                   memory, state)
        return self.lm_head(self.output_projection(attentional)), state, attentional, weights

    def scheduled_sampling(self, decoder_input_ids: torch.LongTensor, memory: AttentionMemory, state: State
                           ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """Training with ``teacher_forcing_ratio < 1`` (Bengio et al. 2015): at each step after the first, each
        sequence is fed the gold previous token with that probability, else its own greedy prediction."""
        embed, logits, weights = self.get_decoder_input_embeddings(), [], []
        tokens = decoder_input_ids[:, 0]
        for t in range(decoder_input_ids.shape[1]):
            if t > 0:
                gold = torch.rand(tokens.shape, device=tokens.device) < self.config.teacher_forcing_ratio
                tokens = torch.where(gold, decoder_input_ids[:, t], logits[-1][:, 0].argmax(-1))
            attentional, state, step_weights = self.decoder(embed(tokens)[:, None], memory, state)
            logits.append(self.lm_head(self.output_projection(attentional)))
            weights.append(step_weights)
        return torch.cat(logits, dim=1), state, None if weights[0] is None else torch.cat(weights, dim=1)


__all__ = [
    "BahdanauAttention", "LuongAttention", "RecurrentSeq2SeqDecoder", "RecurrentSeq2SeqEncoder",
    "RecurrentSeq2SeqEncoderOutput", "RecurrentSeq2SeqForConditionalGeneration", "RecurrentSeq2SeqPreTrainedModel",
    "shift_tokens_right",
]
