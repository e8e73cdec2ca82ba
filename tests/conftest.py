import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

# Tests run tiny models: one thread each is fastest, and 2 xdist workers x 2 threads would oversubscribe
# 2 cores (measured 10-20x slower per step on a busy box).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


# --- tiny configs, one factory per model family ------------------------------------------------------------------
# Each fixture returns a function: call it with overrides, e.g. ``tiny_decoder_config(num_labels=3)``. They build
# configs only (no weights, no random draws), so they are session-wide and module-scoped fixtures may use them.
# The classes are imported when first asked for, so that this file imports nothing of nlpseq.


@pytest.fixture(scope="session")
def tiny_decoder_config():
    from nlpseq.models.configuration_decoder import DecoderConfig

    def build(**overrides) -> DecoderConfig:
        fields = dict(vocab_size=48, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                      max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      initializer_range=0.3, pad_token_id=0, bos_token_id=1, eos_token_id=2)
        return DecoderConfig(**{**fields, **overrides})

    return build


@pytest.fixture(scope="session")
def tiny_encoder_config():
    from nlpseq.models.configuration_encoder import EncoderConfig

    def build(**overrides) -> EncoderConfig:
        fields = dict(vocab_size=48, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                      max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      initializer_range=0.3, pad_token_id=0)
        return EncoderConfig(**{**fields, **overrides})

    return build


@pytest.fixture(scope="session")
def tiny_recurrent_config():
    """``tiny_recurrent_config("gru", bidirectional=True)``: the cell first; specials pad 0, bos 1, eos 2."""
    from nlpseq.models.configuration_recurrent import RecurrentConfig

    def build(cell: str = "lstm", **overrides) -> RecurrentConfig:
        fields = dict(cell=cell, vocab_size=40, embedding_size=12, hidden_size=16, num_hidden_layers=2,
                      pad_token_id=0, bos_token_id=1, eos_token_id=2)
        return RecurrentConfig(**{**fields, **overrides})

    return build


@pytest.fixture(scope="session")
def tiny_recurrent_seq2seq_config():
    """A 20-token vocabulary; specials pad 0, bos 1 (also the decoder start), eos 2."""
    from nlpseq.models.configuration_recurrent_seq2seq import RecurrentSeq2SeqConfig

    def build(**overrides) -> RecurrentSeq2SeqConfig:
        fields = dict(vocab_size=20, hidden_size=16, embedding_size=8, num_hidden_layers=2, pad_token_id=0,
                      bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, initializer_range=0.5)
        return RecurrentSeq2SeqConfig(**{**fields, **overrides})

    return build


@pytest.fixture(scope="session")
def tiny_transformer_seq2seq_config():
    from nlpseq.models.configuration_transformer_seq2seq import TransformerSeq2SeqConfig

    def build(**overrides) -> TransformerSeq2SeqConfig:
        fields = dict(vocab_size=48, hidden_size=32, encoder_layers=2, decoder_layers=3, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0, initializer_range=0.2, pad_token_id=0, bos_token_id=1,
                      eos_token_id=2, decoder_start_token_id=1, attn_implementation="eager")
        return TransformerSeq2SeqConfig(**{**fields, **overrides})

    return build


@pytest.fixture(scope="session")
def tiny_ssm_config():
    """A 40-token vocabulary, hidden 16 (d_inner 32), state 4, chunk 4 (so the parallel scan crosses chunks);
    specials pad 0, bos 1, eos 2."""
    from nlpseq.models.configuration_ssm import SelectiveSSMConfig

    def build(**overrides) -> SelectiveSSMConfig:
        fields = dict(vocab_size=40, hidden_size=16, state_size=4, num_hidden_layers=2, conv_kernel=3, chunk_size=4,
                      pad_token_id=0, bos_token_id=1, eos_token_id=2)
        return SelectiveSSMConfig(**{**fields, **overrides})

    return build
