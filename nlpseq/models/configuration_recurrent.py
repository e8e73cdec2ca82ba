"""Configuration of the recurrent family (RNN / LSTM / GRU language models and classifiers), and the cell and
implementation checks it shares with the recurrent seq2seq config and the ``Recurrent`` layer (``recurrent.py``)."""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_checks import check_adaptive_softmax, check_choice
from .errors import ConfigurationError

RNN_CELLS = ("rnn", "lstm", "gru")
RNN_IMPLEMENTATIONS = ("eager", "fused")
CLASSIFIER_POOLINGS = ("last", "mean", "max")


def check_cell(cell: str) -> None:
    if cell not in RNN_CELLS:
        raise ConfigurationError(f"Unknown recurrent cell {cell!r}; choose one of {sorted(RNN_CELLS)}.")


def check_implementation(implementation: str) -> None:
    if implementation not in RNN_IMPLEMENTATIONS:
        raise ConfigurationError(f"Unknown rnn_implementation {implementation!r}; choose 'eager' (our step-by-step "
                                 "cells) or 'fused' (torch.nn.RNN/LSTM/GRU kernels on the same weights).")


def check_recurrent_config(config, *sizes: str) -> None:
    """What both recurrent configs check: the cell and the implementation, ``embedding_size`` (default
    ``hidden_size``), sizes >= 1 (the four shared ones, then ``sizes``) and dropout rates in [0, 1)."""
    check_cell(config.cell)
    check_implementation(config.rnn_implementation)
    if config.embedding_size is None:
        config.embedding_size = config.hidden_size
    for name in ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", *sizes):
        if getattr(config, name) < 1:
            raise ConfigurationError(f"{name} must be >= 1, got {getattr(config, name)}.")
    for name in ("dropout", "hidden_dropout_prob"):
        if not 0.0 <= getattr(config, name) < 1.0:
            raise ConfigurationError(f"{name} must be in [0, 1), got {getattr(config, name)}.")


class RecurrentConfig(PretrainedConfig):
    """Embeddings -> a stack of recurrent layers -> a head.

    Args:
        cell: ``"rnn"`` (Elman, tanh), ``"lstm"`` or ``"gru"``.
        vocab_size: size of the token embedding table.
        embedding_size: width of the token embeddings (defaults to ``hidden_size``). When it differs from the
            recurrent output width, the language model projects ``hidden -> embedding`` before the (tied) output.
        hidden_size: state width per direction.
        num_hidden_layers: stacked recurrent layers.
        bidirectional: also read right to left (classifiers and taggers only; a causal LM cannot look ahead).
        dropout: dropout between stacked recurrent layers (torch's ``dropout`` argument).
        hidden_dropout_prob: dropout on the embeddings and on the last layer's output.
        rnn_implementation: ``"fused"`` (``torch.nn.RNN/LSTM/GRU`` kernels, the default) or ``"eager"`` (our cells
            stepped in a Python loop, the readable reference). Both use the same weights and give the same
            outputs, so the flag can be flipped on a trained model.
        classifier_pooling: how ``RecurrentForSequenceClassification`` summarises a sequence: ``"last"`` (the
            final state of the top layer, after the last real token, both directions), ``"mean"`` or ``"max"``
            over the real tokens.
        initializer_range: std of the normal init of embeddings and linear layers (recurrent weights use their
            own explicit init, ``U(-1/sqrt(hidden), 1/sqrt(hidden))`` with the LSTM forget-gate / GRU update-gate
            bias at 1, see ``RecurrentCell.reset_parameters``).
        adaptive_softmax_cutoffs: token ids where the language model's adaptive softmax cuts the vocabulary into a
            head and tail clusters (e.g. ``[2000, 10000]``; ids must be ordered by frequency, as the ``word`` and
            ``char`` tokenizers give them). ``None`` (default): the full, tied softmax. See
            ``nlpseq.models.adaptive_softmax``; it unties the output layer.
        adaptive_softmax_div_value: each tail cluster's projection is this many times narrower than the last.

    Example::

        config = RecurrentConfig(cell="lstm", vocab_size=8000, hidden_size=256, num_hidden_layers=2)
        model = RecurrentForCausalLM(config)
    """

    model_type = "nlpseq-recurrent"
    keys_to_ignore_at_inference = ["past_key_values"]

    cell: str = "lstm"
    vocab_size: int = 1000
    embedding_size: int | None = None
    hidden_size: int = 256
    num_hidden_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    hidden_dropout_prob: float = 0.0
    rnn_implementation: str = "fused"
    classifier_pooling: str = "last"
    initializer_range: float = 0.02
    tie_word_embeddings: bool = True
    adaptive_softmax_cutoffs: list[int] | None = None
    adaptive_softmax_div_value: float = 4.0
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    use_cache: bool = True

    def __post_init__(self, **kwargs):
        check_recurrent_config(self)
        check_choice(self, "classifier_pooling", CLASSIFIER_POOLINGS)
        check_adaptive_softmax(self)
        super().__post_init__(**kwargs)


__all__ = ["RNN_CELLS", "RNN_IMPLEMENTATIONS", "RecurrentConfig", "check_cell", "check_implementation"]
