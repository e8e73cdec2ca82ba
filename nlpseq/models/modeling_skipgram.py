"""Skip-gram with negative sampling (word2vec): learn ``E`` in ``Z = X E`` from which words appear together.

For a center word ``c`` with embedding ``v_c = E[c]`` (the "input" vectors) and an observed context word ``o``
with context vector ``u_o = U[o]``, draw ``k`` noise words ``n_1..n_k ~ P(w) ∝ count(w) ** 0.75`` and minimise::

    loss = -log σ(u_o · v_c) - Σ_i log σ(-u_{n_i} · v_c)

so words that share contexts get similar rows of ``E``. ``E`` is the input embedding matrix
(``get_input_embeddings()``), exactly what ``Embeddings.from_model`` reads from any nlpseq model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput, can_return_tuple

from .configuration_skipgram import SkipGramConfig
from .errors import InputError


@dataclass
class SkipGramOutput(ModelOutput):
    """``loss`` (scalar), ``positive_logits (batch,)`` = ``u_o · v_c``, ``negative_logits (batch, k)``."""

    loss: torch.Tensor | None = None
    positive_logits: torch.Tensor | None = None
    negative_logits: torch.Tensor | None = None


class SkipGramModel(PreTrainedModel):
    """Center embeddings ``E (vocab, d)`` and context embeddings ``U (vocab, d)`` trained with SGNS.

    ``forward(input_ids (batch,), context_ids (batch,))`` returns the loss above; negatives are drawn inside
    ``forward`` from the ``noise_distribution`` buffer (set it with ``set_noise_distribution(counts)``).
    """

    config_class = SkipGramConfig
    base_model_prefix = "skipgram"

    def __init__(self, config: SkipGramConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)        # E: center vectors
        self.context_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)  # U: context vectors
        self.register_buffer("noise_distribution", torch.ones(config.vocab_size) / config.vocab_size)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.embed_tokens:
            bound = self.config.initializer_range / self.config.hidden_size
            init.uniform_(module.weight, -bound, bound)
        elif module is self.context_embeddings:
            init.zeros_(module.weight)

    @torch.no_grad()
    def set_noise_distribution(self, counts: torch.Tensor) -> None:
        """``P(w) ∝ counts[w] ** noise_power`` from token counts ``(vocab_size,)``."""
        counts = torch.as_tensor(counts, dtype=torch.float64)
        if counts.shape != (self.config.vocab_size,) or counts.min() < 0 or counts.sum() <= 0:
            raise InputError(f"counts must be a non-negative ({self.config.vocab_size},) vector with a positive "
                             f"sum, got shape {tuple(counts.shape)}.")
        probs = counts.pow(self.config.noise_power)
        self.noise_distribution.copy_((probs / probs.sum()).to(self.noise_distribution.dtype))

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        context_ids: torch.LongTensor | None = None,
    ) -> SkipGramOutput | tuple:
        """``input_ids``: center words ``(batch,)``; ``context_ids``: a word seen near each ``(batch,)``."""
        if input_ids is None or context_ids is None or input_ids.dim() != 1 or input_ids.shape != context_ids.shape:
            raise InputError("SkipGramModel needs input_ids and context_ids of the same shape (batch,): one "
                             "(center, context) pair per row, e.g. from nlpseq.featurizers.skipgram_pairs.")
        center = self.embed_tokens(input_ids)                                          # (batch, d)
        noise = torch.multinomial(self.noise_distribution, input_ids.numel() * self.config.num_negatives,
                                  replacement=True).view(*input_ids.shape, self.config.num_negatives)
        positive = (self.context_embeddings(context_ids) * center).sum(-1)             # (batch,)
        negative = torch.einsum("bkd,bd->bk", self.context_embeddings(noise), center)  # (batch, k)
        loss = -(F.logsigmoid(positive) + F.logsigmoid(-negative).sum(-1)).mean()
        return SkipGramOutput(loss=loss, positive_logits=positive, negative_logits=negative)


__all__ = ["SkipGramModel", "SkipGramOutput"]
