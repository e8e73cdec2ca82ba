"""nlpseq.errors: one vocabulary, every class a ValueError, the built-in contracts kept, the models' own classes."""

import pytest
import torch

import nlpseq.errors as errors
from nlpseq import load_corpus, train_tokenizer
from nlpseq.models import DecoderConfig, DecoderModel
from nlpseq.models import errors as model_errors


def test_every_error_is_a_value_error_and_the_builtin_it_replaced():
    classes = [getattr(errors, name) for name in errors.__all__]
    assert all(issubclass(c, errors.NlpseqError) and issubclass(c, ValueError) for c in classes)
    assert issubclass(errors.DataFileNotFoundError, FileNotFoundError)
    assert issubclass(errors.CheckpointNotFoundError, FileNotFoundError)
    assert issubclass(errors.ConfigurationFileNotFoundError, FileNotFoundError)
    assert issubclass(errors.DataTypeError, TypeError) and issubclass(errors.ConfigurationTypeError, TypeError)
    assert str(errors.DataFileNotFoundError("Data file not found: x")) == "Data file not found: x"
    # the models raise the very classes nlpseq.errors exports (they are defined beside the models)
    assert all(getattr(errors, name) is getattr(model_errors, name) for name in errors.__all__)


def test_library_checks_raise_the_vocabulary(tmp_path):
    with pytest.raises(errors.DataFileNotFoundError, match="Data file not found"):
        load_corpus(tmp_path / "missing.csv")
    with pytest.raises(errors.DataTypeError, match="one string"):
        train_tokenizer("one text", kind="char", vocab_size=None)
    with pytest.raises(errors.ConfigurationError, match="not divisible by num_attention_heads"):
        DecoderConfig(hidden_size=10, num_attention_heads=3)
    model = DecoderModel(DecoderConfig(vocab_size=20, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                       intermediate_size=16, max_position_embeddings=4))
    with pytest.raises(errors.InputError, match="exceeds max_position_embeddings=4"):
        model(torch.zeros(1, 5, dtype=torch.long))
