"""Configuration fields shared by every nlpseq Transformer: the encoder, the decoder and the encoder-decoder."""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_checks import check_activation, check_choice
from .errors import ConfigurationError

NORM_POSITIONS = ("post", "pre")
POSITION_EMBEDDING_TYPES = ("sinusoidal", "learned", "rotary")


class TransformerConfig(PretrainedConfig):
    """Fields shared by ``EncoderConfig``, ``DecoderConfig`` and the encoder-decoder config (standard HF names).

    Family-specific: ``position_embedding_type`` ("sinusoidal" | "learned" | "rotary"), ``rope_theta``,
    ``norm_position`` ("post" | "pre"), ``embedding_layer_norm`` (LayerNorm after the embeddings, as in BERT),
    ``scale_embedding`` (multiply token embeddings by sqrt(hidden_size), as in the 2017 paper),
    ``type_vocab_size`` (segment embeddings; 0 = none).
    """

    vocab_size: int = 1000
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 512
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-5
    initializer_range: float = 0.02
    position_embedding_type: str = "sinusoidal"
    rope_theta: float = 10000.0
    norm_position: str = "post"
    embedding_layer_norm: bool = False
    scale_embedding: bool = False
    type_vocab_size: int = 0
    classifier_dropout: float | None = None
    tie_word_embeddings: bool = True
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    use_cache: bool = True

    def __post_init__(self, **kwargs):
        if self.hidden_size % self.num_attention_heads != 0:
            raise ConfigurationError(
                f"hidden_size={self.hidden_size} is not divisible by num_attention_heads="
                f"{self.num_attention_heads}; pick sizes with hidden_size % num_attention_heads == 0."
            )
        check_choice(self, "position_embedding_type", POSITION_EMBEDDING_TYPES)
        if self.position_embedding_type == "rotary" and (self.hidden_size // self.num_attention_heads) % 2:
            raise ConfigurationError("rotary positions need an even head size (hidden_size // num_attention_heads).")
        check_choice(self, "norm_position", NORM_POSITIONS)
        check_activation(self.hidden_act)
        super().__post_init__(**kwargs)


__all__ = ["NORM_POSITIONS", "POSITION_EMBEDDING_TYPES", "TransformerConfig"]
