"""Bag-of-words text classifier: count / TF-IDF vector built inside the model, then a linear layer or an MLP.

For a batch of token ids ``(batch, seq)`` with mask ``m``::

    tf[b, v]  = sum_t m[b, t] * [input_ids[b, t] == v]                  (batch, vocab)   -- a scatter-add
    (with ``bigram_buckets = K > 0`` the vector grows by K hashed bigram counts, fastText's "bag of tricks":
     tf[b, V + hash(input_ids[b, t], input_ids[b, t+1]) mod K] += m[b, t] m[b, t+1])
    x[b, v]   = g(tf[b, v]) * idf[v]      g = identity | 0/1 (binary) | 1 + ln (sublinear)
    x[b]     /= ||x[b]||                   (l1 | l2 | none)
    logits    = MLP(x)                                                   (batch, num_labels)

The idf vector is a buffer, saved with the weights; ``fit_idf`` computes it from tokenized documents with
scikit-learn's smoothed formula ``idf(v) = ln((1 + n) / (1 + df(v))) + 1``. Word order never reaches the
classifier: a sentence and its shuffled words get the same logits.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.utils import can_return_tuple

from .configuration_bow import BowConfig
from .errors import DataError, DataTypeError, InputError
from .heads import init_normal, sequence_classifier_output
from .speedups import Dropout

BIGRAM_HASH_PRIME = 116049371  # fastText's multiplier for hashing word n-grams


def feature_ids(input_ids: torch.LongTensor, attention_mask: torch.Tensor, config: BowConfig
                ) -> tuple[torch.LongTensor, torch.Tensor]:
    """``(batch, seq)`` ids and mask -> the counted feature ids and their weights: the tokens, then (with
    ``config.bigram_buckets``) each pair of neighbours hashed into ``[vocab_size, vocab_size + bigram_buckets)``."""
    weights = attention_mask.to(torch.float32)
    if not config.bigram_buckets or input_ids.shape[1] < 2:
        return input_ids, weights
    pairs = (input_ids[:, :-1] * BIGRAM_HASH_PRIME + input_ids[:, 1:]) % config.bigram_buckets + config.vocab_size
    return torch.cat([input_ids, pairs], dim=1), torch.cat([weights, weights[:, :-1] * weights[:, 1:]], dim=1)


class BowVectorizer(nn.Module):
    """``input_ids (batch, seq)`` -> document vectors ``(batch, vocab_size + bigram_buckets)`` (counts or TF-IDF,
    normalised)."""

    def __init__(self, config: BowConfig):
        super().__init__()
        self.config = config
        self.width = config.vocab_size + config.bigram_buckets
        self.register_buffer("idf", torch.ones(self.width), persistent=True)

    def forward(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        ids, weights = feature_ids(input_ids, attention_mask, self.config)
        tf = torch.zeros(input_ids.shape[0], self.width, dtype=self.idf.dtype, device=input_ids.device)
        tf.scatter_add_(1, ids, weights.to(tf.dtype))                                 # (batch, vocab + buckets)
        if self.config.binary:
            tf = (tf > 0).to(tf.dtype)
        if self.config.sublinear_tf:
            tf = torch.where(tf > 0, 1.0 + torch.log(tf.clamp(min=1.0)), tf)
        x = tf * self.idf if self.config.weighting == "tfidf" else tf
        if self.config.norm is not None:
            x = F.normalize(x, p=1 if self.config.norm == "l1" else 2, dim=-1)        # zero rows stay zero
        return x


class BowPreTrainedModel(PreTrainedModel):
    config_class = BowConfig
    base_model_prefix = "bow"

    def _init_weights(self, module: nn.Module) -> None:
        init_normal(module, self.config.initializer_range)
        if isinstance(module, BowVectorizer):
            init.ones_(module.idf)  # no idf fitted yet: plain term frequencies


class BowForSequenceClassification(BowPreTrainedModel):
    """Bag-of-words (counts or TF-IDF) -> ``[dropout -> linear -> act] * len(hidden_sizes)`` -> dropout -> linear.

    Takes ``input_ids`` and ``attention_mask`` ``(batch, seq)``; returns a ``SequenceClassifierOutput`` with
    logits ``(batch, num_labels)`` and, given ``labels``, the loss chosen by ``config.problem_type``.
    """

    accepts_loss_kwargs = False  # the loss is a plain mean over the batch: let the Trainer scale it

    def __init__(self, config: BowConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vectorizer = BowVectorizer(config)
        layers, width = [], self.vectorizer.width
        for hidden in config.hidden_sizes:
            layers += [Dropout(config.classifier_dropout), nn.Linear(width, hidden), ACT2FN[config.hidden_act]]
            width = hidden
        self.mlp = nn.Sequential(*layers)
        self.dropout = Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(width, config.num_labels)
        self.post_init()

    @torch.no_grad()
    def fit_idf(self, input_ids: Iterable[Sequence[int]] | object) -> torch.Tensor:
        """Set the idf buffer from tokenized documents and return it ``(vocab_size + bigram_buckets,)``.

        ``input_ids``: a tokenized ``datasets.Dataset`` (its ``input_ids`` column; positions its
        ``attention_mask`` marks as padding are not counted), or any iterable of token-id sequences
        (``dataset["train"]["input_ids"]``, lists, a ``(batch, seq)`` tensor).
        ``df(v)`` = number of documents containing token (or hashed bigram) ``v``;
        ``idf(v) = ln((1 + n) / (1 + df(v))) + 1``.
        """
        masks = None
        columns = getattr(input_ids, "column_names", None)  # a datasets.Dataset (duck-typed: no datasets import here)
        if columns is not None:
            if isinstance(columns, dict):
                raise DataError(f"fit_idf got a DatasetDict with splits {sorted(columns)}; pass one split, e.g. "
                                "data['train'].")
            if "input_ids" not in columns:
                raise DataError(f"fit_idf needs an 'input_ids' column, the dataset has {columns}; tokenize it first.")
            masks = input_ids["attention_mask"] if "attention_mask" in columns else None
            input_ids = input_ids["input_ids"]
        df = torch.zeros(self.vectorizer.width, dtype=torch.float64)
        n_docs = 0
        for ids, mask in zip(input_ids, masks if masks is not None else itertools.repeat(None)):
            if isinstance(ids, (str, bytes, Mapping)):
                raise DataTypeError(f"document {n_docs} is a {type(ids).__name__}, not a sequence of token ids; "
                                    "tokenize the texts first (tokenizer(texts)['input_ids']).")
            ids = torch.as_tensor(ids)
            if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
                raise DataTypeError(f"document {n_docs} holds {ids.dtype} values, not integer token ids.")
            ids = ids.long().reshape(-1)
            if mask is not None:
                ids = ids[torch.as_tensor(mask).reshape(-1).bool()]
            if ids.numel() and (ids.min() < 0 or ids.max() >= self.config.vocab_size):
                raise DataError(f"document {n_docs} has token ids outside [0, {self.config.vocab_size}); the "
                                 "tokenizer does not match config.vocab_size (use vocab_size=len(tokenizer)).")
            features, _ = feature_ids(ids[None], torch.ones(1, len(ids)), self.config)
            df[features.unique()] += 1
            n_docs += 1
        if n_docs == 0:
            raise DataError("fit_idf got no documents; pass the tokenized training set's input_ids.")
        idf = torch.log((1 + n_docs) / (1 + df)) + 1
        self.vectorizer.idf.copy_(idf.to(self.vectorizer.idf.dtype))
        return self.vectorizer.idf

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        """``input_ids (batch, seq)`` -> logits ``(batch, num_labels)``; ``hidden_states`` = (BoW vector, MLP out).

        ``token_type_ids`` and ``output_attentions`` are accepted so BERT-style tokenizer output can be passed
        as ``model(**batch)``; a bag of words has no segments and no attention, so they are ignored.
        """
        if input_ids is None:
            raise InputError("BowForSequenceClassification needs input_ids (batch, seq) from a tokenizer.")
        if input_ids.dim() != 2:
            raise InputError(f"input_ids must be (batch, seq), got shape {tuple(input_ids.shape)}; add a batch "
                             "dimension with input_ids[None].")
        if input_ids.numel() and (input_ids.min() < 0 or input_ids.max() >= self.config.vocab_size):
            raise InputError(f"input_ids must lie in [0, {self.config.vocab_size}), found {int(input_ids.max())}; "
                             "build the config with vocab_size=len(tokenizer).")
        bow = self.vectorizer(input_ids, attention_mask)                        # (batch, vocab)
        hidden = self.mlp(bow)                                                  # (batch, hidden_sizes[-1])
        logits = self.classifier(self.dropout(hidden))                         # (batch, num_labels)
        return sequence_classifier_output(self, logits, labels, (bow, hidden) if output_hidden_states else None)


__all__ = ["BowForSequenceClassification", "BowPreTrainedModel", "BowVectorizer"]
