"""Every nlpseq model family, registered with the transformers Auto classes on import.

Files in this folder are flat and self-contained: they import only torch, transformers, the standard
library and each other (``from .attention import MultiHeadAttention``), so ``save_pretrained`` can copy
them into a Hub repo for ``trust_remote_code=True``. This ``__init__`` is the one place that knows about
all of them; it is never copied.
"""

from __future__ import annotations

from transformers import AutoConfig, PretrainedConfig


def register(config_class: type[PretrainedConfig], *pairs: tuple[type, type]) -> None:
    """Register ``config_class`` with ``AutoConfig`` and each ``(AutoClass, ModelClass)`` pair."""
    AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    for auto_class, model_class in pairs:
        auto_class.register(config_class, model_class, exist_ok=True)


__all__ = ["register"]
