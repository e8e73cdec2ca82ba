"""Config checks shared by more than one family (torch-free, like every configuration module)."""

from __future__ import annotations

from .errors import ConfigurationError


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
