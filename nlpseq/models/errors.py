"""The errors nlpseq raises when it refuses input: one base class, one subclass per kind of input.

Every class is a ``ValueError`` (``except ValueError`` keeps working), and the ``...NotFoundError`` /
``...TypeError`` classes are also the built-in ``FileNotFoundError`` / ``TypeError`` that those checks raised
before. The classes live here, next to the models, because a model's source files are copied into Hub
repositories and may import only torch, transformers and their siblings; ``nlpseq.errors`` re-exports them, so
``from nlpseq.errors import DataError`` and the models raise the very same classes.
"""

from __future__ import annotations


class NlpseqError(ValueError):
    """Input that nlpseq refuses, with a message that names the problem and the fix."""


class DataError(NlpseqError):
    """A corpus, file, column, row or label that cannot be used as given."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """A data file or folder that does not exist."""


class DataTypeError(DataError, TypeError):
    """Data of the wrong Python type (a number where texts were expected, one string for a list of them)."""


class ConfigurationError(NlpseqError):
    """An argument, flag, config field or value out of its valid range."""


class ConfigurationFileNotFoundError(ConfigurationError, FileNotFoundError):
    """A config, model or tokenizer path that does not exist."""


class ConfigurationTypeError(ConfigurationError, TypeError):
    """An argument of the wrong type."""


class CheckpointError(NlpseqError):
    """A checkpoint that is incomplete, damaged or of another kind of model."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint folder that does not exist."""


class InputError(NlpseqError):
    """Tensors passed to a model's ``forward`` or ``generate`` that it cannot take (shape, length, dtype)."""


__all__ = [
    "CheckpointError", "CheckpointNotFoundError", "ConfigurationError", "ConfigurationFileNotFoundError",
    "ConfigurationTypeError", "DataError", "DataFileNotFoundError", "DataTypeError", "InputError", "NlpseqError",
]
