"""Train a tokenizer on any texts and get a transformers fast tokenizer back.

The algorithms are the ``tokenizers`` library's (BPE, WordPiece, Unigram, word-level for characters and words) and
Google's ``sentencepiece`` (converted to a fast Unigram tokenizer, so every kind returns the same class).
What nlpseq adds is the *preset*: the special tokens a model family needs, placed first in the vocabulary
(ids ``0..n-1``, stable across corpora), and the post-processor that adds them:

=========  ==================================  =====================================
preset     special tokens (ids 0, 1, ...)      post-processor
=========  ==================================  =====================================
``clm``    ``<s> </s> <pad> <unk>``            ``<s> $A`` (BOS starts every text)
``mlm``    ``[CLS] [SEP] [PAD] [UNK] [MASK]``  ``[CLS] $A [SEP]`` / ``[CLS] $A [SEP] $B [SEP]``
``seq2seq`` ``<pad> <s> </s> <unk>``           ``$A </s>`` (EOS ends source and target)
=========  ==================================  =====================================

``vocab_size`` counts everything, specials included, so ``len(tokenizer) == vocab_size`` always holds; a
corpus too small to reach it is an error that names the size it can reach.
"""

from __future__ import annotations

import io
import numbers
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from .errors import ConfigurationError, ConfigurationTypeError, DataError, DataTypeError

#: kinds that tokenize raw text
KINDS = ("bpe", "wordpiece", "unigram", "char", "sentencepiece")
#: kinds for already tokenized corpora (WikiText, PTB): every whitespace-separated word is a token
PRETOKENIZED_KINDS = ("word",)


@dataclass(frozen=True)
class Preset:
    """Special tokens of a model family, in vocabulary order, and the role each one plays."""

    name: str
    roles: dict[str, str]  # transformers role ("bos_token", ...) -> token string; order = vocab order
    single: str  # TemplateProcessing template for one sequence
    pair: str  # ... and for a pair

    @property
    def specials(self) -> list[str]:
        return list(self.roles.values())

    @property
    def unk(self) -> str:
        return self.roles["unk_token"]


PRESETS: dict[str, Preset] = {
    "clm": Preset("clm", {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"},
                  single="<s> $A", pair="<s> $A <s> $B:1"),
    "mlm": Preset("mlm", {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                          "unk_token": "[UNK]", "mask_token": "[MASK]"},
                  single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1"),
    "seq2seq": Preset("seq2seq", {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>",
                                  "unk_token": "<unk>"},
                      single="$A </s>", pair="$A </s> $B:1 </s>:1"),
}


def _checked(texts: Iterable[object]) -> Iterator[str]:
    """The non-blank texts; anything but a string is a ``DataTypeError``."""
    for text in texts:
        if not isinstance(text, str):
            raise DataTypeError(f"train_tokenizer takes strings, got a {type(text).__name__}; pass the text column "
                                "(and drop missing values, e.g. dataset.filter(lambda r: r['text'] is not None))")
        if text.strip():
            yield text


class _StreamedTexts:
    """A one-pass iterable of checked texts that counts what it yielded (a stream is never listed)."""

    def __init__(self, texts: Iterator[object]):
        self.texts, self.count = texts, 0

    def __iter__(self) -> Iterator[str]:
        for text in _checked(self.texts):
            self.count += 1
            yield text


def _batches(texts: Iterable[str], size: int = 1000) -> Iterator[list[str]]:
    batch = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bpe(vocab_size: int, preset: Preset, min_frequency: int, lowercase: bool,
         limit_alphabet: int | None) -> tuple[Tokenizer, trainers.Trainer]:
    """GPT-2's byte-level BPE: every byte is in the alphabet, so nothing is ever unknown."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), *([normalizers.Lowercase()] if lowercase else [])])
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok, trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=preset.specials,
                                    initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def _wordpiece(vocab_size: int, preset: Preset, min_frequency: int, lowercase: bool,
               limit_alphabet: int | None) -> tuple[Tokenizer, trainers.Trainer]:
    """BERT's: split on whitespace and punctuation, continuation pieces start with ##."""
    tok = Tokenizer(models.WordPiece(unk_token=preset.unk))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    limit = {} if limit_alphabet is None else {"limit_alphabet": limit_alphabet}
    return tok, trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                          special_tokens=preset.specials, **limit)


def _unigram(vocab_size: int, preset: Preset, min_frequency: int, lowercase: bool,
             limit_alphabet: int | None) -> tuple[Tokenizer, trainers.Trainer]:
    """The Unigram LM of Kudo (2018) with SentencePiece's "▁" word boundary."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), *([normalizers.Lowercase()] if lowercase else [])])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    return tok, trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=preset.specials, unk_token=preset.unk,
                                        shrinking_factor=0.75)


def _char(vocab_size: int, preset: Preset, min_frequency: int, lowercase: bool,
          limit_alphabet: int | None) -> tuple[Tokenizer, trainers.Trainer]:
    """One token per character, whitespace and newlines included; decoding just joins."""
    tok = Tokenizer(models.WordLevel(unk_token=preset.unk))
    if lowercase:
        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return tok, trainers.WordLevelTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                          special_tokens=preset.specials)


def _word(vocab_size: int, preset: Preset, min_frequency: int, lowercase: bool,
          limit_alphabet: int | None) -> tuple[Tokenizer, trainers.Trainer]:
    """One token per space-separated word of pre-tokenized text (WikiText, PTB); a line break is a token of its
    own: the corpus' end of line."""
    tok = Tokenizer(models.WordLevel(unk_token=preset.unk))
    if lowercase:
        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"[^\S\n]+"), behavior="removed"),
                                                 pre_tokenizers.Split("\n", behavior="isolated")])
    return tok, trainers.WordLevelTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                          special_tokens=preset.specials)


#: kind -> the builder of its untrained tokenizer and trainer ("sentencepiece" trains with its own library)
_BUILDERS = {"bpe": _bpe, "wordpiece": _wordpiece, "unigram": _unigram, "char": _char, "word": _word}


def _build(kind: str, vocab_size: int, preset: Preset, min_frequency: int, lowercase: bool,
           limit_alphabet: int | None) -> tuple[Tokenizer, trainers.Trainer]:
    """An untrained ``tokenizers.Tokenizer`` and its trainer for ``kind``."""
    if kind not in _BUILDERS:
        raise ConfigurationError(f"Unknown tokenizer kind {kind!r}; choose one of {KINDS + PRETOKENIZED_KINDS}")
    return _BUILDERS[kind](vocab_size, preset, min_frequency, lowercase, limit_alphabet)


def _specials_first(trained: Tokenizer, preset: Preset) -> Tokenizer:
    """Give the specials ids ``0..n-1`` again: the word-level trainer renumbers a special that is also a corpus
    word (WikiText's ``<unk>``); the word keeps its special's id and frequency order is kept for the rest."""
    vocab = trained.get_vocab()
    words = preset.specials + [w for w in sorted(vocab, key=vocab.get) if w not in preset.specials]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token=preset.unk))
    tok.normalizer, tok.pre_tokenizer = trained.normalizer, trained.pre_tokenizer
    tok.add_special_tokens(preset.specials)
    return tok


def _sentencepiece_model(texts: list[str], vocab_size: int, preset: Preset, lowercase: bool,
                         exact: bool = True) -> bytes:
    """Train with the ``sentencepiece`` library; returns the serialized model (what ``tokenizer.model`` holds).
    ``exact=False``: ``vocab_size`` is a soft limit (sentencepiece's ``hard_vocab_limit``)."""
    import sentencepiece as spm

    proto = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=proto, model_type="unigram",
            vocab_size=vocab_size - len(preset.specials) + 1,  # + spm's own <unk>, replaced below
            unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, remove_extra_whitespaces=False, hard_vocab_limit=exact,
            normalization_rule_name="nmt_nfkc_cf" if lowercase else "identity", minloglevel=2)
    except RuntimeError as err:
        raise ConfigurationError(_sentencepiece_advice(str(err), vocab_size, preset)) from err
    return proto.getvalue()


def _sentencepiece_advice(message: str, vocab_size: int, preset: Preset) -> str:
    """sentencepiece's complaint in nlpseq's units: its sizes leave out the preset's special tokens, which take
    the place of its own ``<unk>`` (``len(specials) - 1`` more), so "<= 80" means vocab_size <= 83 here."""
    extra = len(preset.specials) - 1
    counted = f"counting the {len(preset.specials)} special tokens of preset {preset.name!r}"
    high = re.search(r"value <= (\d+)", message)
    if high:
        return (f"vocab_size={vocab_size} is more than this corpus supports for 'sentencepiece': at most "
                f"{int(high.group(1)) + extra} ({counted}); lower vocab_size to that or give more text")
    chars = re.search(r"required_chars\. \d+ vs (\d+)", message)  # its pieces: every character + its <unk>
    if chars:
        return (f"vocab_size={vocab_size} is too small for the characters of this corpus: raise vocab_size to "
                f"{int(chars.group(1)) + extra} or more ({counted}); 'sentencepiece' needs a piece for every character")
    return f"sentencepiece could not reach vocab_size={vocab_size} on this corpus ({message}); lower vocab_size " \
           "or give more text"


def _sentencepiece_to_fast(model: bytes, preset: Preset, lowercase: bool) -> Tokenizer:
    """Load SentencePiece pieces and scores into a ``tokenizers`` Unigram model (no protobuf needed).

    SentencePiece keeps its own ``<unk>`` at id 0; the preset's specials take its place, so the fast id of a
    piece is ``spm_id - 1 + len(specials)`` (the parity test checks exactly this).
    """
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=model)
    vocab = [(s, 0.0) for s in preset.specials]
    vocab += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(1, sp.get_piece_size())]
    tok = Tokenizer(models.Unigram(vocab, unk_id=preset.specials.index(preset.unk), byte_fallback=False))
    if lowercase:
        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return tok


def _check_options(kind: str, vocab_size: object, preset: str) -> tuple[Preset, int | None]:
    """The preset of a known ``kind`` and ``preset``, and ``vocab_size`` as an int (``None`` for "char"/"word")."""
    if kind not in KINDS + PRETOKENIZED_KINDS:
        raise ConfigurationError(f"Unknown tokenizer kind {kind!r}; choose one of {KINDS + PRETOKENIZED_KINDS}")
    if preset not in PRESETS:
        raise ConfigurationError(f"Unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if vocab_size is None:
        if kind not in ("char", "word"):
            raise ConfigurationError(f"vocab_size=None is only allowed for kind='char' or 'word'; give {kind!r} a "
                                     "vocab_size")
        return PRESETS[preset], None
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral):
        raise ConfigurationTypeError(f"vocab_size must be an int (or None for 'char'/'word'), got {vocab_size!r}")
    return PRESETS[preset], int(vocab_size)


def _texts_to_train_on(texts: Iterable[object]) -> list[str] | _StreamedTexts:
    """The checked non-blank texts as a list, or, for an iterator (a generator, a stream), a one-pass
    :class:`_StreamedTexts` that is never held in memory."""
    if isinstance(texts, str):
        raise DataTypeError("train_tokenizer takes an iterable of texts, got one string; wrap it in a list")
    if isinstance(texts, Iterator):
        return _StreamedTexts(texts)
    listed = list(_checked(list(texts)))
    if not listed:
        raise DataError("train_tokenizer got no non-empty texts; pass a list of strings or a dataset column")
    return listed


def _check_floor(vocab_size: int, kind: str, spec: Preset) -> None:
    """``vocab_size`` leaves room for the specials and the smallest alphabet ``kind`` can have."""
    floor = len(spec.specials) + (256 if kind == "bpe" else 1)
    if vocab_size < floor:
        alphabet = "the 256-byte alphabet" if kind == "bpe" else "at least one character"
        raise ConfigurationError(f"vocab_size={vocab_size} is smaller than the {len(spec.specials)} special tokens of "
                                 f"preset {spec.name!r} plus {alphabet}; use vocab_size >= {floor}")


def _alphabet_error(tok: Tokenizer, texts: list[str], vocab_size: int, spec: Preset, kind: str) -> ConfigurationError:
    """The Unigram trainer's bare "not large enough to contain all chars", with the size that fits."""
    chars = {c for t in texts for w, _ in tok.pre_tokenizer.pre_tokenize_str(
        tok.normalizer.normalize_str(t) if tok.normalizer else t) for c in w}
    return ConfigurationError(f"vocab_size={vocab_size} is smaller than the {len(spec.specials)} special "
                              f"tokens plus the alphabet of this corpus ({len(chars)} distinct characters for "
                              f"{kind!r}); use vocab_size >= {len(spec.specials) + len(chars) + 1}")


def _train(texts: list[str] | _StreamedTexts, kind: str, vocab_size: int, spec: Preset, min_frequency: int,
           lowercase: bool, limit_alphabet: int | None, exact: bool) -> Tokenizer:
    """A trained ``tokenizers.Tokenizer`` of ``kind`` (sentencepiece through its own library), specials first."""
    if kind == "sentencepiece":
        model = _sentencepiece_model(texts, vocab_size, spec, lowercase, exact)
        return _sentencepiece_to_fast(model, spec, lowercase)
    streamed = isinstance(texts, _StreamedTexts)
    tok, trainer = _build(kind, vocab_size, spec, min_frequency, lowercase, limit_alphabet)
    try:
        tok.train_from_iterator(_batches(texts), trainer=trainer, length=None if streamed else len(texts))
    except Exception as err:  # the Unigram trainer raises a bare Exception when the alphabet does not fit
        if "not large enough to contain all chars" not in str(err) or streamed:
            raise
        raise _alphabet_error(tok, texts, vocab_size, spec, kind) from None
    return _specials_first(tok, spec) if kind == "word" else tok


def _check_size(tok: Tokenizer, vocab_size: int | None, kind: str, min_frequency: int, exact: bool) -> None:
    """The trained vocabulary is exactly ``vocab_size`` (``None``: whatever the corpus gave; ``exact=False``: at
    most ``vocab_size``)."""
    got = tok.get_vocab_size()
    if vocab_size is None:
        return
    if got > vocab_size:
        raise ConfigurationError(f"vocab_size={vocab_size} is smaller than the special tokens plus the alphabet of "
                                 f"this corpus ({got} tokens for {kind!r}); raise vocab_size to >= {got}"
                                 + (" or set limit_alphabet" if kind == "wordpiece" else ""))
    if got < vocab_size and exact:
        raise ConfigurationError(f"The corpus only supports {got} tokens for {kind!r} (min_frequency={min_frequency}), "
                                 f"not vocab_size={vocab_size}; lower vocab_size to {got}, lower min_frequency, "
                                 "give more text, or pass exact=False to accept fewer tokens")


def _wrap(tok: Tokenizer, spec: Preset, model_max_length: int) -> PreTrainedTokenizerFast:
    """The preset's post-processor on ``tok``, wrapped as a transformers fast tokenizer with the preset's roles."""
    for i, special in enumerate(spec.specials):  # the contract every model relies on
        assert tok.token_to_id(special) == i, f"special token {special} should have id {i}"
    tok.post_processor = processors.TemplateProcessing(
        single=spec.single, pair=spec.pair, special_tokens=[(s, i) for i, s in enumerate(spec.specials)
                                                            if s in spec.single + spec.pair])
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=model_max_length, **spec.roles)


def train_tokenizer(texts: Iterable[str], kind: str = "bpe", vocab_size: int | None = 8000, preset: str = "clm",
                    min_frequency: int = 2, lowercase: bool = False, model_max_length: int = 1024,
                    limit_alphabet: int | None = None, exact: bool = True) -> PreTrainedTokenizerFast:
    """Train a tokenizer of ``kind`` on ``texts`` and wrap it as a transformers fast tokenizer.

    Args:
        texts: any iterable of strings (a list, a dataset column, a generator).
        kind: "bpe" (byte-level), "wordpiece", "unigram", "char", "word" or "sentencepiece". "word" splits on
            spaces and tabs only (for already tokenized corpora) and keeps each line break as a token; a word
            equal to the preset's unknown token (WikiText's ``<unk>``) is that special token.
        vocab_size: the exact final vocabulary size, special tokens included. ``None`` is allowed for
            ``kind="char"`` and ``kind="word"`` only: every character (word) seen ``min_frequency`` times gets
            a token. For "char" and "word" a ``vocab_size`` below that keeps the most frequent characters
            (words) and maps the rest to the unknown token.
        preset: "clm", "mlm" or "seq2seq" — which special tokens and post-processor (see module docstring).
        min_frequency: pairs / words seen fewer times are not merged (bpe, wordpiece, char, word).
        lowercase: lowercase before tokenizing.
        model_max_length: the length ``truncation=True`` cuts to.
        limit_alphabet: keep at most this many initial characters (wordpiece).
        exact: ``False`` makes ``vocab_size`` a ceiling: a corpus too small for it gives fewer tokens, as the
            ``tokenizers`` trainers do, instead of an error.

    Raises:
        ValueError: unknown kind or preset, no texts, or a ``vocab_size`` the corpus cannot give exactly
            (smaller than the specials plus the alphabet, or, with ``exact``, larger than the corpus supports).
    """
    spec, vocab_size = _check_options(kind, vocab_size, preset)
    texts = _texts_to_train_on(texts)
    if vocab_size is not None:
        _check_floor(vocab_size, kind, spec)
    no_cap = 1 << 30  # vocab_size=None: the trainer stops at the alphabet; the size is read back
    tok = _train(texts, kind, no_cap if vocab_size is None else vocab_size, spec, min_frequency, lowercase,
                 limit_alphabet, exact)
    if isinstance(texts, _StreamedTexts) and not texts.count:
        raise DataError("train_tokenizer got no non-empty texts from the stream; check its text column")
    _check_size(tok, vocab_size, kind, min_frequency, exact)
    return _wrap(tok, spec, model_max_length)
