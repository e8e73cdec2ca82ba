"""Text as vectors, from counting to embeddings: ``BagOfWords`` (counts / TF-IDF), ``OneHot``, ``Embeddings``.

The textbook progression, made into tools:

* **bag of words** -- a document is its term-frequency vector ``x_d[t] = count(t, d)``, optionally
  ``tfidf(t, d) = tf(t, d) * idf(t)`` with ``idf(t) = ln((1 + n) / (1 + df(t))) + 1`` (smoothed) and each row
  scaled to unit L1/L2 norm. Compact and good for topics and retrieval, but blind to word order.
* **one-hot** -- token ``t`` is the basis vector ``e_t`` in ``R^V``: order is kept, but every pair of different
  tokens is orthogonal (no similarity) and the vectors are ``V``-dimensional and almost all zero.
* **embeddings** -- ``Z = X E``: the one-hot rows ``X (seq, V)`` times a learned matrix ``E (V, d)``, i.e. a
  row lookup; dense, low-dimensional, and similar words end up close together.

``BagOfWords`` follows scikit-learn's estimator conventions (``fit``/``transform``/``get_params``...) and
reproduces ``CountVectorizer``/``TfidfVectorizer`` exactly on the same tokenization, but counts with whole-array
kernels (NumPy over the UTF-8 bytes, ``pyarrow.compute`` hashing, SciPy sparse sums) instead of a Python loop
per document.
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer, TrainingArguments

from .errors import ConfigurationError, ConfigurationTypeError, DataError, DataTypeError, InputError
from .models import SkipGramConfig, SkipGramModel

WEIGHTINGS = ("count", "tfidf")
NORMS = (None, "l1", "l2")
POOLINGS = ("mean", "max", "sum")

#: byte -> lower-cased byte for ASCII word characters ``[0-9A-Za-z_]`` (what ``\w`` matches), 0 otherwise
_WORD_BYTES = np.zeros(256, np.uint8)
for _c in b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
    _WORD_BYTES[_c] = _c
_LOWER_WORD_BYTES = _WORD_BYTES.copy()
_LOWER_WORD_BYTES[ord("A"):ord("Z") + 1] += 32
#: RE2 spelling of Python's Unicode ``\W`` (letters, numbers and ``_`` are word characters)
_NON_WORD = r"[^\p{L}\p{N}_]+"


def _as_documents(raw_documents: object, name: str = "raw_documents") -> list[str]:
    """Check that ``raw_documents`` is a non-empty collection of strings and return it as a list."""
    if isinstance(raw_documents, (str, bytes)):
        raise DataTypeError(f"{name} must be an iterable of documents (e.g. a list of str), got a single "
                            f"{type(raw_documents).__name__}; wrap it in a list: [text].")
    if isinstance(raw_documents, (pa.Array, pa.ChunkedArray)):
        raw_documents = raw_documents.to_pylist()
    if not isinstance(raw_documents, Iterable):
        raise DataTypeError(f"{name} must be an iterable of str, got {type(raw_documents).__name__}.")
    docs = raw_documents if isinstance(raw_documents, list) else list(raw_documents)
    if not docs:
        raise DataError(f"{name} is empty; pass at least one document.")
    if not all(isinstance(d, str) for d in docs):
        bad = next(i for i, d in enumerate(docs) if not isinstance(d, str))
        raise DataTypeError(f"{name}[{bad}] is a {type(docs[bad]).__name__}, not str; every document must be a "
                            "string (decode bytes, replace None with '').")
    return docs


def _join_ascii(docs: list[str], lowercase: bool) -> tuple[pa.Array, np.ndarray]:
    """Split ASCII documents into ``\\w\\w+`` tokens with NumPy over the raw bytes (no per-document loop).

    Returns the tokens of all documents in order as one Arrow string array, and ``indptr`` such that the
    tokens of document ``i`` are ``tokens[indptr[i]:indptr[i + 1]]``.
    """
    table = (_LOWER_WORD_BYTES if lowercase else _WORD_BYTES).tobytes()
    # NUL separates documents (no token crosses them); bytes.translate is a 256-entry lookup table in C
    chars = np.frombuffer("\0".join(docs).encode("ascii").translate(table), np.uint8)
    word = np.zeros(len(chars) + 2, bool)  # padded with False on both sides
    np.not_equal(chars, 0, out=word[1:-1])
    bounds = np.flatnonzero(word[1:] != word[:-1])  # alternating token starts and (exclusive) ends
    starts, ends = bounds[0::2], bounds[1::2]
    single = ends - starts == 1  # one-character tokens are dropped, as \w\w+ does
    word[starts[single] + 1] = False
    keep = ~single
    starts, ends = starts[keep], ends[keep]
    offsets = np.zeros(len(starts) + 1, np.int64)
    np.cumsum(ends - starts, out=offsets[1:])
    tokens = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(chars[word[1:-1]]))
    doc_starts = np.zeros(len(docs) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, docs), np.int64, len(docs)) + 1, out=doc_starts[1:])
    return tokens, np.searchsorted(starts, doc_starts)


def _split_unicode(docs: list[str], lowercase: bool) -> tuple[pa.Array, np.ndarray]:
    """The same split for any Unicode text, with Arrow's RE2 kernels (slower than the byte path).

    Lower-casing is Python's ``str.lower`` (full Unicode case mapping, as scikit-learn uses), not Arrow's
    ``utf8_lower``: they differ on final sigma ("ΛΟΓΟΣ" -> "λογος", not "λογοσ") and on "İ" (-> "i̇")."""
    arr = pa.array([d.lower() for d in docs] if lowercase else docs, pa.large_string())
    parts = pc.split_pattern_regex(arr, _NON_WORD)
    flat, parent = parts.flatten(), pc.list_parent_indices(parts).to_numpy()
    keep = pc.greater_equal(pc.utf8_length(flat), 2)
    return flat.filter(keep), _indptr(parent[keep.to_numpy(zero_copy_only=False)], len(docs))


def _indptr(doc_ids: np.ndarray, n_docs: int) -> np.ndarray:
    indptr = np.zeros(n_docs + 1, np.int64)
    np.cumsum(np.bincount(doc_ids, minlength=n_docs), out=indptr[1:])
    return indptr


def split_words(docs: list[str], lowercase: bool = True) -> tuple[pa.Array, np.ndarray]:
    """scikit-learn's default analyzer (``token_pattern=r"(?u)\\b\\w\\w+\\b"``, optional lower-casing) on arrays.

    ASCII documents take the NumPy byte path, the others the RE2 path; the results are merged in document
    order. Returns ``(tokens, indptr)`` as in ``_join_ascii``.
    """
    ascii_mask = np.fromiter(map(str.isascii, docs), bool, len(docs))
    if ascii_mask.all():
        return _join_ascii(docs, lowercase)
    if not ascii_mask.any():
        return _split_unicode(docs, lowercase)
    groups = [np.flatnonzero(ascii_mask), np.flatnonzero(~ascii_mask)]
    parts = [fn([docs[i] for i in idx], lowercase) for fn, idx in zip((_join_ascii, _split_unicode), groups)]
    doc_ids = np.concatenate([idx[np.repeat(np.arange(len(idx)), np.diff(ptr))]
                              for idx, (_, ptr) in zip(groups, parts)])
    order = np.argsort(doc_ids, kind="stable")  # stable: tokens keep their order inside each document
    tokens = pa.concat_arrays([tok for tok, _ in parts]).take(pa.array(order))
    return tokens, _indptr(doc_ids, len(docs))


def _tokenize(docs: list[str], analyzer: object, lowercase: bool) -> tuple[pa.Array, np.ndarray]:
    """Tokens of every document as ``(tokens, indptr)`` for any supported analyzer."""
    if analyzer == "word":
        return split_words(docs, lowercase)
    if isinstance(analyzer, PreTrainedTokenizerBase):
        ids = analyzer(docs, add_special_tokens=False)["input_ids"]
        vocab = pa.array(analyzer.convert_ids_to_tokens(list(range(len(analyzer)))), pa.large_string())
        flat = np.fromiter((i for doc in ids for i in doc), np.int64)
        return vocab.take(pa.array(flat)), _indptr(np.repeat(np.arange(len(docs)), list(map(len, ids))), len(docs))
    tokens = [analyzer(doc) for doc in docs]
    flat = [t for doc in tokens for t in doc]
    bad = [t for t in flat if not isinstance(t, str)][:1]
    if bad:
        raise DataTypeError(f"the analyzer {analyzer!r} returned a {type(bad[0]).__name__} token ({bad[0]!r}); a "
                            "callable analyzer must return a list of str for each document.")
    return pa.array(flat, pa.large_string()), _indptr(np.repeat(np.arange(len(docs)), list(map(len, tokens))),
                                                      len(docs))


def _ngrams(tokens: pa.Array, indptr: np.ndarray, ngram_range: tuple[int, int]) -> tuple[pa.Array, np.ndarray]:
    """All n-grams (tokens joined by a space, as scikit-learn does) with the document id of each."""
    doc_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    doc_end = indptr[1:][doc_of]
    features, doc_ids = [], []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        start = np.flatnonzero(np.arange(len(doc_of)) + n <= doc_end)  # n-grams that stay inside their document
        parts = [tokens.take(pa.array(start + k)) for k in range(n)]
        features.append(parts[0] if n == 1 else pc.binary_join_element_wise(*parts, pa.scalar(" ", pa.large_string())))
        doc_ids.append(doc_of[start])
    return pa.concat_arrays(features), np.concatenate(doc_ids)


def _counts(doc_ids: np.ndarray, feature_ids: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Sparse ``(n_docs, n_features)`` counts; duplicates are summed and indices sorted (canonical CSR)."""
    ones = np.ones(len(doc_ids), np.int64)
    if np.all(doc_ids[1:] >= doc_ids[:-1]):  # grouped by document: build the CSR rows directly
        x = sp.csr_matrix((ones, feature_ids, _indptr(doc_ids, shape[0])), shape=shape)
    else:
        x = sp.coo_matrix((ones, (doc_ids, feature_ids)), shape=shape).tocsr()
    x.sum_duplicates()
    return x


class BagOfWords:
    """Documents -> sparse count or TF-IDF vectors, with scikit-learn's estimator API and exact numbers.

    Given the same tokens, ``BagOfWords(weighting="count")`` equals ``CountVectorizer`` and
    ``BagOfWords(weighting="tfidf")`` equals ``TfidfVectorizer``: same ``vocabulary_`` (features sorted
    alphabetically), same matrix. For a document ``d`` and term ``t``::

        tf(t, d)  = count(t, d)          (1 if binary and count > 0;  1 + ln(tf) if sublinear_tf)
        idf(t)    = ln((1 + n) / (1 + df(t))) + 1      if smooth_idf else  ln(n / df(t)) + 1
        x_d[t]    = tf(t, d) * idf(t)    then x_d /= ||x_d||  (norm "l1" | "l2" | None)

    Args:
        analyzer: ``"word"`` (scikit-learn's default: runs of 2+ word characters), any Hugging Face tokenizer
            (its sub-word tokens, without special tokens), or a callable ``str -> list[str]``.
        lowercase: lower-case before the ``"word"`` split (ignored by the other analyzers).
        ngram_range: ``(min_n, max_n)`` token n-grams to count, joined with a space.
        min_df, max_df: keep terms whose document frequency is in ``[min_df, max_df]``; an int is a number
            of documents, a float in ``[0, 1]`` a fraction of them.
        max_features: keep only the most frequent terms (by total count over the corpus).
        binary: count presence (0/1) instead of occurrences.
        weighting: ``"count"`` or ``"tfidf"``.
        norm, sublinear_tf, smooth_idf: as above; ``norm`` applies to both weightings; ``"auto"`` is "l2"
            for tfidf and None for counts (scikit-learn's defaults).
        store_corpus: keep the fitted corpus' vectors for ``most_similar`` (turn off to save memory).

    Output is a ``scipy.sparse.csr_matrix`` of float32 with ``(n_docs, n_features)``.
    """

    def __init__(self, analyzer: str | PreTrainedTokenizerBase | Callable[[str], list[str]] = "word", *,
                 lowercase: bool = True, ngram_range: tuple[int, int] = (1, 1), min_df: float | int = 1,
                 max_df: float | int = 1.0, max_features: int | None = None, binary: bool = False,
                 weighting: str = "count", norm: str | None = "auto", sublinear_tf: bool = False,
                 smooth_idf: bool = True, store_corpus: bool = True):
        self.analyzer = analyzer
        self.lowercase = lowercase
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.binary = binary
        self.weighting = weighting
        self.norm = norm
        self.sublinear_tf = sublinear_tf
        self.smooth_idf = smooth_idf
        self.store_corpus = store_corpus

    # -- scikit-learn estimator protocol ---------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments (scikit-learn's ``clone``, ``Pipeline`` and ``GridSearchCV`` use these)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters
                if name != "self"}

    def set_params(self, **params) -> BagOfWords:
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ConfigurationError(f"Invalid parameter {name!r} for BagOfWords; valid parameters: "
                                         f"{sorted(valid)}.")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):  # called by scikit-learn only, so importing it here adds no dependency
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(), input_tags=InputTags(two_d_array=False, string=True))

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != BagOfWords().get_params()[k]}
        return f"BagOfWords({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- fitting ---------------------------------------------------------------------------------------------
    @property
    def _norm(self) -> str | None:
        return ("l2" if self.weighting == "tfidf" else None) if self.norm == "auto" else self.norm

    def _check_params(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ConfigurationError(f"weighting={self.weighting!r}; choose one of {WEIGHTINGS}.")
        if self._norm not in NORMS:
            raise ConfigurationError(f"norm={self.norm!r}; choose one of {NORMS}.")
        lo, hi = self.ngram_range
        if not (isinstance(lo, Integral) and isinstance(hi, Integral) and 1 <= lo <= hi):
            raise ConfigurationError(f"ngram_range={self.ngram_range!r}; use (min_n, max_n) with 1 <= min_n <= max_n.")
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, float) and not 0.0 <= value <= 1.0 or value < 0:
                raise ConfigurationError(f"{name}={value!r}: a float is a fraction of documents in [0, 1], an int a "
                                         "number of documents >= 0.")
        if self.max_features is not None and (not isinstance(self.max_features, Integral) or self.max_features < 1):
            raise ConfigurationError(f"max_features={self.max_features!r}; use a positive int or None.")
        if not (self.analyzer == "word" or isinstance(self.analyzer, PreTrainedTokenizerBase)
                or callable(self.analyzer)):
            raise ConfigurationTypeError(f"analyzer={self.analyzer!r}; use 'word', a Hugging Face tokenizer or a "
                                         "callable str -> list[str].")

    def _features(self, raw_documents: object) -> tuple[int, pa.Array, np.ndarray]:
        docs = _as_documents(raw_documents)
        tokens, indptr = _tokenize(docs, self.analyzer, self.lowercase)
        if self.ngram_range == (1, 1):
            return len(docs), tokens, np.repeat(np.arange(len(docs)), np.diff(indptr))
        return len(docs), *_ngrams(tokens, indptr, tuple(self.ngram_range))

    def fit(self, raw_documents: Iterable[str], y: object = None) -> BagOfWords:
        """Learn the vocabulary (and idf) from ``raw_documents``."""
        self.fit_transform(raw_documents)
        return self

    def fit_transform(self, raw_documents: Iterable[str], y: object = None) -> sp.csr_matrix:
        """``fit`` then ``transform`` on the same documents, tokenizing them once."""
        self._check_params()
        n_docs, features, doc_ids = self._features(raw_documents)
        encoded = features.dictionary_encode()
        if len(encoded.dictionary) == 0:
            raise DataError("empty vocabulary: the documents contain no tokens (with the 'word' analyzer a token "
                            "is 2+ letters, digits or '_'); pass documents with text in them.")
        order = pc.array_sort_indices(encoded.dictionary).to_numpy()  # byte order of UTF-8 == Python str order
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        counts = _counts(doc_ids, rank[encoded.indices.to_numpy()], (n_docs, len(order)))
        if self.binary:
            counts.data[:] = 1
        keep = self._limit_features(counts, n_docs)
        terms = encoded.dictionary.take(pa.array(order[keep]))
        self._vocab_array = terms
        self.vocabulary_ = dict(zip(terms.to_pylist(), range(len(terms))))
        if len(keep) < counts.shape[1]:
            counts = _select_columns(counts, keep)
        if self.weighting == "tfidf":
            df = np.bincount(counts.indices, minlength=len(terms)).astype(np.float64)
            s = float(self.smooth_idf)
            self.idf_ = np.log((n_docs + s) / (df + s)) + 1.0
        x = self._weight(counts)
        self.corpus_ = x if self.store_corpus else None
        return x

    def _limit_features(self, counts: sp.csr_matrix, n_docs: int) -> np.ndarray:
        """Indices of the terms kept by ``min_df``, ``max_df`` and ``max_features`` (scikit-learn's rules)."""
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        high = self.max_df if isinstance(self.max_df, Integral) else self.max_df * n_docs
        low = self.min_df if isinstance(self.min_df, Integral) else self.min_df * n_docs
        if high < low:
            raise ConfigurationError(f"max_df={self.max_df!r} allows fewer documents than min_df={self.min_df!r}; "
                                     "raise max_df or lower min_df.")
        mask = (df <= high) & (df >= low)
        if self.max_features is not None and mask.sum() > self.max_features:
            # the same expression and dtype as scikit-learn, so ties at the cut-off resolve identically
            tfs = np.asarray(counts.sum(axis=0), np.float64 if self.weighting == "tfidf" else np.int64).ravel()
            top = np.flatnonzero(mask)[(-tfs[mask]).argsort()[:self.max_features]]
            mask = np.zeros_like(mask)
            mask[top] = True
        if not mask.any():
            raise DataError(f"After min_df={self.min_df!r} / max_df={self.max_df!r} no terms remain (document "
                            f"frequencies range from {df.min()} to {df.max()} over {n_docs} documents); lower "
                            "min_df or raise max_df.")
        return np.flatnonzero(mask)

    # -- transforming ----------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise RuntimeError("This BagOfWords is not fitted yet; call fit(documents) or fit_transform(documents) "
                               "before transform / most_similar.")

    def transform(self, raw_documents: Iterable[str]) -> sp.csr_matrix:
        """Vectors of ``raw_documents`` over the fitted vocabulary (unknown terms are ignored)."""
        self._check_fitted()
        n_docs, features, doc_ids = self._features(raw_documents)
        ids = pc.index_in(features, value_set=self._vocab_array)
        known = ids.is_valid().to_numpy(zero_copy_only=False)
        counts = _counts(doc_ids[known], ids.drop_null().to_numpy().astype(np.int64), (n_docs, len(self._vocab_array)))
        if self.binary:
            counts.data[:] = 1
        return self._weight(counts)

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """tf -> tf * idf -> row normalisation, in float64, returned as float32."""
        data = counts.data.astype(np.float64)
        if self.sublinear_tf:
            data = 1.0 + np.log(data)
        if self.weighting == "tfidf":
            data *= self.idf_[counts.indices]
        if self._norm is not None:
            rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
            size = np.bincount(rows, np.abs(data) if self._norm == "l1" else data * data, counts.shape[0])
            size = size if self._norm == "l1" else np.sqrt(size)
            data /= np.where(size > 0, size, 1.0)[rows]
        return sp.csr_matrix((data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The terms, in column order (an object array of str, as scikit-learn returns)."""
        self._check_fitted()
        return np.asarray(self._vocab_array.to_pylist(), dtype=object)

    def most_similar(self, query: str, top_k: int = 5) -> list[tuple[int, float]]:
        """The ``top_k`` fitted documents closest to ``query`` by cosine, as ``(document index, cosine)``."""
        self._check_fitted()
        if self.corpus_ is None:
            raise RuntimeError("most_similar needs the fitted corpus; refit with store_corpus=True.")
        if not isinstance(query, str):
            raise DataTypeError(f"query must be a str, got {type(query).__name__}.")
        _check_top_k(top_k)
        scores = (_unit_rows(self.corpus_) @ _unit_rows(self.transform([query])).T).toarray().ravel()
        top = np.argsort(-scores, kind="stable")[:top_k]
        return [(int(i), float(scores[i])) for i in top]


def _check_top_k(top_k: object) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, Integral) or top_k < 1:
        raise ConfigurationError(f"top_k={top_k!r}; use a positive int (how many neighbours to return).")


def _select_columns(x: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """``x[:, columns]`` for sorted ``columns``, renumbered 0..len(columns)-1, without SciPy's fancy indexing."""
    new_index = np.full(x.shape[1], -1, np.int64)
    new_index[columns] = np.arange(len(columns))
    mapped = new_index[x.indices]
    keep = mapped >= 0
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))[keep]
    return sp.csr_matrix((x.data[keep], mapped[keep], _indptr(rows, x.shape[0])), shape=(x.shape[0], len(columns)))


def _unit_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1), np.float64)).ravel()
    return sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x


class OneHot:
    """Token ids ``(batch, seq)`` -> one-hot ``X (batch, seq, vocab_size)`` with ``X[b, t, input_ids[b, t]] = 1``.

    Order is kept (one row per position) and padding positions (``attention_mask == 0``, or ``pad_token_id``)
    are all-zero rows. Rows of different tokens are orthogonal, and ``X @ E`` is exactly the embedding lookup
    ``E[input_ids]``. Returns a sparse COO tensor (``dense=True`` for a strided one).
    """

    def __init__(self, vocab_size: int, pad_token_id: int | None = None):
        if not isinstance(vocab_size, Integral) or vocab_size < 1:
            raise ConfigurationError(f"vocab_size={vocab_size!r}; use a positive int such as len(tokenizer).")
        self.vocab_size = int(vocab_size)
        self.pad_token_id = pad_token_id

    @classmethod
    def from_tokenizer(cls, tokenizer: PreTrainedTokenizerBase) -> OneHot:
        return cls(len(tokenizer), tokenizer.pad_token_id)

    def __call__(self, input_ids: torch.Tensor | Sequence[Sequence[int]], attention_mask: torch.Tensor | None = None,
                 dense: bool = False) -> torch.Tensor:
        return self.transform(input_ids, attention_mask, dense)

    def transform(self, input_ids: torch.Tensor | Sequence[Sequence[int]], attention_mask: torch.Tensor | None = None,
                  dense: bool = False) -> torch.Tensor:
        """``input_ids``: a ``(batch, seq)`` LongTensor or ragged lists of ids (padded here)."""
        if not isinstance(input_ids, torch.Tensor):
            if isinstance(input_ids, str) or not all(isinstance(row, Sequence) for row in input_ids):
                raise DataTypeError("input_ids must be a (batch, seq) LongTensor or a list of lists of token ids; "
                                    "tokenize text first (tokenizer(texts)['input_ids']).")
            width = max(map(len, input_ids), default=0)
            attention_mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in input_ids])
            input_ids = torch.tensor([list(r) + [0] * (width - len(r)) for r in input_ids], dtype=torch.long)
        if input_ids.dim() != 2 or input_ids.dtype not in (torch.int32, torch.int64):
            raise InputError(f"input_ids must be an integer (batch, seq) tensor, got {input_ids.dtype} of shape "
                             f"{tuple(input_ids.shape)}.")
        if input_ids.numel() and (input_ids.min() < 0 or input_ids.max() >= self.vocab_size):
            raise InputError(f"token ids must lie in [0, {self.vocab_size}), found {int(input_ids.min())}.."
                             f"{int(input_ids.max())}; build OneHot with the tokenizer's size (from_tokenizer).")
        if attention_mask is not None and tuple(attention_mask.shape) != tuple(input_ids.shape):
            raise InputError(f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids "
                             f"{tuple(input_ids.shape)}; pass the mask the tokenizer returned with these ids.")
        keep = torch.ones_like(input_ids, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
        if self.pad_token_id is not None:
            keep &= input_ids != self.pad_token_id
        batch, pos = keep.nonzero(as_tuple=True)
        indices = torch.stack([batch, pos, input_ids[batch, pos]])
        x = torch.sparse_coo_tensor(indices, torch.ones(indices.shape[1]), (*input_ids.shape, self.vocab_size),
                                    check_invariants=False)  # valid by construction: skip the check and its warning
        return x.to_dense() if dense else x.coalesce()


def skipgram_pairs(input_ids: Sequence[Sequence[int]], window: int = 2, subsample: float | None = 1e-3,
                   vocab_size: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) pairs of every token with its neighbours up to ``window`` positions away.

    ``subsample`` drops frequent tokens first, keeping each occurrence of ``w`` with probability
    ``sqrt(t / f(w)) + t / f(w)`` (word2vec), where ``f(w)`` is its share of all tokens.
    """
    if window < 1:
        raise ConfigurationError(f"window={window}; use at least 1 (neighbours on each side).")
    ids = np.fromiter((i for doc in input_ids for i in doc), np.int64)
    doc = np.repeat(np.arange(len(input_ids)), [len(d) for d in input_ids])
    if subsample:
        freq = np.bincount(ids, minlength=vocab_size or 0) / max(len(ids), 1)
        ratio = subsample / np.maximum(freq[ids], 1e-12)
        keep = np.random.default_rng(seed).random(len(ids)) < np.sqrt(ratio) + ratio
        ids, doc = ids[keep], doc[keep]
    centers, contexts = [], []
    for offset in range(1, window + 1):
        same = np.flatnonzero(doc[offset:] == doc[:-offset])  # both words in the same document
        centers += [ids[same], ids[same + offset]]
        contexts += [ids[same + offset], ids[same]]
    return np.concatenate(centers), np.concatenate(contexts)


class _PairDataset(torch.utils.data.Dataset):
    """(center, context) rows for the Trainer, fetched a batch at a time (much faster than ``datasets`` rows)."""

    def __init__(self, centers: np.ndarray, contexts: np.ndarray):
        self.centers, self.contexts = centers, contexts

    def __len__(self) -> int:
        return len(self.centers)

    def __getitem__(self, i: int) -> dict[str, int]:
        return {"input_ids": int(self.centers[i]), "context_ids": int(self.contexts[i])}

    def __getitems__(self, indices: list[int]) -> list[dict[str, int]]:
        pairs = zip(self.centers[indices].tolist(), self.contexts[indices].tolist())
        return [{"input_ids": c, "context_ids": o} for c, o in pairs]


class Embeddings:
    """Dense token vectors ``E (vocab, d)``: the rows of ``Z = X E`` for one-hot rows ``X``.

    Build them from any nlpseq model's input embedding matrix (``from_model``) or train skip-gram vectors
    from scratch (``train``). Then ``vector(token)``, ``most_similar(token)`` (cosine) and
    ``encode(texts, pooling)`` for document vectors.
    """

    def __init__(self, weight: torch.Tensor, tokenizer: PreTrainedTokenizerBase):
        if weight.dim() != 2 or weight.shape[0] < len(tokenizer):
            raise ConfigurationError(f"weight must be (vocab, d) with vocab >= len(tokenizer)={len(tokenizer)}, got "
                                     f"{tuple(weight.shape)}; the model and tokenizer do not match.")
        self.weight = weight.detach().float().cpu()
        self.tokenizer = tokenizer

    @classmethod
    def from_model(cls, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> Embeddings:
        """The input embedding matrix of ``model`` (``model.get_input_embeddings().weight``)."""
        try:
            embedding = model.get_input_embeddings()
        except NotImplementedError:
            embedding = None
        if not isinstance(getattr(embedding, "weight", None), torch.Tensor):
            raise ConfigurationTypeError(f"{type(model).__name__} has no input embedding matrix "
                                         "(get_input_embeddings()); use a model that embeds tokens (decoder, encoder, "
                                         "recurrent, skip-gram) or Embeddings.train.")
        return cls(embedding.weight, tokenizer)

    @classmethod
    def train(cls, texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, *, hidden_size: int = 64,
              window: int = 2, num_negatives: int = 5, subsample: float | None = 1e-3, num_train_epochs: float = 2,
              learning_rate: float = 3e-2, per_device_train_batch_size: int = 2048, seed: int = 0,
              **training_args) -> Embeddings:
        """Train ``SkipGramModel`` on ``texts`` with the Hugging Face ``Trainer``; extra kwargs go to
        ``TrainingArguments`` (e.g. ``output_dir`` and ``save_strategy`` to keep checkpoints). ``seed`` seeds
        the pair subsampling, torch (the model's init) and the Trainer. The trained model is kept as ``.model``."""
        ids = tokenizer(_as_documents(texts, "texts"), add_special_tokens=False)["input_ids"]
        centers, contexts = skipgram_pairs(ids, window, subsample, len(tokenizer), seed)
        if len(centers) == 0:
            raise DataError("No (center, context) pairs: the texts are too short for the window; pass longer texts.")
        torch.manual_seed(seed)
        model = SkipGramModel(SkipGramConfig(vocab_size=len(tokenizer), hidden_size=hidden_size,
                                             num_negatives=num_negatives, pad_token_id=tokenizer.pad_token_id))
        model.set_noise_distribution(torch.bincount(torch.tensor([i for d in ids for i in d]),
                                                    minlength=len(tokenizer)))
        data = _PairDataset(centers, contexts)
        with tempfile.TemporaryDirectory() as tmp:
            args = {"output_dir": tmp, "save_strategy": "no", "report_to": [], "logging_strategy": "no",
                    "disable_tqdm": True, **training_args}
            args = TrainingArguments(num_train_epochs=num_train_epochs, learning_rate=learning_rate, seed=seed,
                                     per_device_train_batch_size=per_device_train_batch_size, **args)
            Trainer(model=model, args=args, train_dataset=data).train()
        embeddings = cls.from_model(model, tokenizer)
        embeddings.model = model
        return embeddings

    def token_id(self, token: str) -> int:
        if not isinstance(token, str):
            raise DataTypeError(f"token must be a str, got {type(token).__name__}.")
        index = self.tokenizer.get_vocab().get(token)
        if index is None:
            raise KeyError(f"{token!r} is not a token of the tokenizer's vocabulary; look at "
                           f"tokenizer.tokenize({token!r}) or use encode([text]) for arbitrary text.")
        return index

    def vector(self, token: str) -> torch.Tensor:
        """The embedding ``E[id(token)]`` ``(d,)``."""
        return self.weight[self.token_id(token)]

    def most_similar(self, token: str | torch.Tensor, top_k: int = 5) -> list[tuple[str, float]]:
        """The ``top_k`` tokens with the highest cosine to ``token`` (a token or a ``(d,)`` vector), without
        the token itself and special tokens."""
        _check_top_k(top_k)
        query = self.vector(token) if isinstance(token, str) else token
        scores = F.cosine_similarity(self.weight, query[None, :], dim=-1)             # (vocab,)
        skip = set(self.tokenizer.all_special_ids) | ({self.token_id(token)} if isinstance(token, str) else set())
        scores[list(skip)] = -float("inf")
        scores[len(self.tokenizer):] = -float("inf")
        top = torch.topk(scores, min(top_k, int(torch.isfinite(scores).sum())))
        return list(zip(self.tokenizer.convert_ids_to_tokens(top.indices.tolist()), top.values.tolist()))

    def encode(self, texts: Iterable[str], pooling: str = "mean") -> torch.Tensor:
        """Document vectors ``(batch, d)``: the token vectors of each text pooled by ``"mean"|"max"|"sum"``."""
        if pooling not in POOLINGS:
            raise ConfigurationError(f"pooling={pooling!r}; choose one of {POOLINGS}.")
        batch = self.tokenizer(_as_documents(texts, "texts"), add_special_tokens=False, padding=True,
                               return_tensors="pt")
        mask = batch["attention_mask"].unsqueeze(-1).float()                       # (batch, seq, 1)
        z = self.weight[batch["input_ids"]]                                        # (batch, seq, d)
        if pooling == "max":
            return z.masked_fill(mask == 0, -float("inf")).amax(1).nan_to_num(neginf=0.0)
        total = (z * mask).sum(1)
        return total if pooling == "sum" else total / mask.sum(1).clamp(min=1.0)

