"""Configuration of the bag-of-words classifier."""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_checks import check_activation, check_choice
from .errors import ConfigurationError

BOW_WEIGHTINGS = ("count", "tfidf")
BOW_NORMS = (None, "l1", "l2")


class BowConfig(PretrainedConfig):
    """A document's term-frequency (or TF-IDF) vector over the tokenizer's vocabulary, then a linear layer or
    a small MLP. The vector is built from ``input_ids`` inside the model, so a tokenizer is all the
    preprocessing it needs.

    Fields:
        vocab_size: size of the count vector (``len(tokenizer)``).
        weighting: ``"count"`` (term frequency) or ``"tfidf"`` (times the idf stored in the model, see
            ``BowForSequenceClassification.fit_idf``).
        binary: count presence (0/1) instead of occurrences.
        sublinear_tf: use ``1 + ln(tf)`` for ``tf > 0``.
        norm: scale each document vector to unit ``"l1"`` / ``"l2"`` norm, or ``None``.
        bigram_buckets: also count each pair of neighbouring tokens, hashed into this many extra features (fastText's
            word bigrams, Joulin et al. 2016: "not good" is not "good"); 0 = unigrams only.
        hidden_sizes: widths of the MLP's hidden layers; empty = a linear classifier (logistic regression).
        hidden_act: activation between MLP layers (a transformers ``ACT2FN`` name).
        classifier_dropout: dropout before every linear layer.
        initializer_range: std of the normal init of the linear layers.

    Example::

        config = BowConfig(vocab_size=len(tokenizer), weighting="tfidf", hidden_sizes=[64], num_labels=7)
        model = BowForSequenceClassification(config)
    """

    model_type = "nlpseq-bow"

    vocab_size: int = 1000
    weighting: str = "tfidf"
    binary: bool = False
    sublinear_tf: bool = False
    norm: str | None = "l2"
    bigram_buckets: int = 0
    hidden_sizes: list[int] | None = None
    hidden_act: str = "relu"
    classifier_dropout: float = 0.0
    initializer_range: float = 0.02
    pad_token_id: int | None = None

    def __post_init__(self, **kwargs):
        self.hidden_sizes = list(self.hidden_sizes or [])
        check_choice(self, "weighting", BOW_WEIGHTINGS)
        check_choice(self, "norm", BOW_NORMS)
        check_activation(self.hidden_act)
        if self.bigram_buckets < 0:
            raise ConfigurationError(f"bigram_buckets={self.bigram_buckets}: use 0 (unigrams only) or a positive "
                                     "number of hash buckets, e.g. 200000.")
        if any(int(h) < 1 for h in self.hidden_sizes):
            raise ConfigurationError(f"hidden_sizes={self.hidden_sizes}: every hidden layer needs a positive width.")
        super().__post_init__(**kwargs)
