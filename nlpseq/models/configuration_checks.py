"""Config checks shared by more than one family (torch-free, like every configuration module)."""

from __future__ import annotations

from .errors import ConfigurationError


def check_choice(config, name: str, choices: tuple) -> None:
    """``config.<name>`` must be one of ``choices``."""
    value = getattr(config, name)
    if value not in choices:
        raise ConfigurationError(f"{name}={value!r}; choose one of {choices}.")


def check_activation(name: str) -> None:
    """``name`` must be a transformers activation (a key of ``ACT2FN``). That table is built with torch, so it is
    imported here, when a config is checked, not when the module is imported; without torch the check is left to
    the model (which needs torch to be built)."""
    try:
        from transformers.activations import ACT2FN
    except ImportError:
        return
    if name not in ACT2FN:
        raise ConfigurationError(f"hidden_act={name!r} is unknown; use one of transformers' ACT2FN names such as "
                                 "'gelu', 'gelu_new', 'relu', 'silu', 'tanh'.")


def check_adaptive_softmax(config) -> None:
    """``adaptive_softmax_cutoffs``: increasing ids in ``(0, vocab_size)``; the adaptive head has its own weights,
    so it unties the output layer from the embeddings (``tie_word_embeddings=False``)."""
    cutoffs = config.adaptive_softmax_cutoffs
    if not cutoffs:
        config.adaptive_softmax_cutoffs = None
        return
    cutoffs = [int(c) for c in cutoffs]
    if any(b <= a for a, b in zip([0, *cutoffs], [*cutoffs, config.vocab_size])):
        raise ConfigurationError(f"adaptive_softmax_cutoffs={cutoffs} must increase strictly between 0 and vocab_size "
                                 f"({config.vocab_size}); e.g. [2000, 10000] for a 33k-word vocabulary, or drop it")
    if config.adaptive_softmax_div_value < 1:
        raise ConfigurationError(f"adaptive_softmax_div_value must be >= 1, got {config.adaptive_softmax_div_value}")
    config.adaptive_softmax_cutoffs = cutoffs
    config.tie_word_embeddings = False
