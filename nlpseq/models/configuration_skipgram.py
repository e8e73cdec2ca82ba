"""Configuration of the skip-gram word-embedding model (word2vec with negative sampling)."""

from __future__ import annotations

from transformers import PretrainedConfig

from .errors import ConfigurationError


class SkipGramConfig(PretrainedConfig):
    """Skip-gram with negative sampling (Mikolov et al., 2013).

    Fields:
        vocab_size: number of tokens (``len(tokenizer)``).
        hidden_size: embedding dimension ``d`` of ``E (vocab_size, d)``.
        num_negatives: noise words drawn per (center, context) pair.
        noise_power: negatives are drawn from ``unigram(w) ** noise_power`` (0.75 in word2vec).
        initializer_range: the center vectors start uniform in ``[-r / d, r / d]`` (word2vec); context vectors
            start at zero.

    Example::

        model = SkipGramModel(SkipGramConfig(vocab_size=len(tokenizer), hidden_size=64))
    """

    model_type = "nlpseq-skipgram"

    vocab_size: int = 1000
    hidden_size: int = 64
    num_negatives: int = 5
    noise_power: float = 0.75
    initializer_range: float = 0.5
    pad_token_id: int | None = None

    def __post_init__(self, **kwargs):
        if self.num_negatives < 1:
            raise ConfigurationError(f"num_negatives={self.num_negatives}; draw at least one noise word per pair.")
        super().__post_init__(**kwargs)
