"""Configuration of the encoder-decoder Transformer ("Attention Is All You Need", 2017) for translation."""

from __future__ import annotations

from .configuration_transformer import TransformerConfig
from .errors import ConfigurationError


class TransformerSeq2SeqConfig(TransformerConfig):
    """An encoder stack (bidirectional self-attention) and a decoder stack (causal self-attention, then
    cross-attention over the encoder output). Defaults follow the 2017 paper -- sinusoidal positions, ReLU
    feed-forward, token embeddings scaled by ``sqrt(hidden_size)``, one vocabulary shared by source and target and
    tied to the output projection -- except two choices measured to train better from scratch
    (``docs/transformer_seq2seq.md``): pre-norm (``norm_position="pre"``; ``"post"`` is the paper's, and Marian's)
    and weights initialised at std ``initializer_range = hidden_size ** -0.5`` (the paper's embedding scale) rather
    than BERT's 0.02.

    Fields beyond ``TransformerConfig`` (Marian/BART names, so transformers' tooling understands them):

    - ``encoder_layers`` / ``decoder_layers``: blocks per stack (default: ``num_hidden_layers``). Hidden size,
      heads and feed-forward width are the same in both stacks, as in the paper and every Marian checkpoint.
    - ``share_encoder_decoder_embeddings``: one token table for source and target (a joint vocabulary).
    - ``decoder_vocab_size``: the size of a separate target vocabulary; None (the default) = the target uses the
      source vocabulary, ``vocab_size`` (the same meaning as in ``RecurrentSeq2SeqConfig``). ``target_vocab_size``
      is the decoder's vocabulary either way. Configs saved when the field was filled in with ``vocab_size`` load
      as None when the embeddings are shared.
    - ``decoder_start_token_id``: the first decoder input (``<s>`` for nlpseq tokenizers, ``<pad>`` for Marian).

    Label smoothing is a training choice, not a model field: pass ``label_smoothing_factor=0.1`` (the paper's
    value) to ``Seq2SeqTrainingArguments``. Generation settings (``num_beams``, ``max_length``) belong in
    ``model.generation_config``.

    Example::

        config = TransformerSeq2SeqConfig(vocab_size=8000, hidden_size=256, encoder_layers=3, decoder_layers=3,
                                          num_attention_heads=4, intermediate_size=1024,
                                          pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
        model = TransformerSeq2SeqForConditionalGeneration(config)
    """

    model_type = "nlpseq-transformer-seq2seq"
    keys_to_ignore_at_inference = ["past_key_values"]

    is_encoder_decoder: bool = True
    encoder_layers: int | None = None
    decoder_layers: int | None = None
    share_encoder_decoder_embeddings: bool = True
    decoder_vocab_size: int | None = None
    decoder_start_token_id: int | None = None
    norm_position: str = "pre"
    initializer_range: float | None = None
    position_embedding_type: str = "sinusoidal"
    hidden_act: str = "relu"
    scale_embedding: bool = True

    def __post_init__(self, **kwargs):
        self.encoder_layers = self.encoder_layers or self.num_hidden_layers
        self.decoder_layers = self.decoder_layers or self.num_hidden_layers
        if self.share_encoder_decoder_embeddings and self.decoder_vocab_size == self.vocab_size:
            self.decoder_vocab_size = None                  # saved by versions that filled it in: one vocabulary
        self.initializer_range = self.initializer_range or self.hidden_size ** -0.5
        if self.share_encoder_decoder_embeddings and self.decoder_vocab_size is not None:
            raise ConfigurationError(
                f"share_encoder_decoder_embeddings=True needs one vocabulary, but vocab_size={self.vocab_size} and "
                f"decoder_vocab_size={self.decoder_vocab_size}. Drop decoder_vocab_size, or set "
                "share_encoder_decoder_embeddings=False for separate source and target vocabularies."
            )
        if self.share_encoder_decoder_embeddings and not self.tie_word_embeddings:
            raise ConfigurationError(
                "share_encoder_decoder_embeddings=True needs tie_word_embeddings=True: transformers ties either all "
                "declared weights or none. Set both to True, or share_encoder_decoder_embeddings=False."
            )
        super().__post_init__(**kwargs)

    @property
    def target_vocab_size(self) -> int:
        """The decoder's vocabulary: ``decoder_vocab_size`` if set, else the shared ``vocab_size``."""
        return self.decoder_vocab_size or self.vocab_size
