"""nlpseq: the classic sequence models of NLP, written from scratch, native to the Hugging Face stack.

Importing ``nlpseq`` registers every model family with the transformers Auto classes.
"""

from .corpora import BUILTIN_CORPORA, make_corpus
from .data import (
    group_texts,
    load_corpus,
    load_parallel_text,
    prepare_classification,
    prepare_translation,
    tokenize_dataset,
)
from .featurizers import BagOfWords, Embeddings, OneHot
from .models import *  # noqa: F403  (registers the Auto classes)
from .models import __all__ as _model_names
from .tokenization import PRESETS, train_tokenizer

__version__ = "0.1.0"

__all__ = [
    "BagOfWords",
    "Embeddings",
    "OneHot",
    "BUILTIN_CORPORA",
    "PRESETS",
    "group_texts",
    "load_corpus",
    "load_parallel_text",
    "make_corpus",
    "prepare_classification",
    "prepare_translation",
    "tokenize_dataset",
    "train_tokenizer",
    *_model_names,
]
