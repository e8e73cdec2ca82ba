"""nlpseq's error vocabulary: catch ``NlpseqError`` for anything nlpseq refused, or one kind of it.

===============================  ===========================================================================
class                            raised for
===============================  ===========================================================================
``NlpseqError(ValueError)``      the base of all below
``DataError``                    corpora, files, columns, rows with missing values, labels
``DataFileNotFoundError``        a data file or folder that does not exist (also a ``FileNotFoundError``)
``DataTypeError``                data of the wrong Python type (also a ``TypeError``)
``ConfigurationError``           arguments and config fields out of range, an unusable ``--output_dir``
``ConfigurationFileNotFoundError``  a config / model / tokenizer path that does not exist
``ConfigurationTypeError``       an argument of the wrong type (also a ``TypeError``)
``CheckpointError``              a checkpoint that is incomplete, truncated or of another model family
``CheckpointNotFoundError``      a checkpoint folder that does not exist (also a ``FileNotFoundError``)
``InputError``                   tensors a model's ``forward`` / ``generate`` cannot take
===============================  ===========================================================================

The classes are defined in ``nlpseq/models/errors.py`` (model source files are copied into Hub repositories and
may only import their siblings) and re-exported here: ``nlpseq.errors.InputError`` *is* the class the models
raise. In a Hub copy loaded with ``trust_remote_code=True`` the models raise that copy's own classes, which
are still ``ValueError`` subclasses.
"""

from .models.errors import (
    CheckpointError,
    CheckpointNotFoundError,
    ConfigurationError,
    ConfigurationFileNotFoundError,
    ConfigurationTypeError,
    DataError,
    DataFileNotFoundError,
    DataTypeError,
    InputError,
    NlpseqError,
)

__all__ = [
    "CheckpointError", "CheckpointNotFoundError", "ConfigurationError", "ConfigurationFileNotFoundError",
    "ConfigurationTypeError", "DataError", "DataFileNotFoundError", "DataTypeError", "InputError", "NlpseqError",
]
