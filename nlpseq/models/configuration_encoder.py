"""Configuration of the Transformer encoder (BERT-style masked language model)."""

from __future__ import annotations

from .configuration_checks import check_choice
from .configuration_transformer import TransformerConfig

CLASSIFIER_POOLING = ("cls", "mean")


class EncoderConfig(TransformerConfig):
    """A stack of bidirectional self-attention blocks. Defaults follow the 2017 paper and BERT: post-norm,
    a LayerNorm after the embeddings, tied MLM head, sinusoidal positions with token embeddings multiplied by
    sqrt(hidden_size) (the paper's ``scale_embedding``: token vectors initialised at std 0.02 would otherwise be
    ~35x smaller than the unit-amplitude sinusoids, and training stalls for thousands of steps).

    Extra field: ``classifier_pooling`` ("cls" = the first token's vector, "mean" = the mean over real tokens)
    for ``EncoderForSequenceClassification``; ``sparse_prediction`` (``EncoderForMaskedLM`` in training: the head
    runs only at the selected ~15 % of positions, as RoBERTa's and ModernBERT's do; the loss is unchanged and a
    step is ~20 % cheaper at an 8k vocabulary). Every other field is documented on ``TransformerConfig``.

    Example::

        config = EncoderConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4)
        model = EncoderForMaskedLM(config)
    """

    model_type = "nlpseq-encoder"

    norm_position: str = "post"
    embedding_layer_norm: bool = True
    scale_embedding: bool = True
    layer_norm_eps: float = 1e-12
    classifier_pooling: str = "cls"
    sparse_prediction: bool = True

    def __post_init__(self, **kwargs):
        check_choice(self, "classifier_pooling", CLASSIFIER_POOLING)
        super().__post_init__(**kwargs)
