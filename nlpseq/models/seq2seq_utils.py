"""What the two encoder-decoder families share: teacher-forcing decoder inputs and the token loss.

Teacher forcing feeds the decoder the gold previous token, so its inputs are the labels shifted one step right
behind ``decoder_start_token_id`` (ignored labels, -100, become padding)::

    labels          y_1   y_2   ...   y_T
    decoder input   <s>   y_1   ...   y_{T-1}

The loss is the token cross-entropy ``-sum_t log p(y_t | y_<t, x)`` over labels != -100, divided by their count,
or under the Trainer by ``num_items_in_batch`` (the count over the whole accumulated batch), so gradient
accumulation gives the same update as one big batch.

Used by ``modeling_recurrent_seq2seq.py`` and ``modeling_transformer_seq2seq.py``.
"""

from __future__ import annotations

import torch
from torch import nn

from .errors import ConfigurationError


def shift_tokens_right(labels: torch.Tensor, pad_token_id: int | None, decoder_start_token_id: int | None
                       ) -> torch.Tensor:
    """Teacher forcing inputs ``(batch, target)``: ``[start, y_1, .., y_{T-1}]`` from labels ``[y_1, .., y_T]``
    ``(batch, target)``, -100 -> pad."""
    if decoder_start_token_id is None or pad_token_id is None:
        raise ConfigurationError("Building decoder inputs from labels needs config.decoder_start_token_id and "
                                 f"config.pad_token_id (got {decoder_start_token_id} and {pad_token_id}); set them "
                                 "from the tokenizer, e.g. decoder_start_token_id=tokenizer.bos_token_id, "
                                 "pad_token_id=tokenizer.pad_token_id.")
    shifted = labels.new_full(labels.shape, decoder_start_token_id)
    shifted[:, 1:] = labels[:, :-1]
    return shifted.masked_fill(shifted == -100, pad_token_id)


def seq2seq_loss(logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: int | torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Token cross-entropy ``-sum_t log p(y_t | y_<t, x)`` over labels != -100, divided by their count or, when
    given, by ``num_items_in_batch``. ``logits (batch, target, vocab)`` and ``labels (batch, target)`` are aligned
    (no shift: the decoder input was already shifted right)."""
    labels = labels.to(logits.device)
    total = nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100,
                                        reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else (labels != -100).sum()
    if isinstance(count, torch.Tensor):
        count = count.to(total.device)
    return total / count


__all__ = ["seq2seq_loss", "shift_tokens_right"]
