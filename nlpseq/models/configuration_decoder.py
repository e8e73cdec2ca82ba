"""Configuration of the Transformer decoder (GPT-style next-token language model)."""

from __future__ import annotations

from .configuration_checks import check_adaptive_softmax
from .configuration_transformer import TransformerConfig


class DecoderConfig(TransformerConfig):
    """A stack of causal self-attention blocks. Defaults follow GPT-2: pre-norm, learned positions, tied head.

    Every field is documented on ``TransformerConfig``; ``norm_position="post"`` and
    ``position_embedding_type="sinusoidal"`` give the 2017 paper's decoder (without cross-attention).
    ``adaptive_softmax_cutoffs`` (e.g. ``[2000, 10000]``, ids ordered by frequency) replaces the tied full
    softmax by the adaptive softmax of Grave et al. 2017 (``nlpseq.models.adaptive_softmax``), for large
    vocabularies; ``adaptive_softmax_div_value`` narrows each tail cluster's projection by that factor.

    Example::

        config = DecoderConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4)
        model = DecoderForCausalLM(config)
    """

    model_type = "nlpseq-decoder"
    keys_to_ignore_at_inference = ["past_key_values"]

    norm_position: str = "pre"
    position_embedding_type: str = "learned"
    hidden_act: str = "gelu_new"
    adaptive_softmax_cutoffs: list[int] | None = None
    adaptive_softmax_div_value: float = 4.0

    def __post_init__(self, **kwargs):
        check_adaptive_softmax(self)
        super().__post_init__(**kwargs)
