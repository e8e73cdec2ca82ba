"""The data layer: one loader for built-in corpora, local files and Hub datasets, and task preparation.

Everything returns ``datasets.DatasetDict`` objects and uses ``datasets.map`` (batched, optional
``num_proc``); batching is left to the transformers collators (``DataCollatorForLanguageModeling``,
``DataCollatorWithPadding``, ``DataCollatorForSeq2Seq``), which work unchanged on what these helpers return.
Local files are read by ``nlpseq.data_files`` and parallel text by ``nlpseq.parallel_text``; their public names
are importable from here as well.
"""

from __future__ import annotations

import difflib
import os
import random
from collections.abc import Mapping
from itertools import chain
from pathlib import Path

import numpy as np
from datasets import Dataset, DatasetDict, Translation, load_dataset
from torch.utils.data import Dataset as TorchDataset
from transformers import PreTrainedTokenizerBase

from .corpora import BUILTIN_CORPORA, make_corpus
from .data_files import (
    COMPRESSION_SUFFIXES,
    FILE_FORMATS,
    SPLIT_NAMES,
    _format_suffix,
    _is_file_list,
    _load_dir,
    _load_files,
    not_found,
)
from .errors import ConfigurationError, DataError, DataTypeError
from .labels import LabelVocabulary, classification_data, encode_labels
from .parallel_text import _has_parallel_train, _parallel_mapping, load_parallel_text
from .rows import Field, check_rows, translation_fields

#: the token-aligned columns a block carries (cut_blocks, ShiftedBlocks)
BLOCK_COLUMNS = ("input_ids", "attention_mask", "special_tokens_mask")
#: how a .txt file becomes rows (see load_corpus)
TEXT_SAMPLING = ("line", "document")
#: what load_corpus takes besides a name: a path, or {split: file, list of files or (source, target) pair}
CorpusSource = str | Path | Mapping[str, str | Path | list[str | Path] | tuple[str | Path, str | Path]]

__all__ = ["COMPRESSION_SUFFIXES", "FILE_FORMATS", "SPLIT_NAMES", "TEXT_SAMPLING", "ShiftedBlocks", "check_block_size",
           "cut_blocks", "group_texts", "load_corpus", "load_parallel_text", "prepare_classification",
           "prepare_translation", "require_columns", "tokenize_dataset"]


def _check_source(name_or_path: object, sample_by: str) -> None:
    """A known ``sample_by``, a source of a type ``load_corpus`` takes, and ``sample_by`` only for local files."""
    if sample_by not in TEXT_SAMPLING:
        raise ConfigurationError(f"sample_by={sample_by!r}; choose one of {TEXT_SAMPLING}")
    if not isinstance(name_or_path, (str, os.PathLike, Mapping)):
        raise DataTypeError(f"load_corpus takes a corpus name, a path or a {{split: path}} mapping, got "
                            f"{type(name_or_path).__name__}; for several files pass {{'train': path, 'validation': "
                            "path} or a directory of train.*/validation.* files")
    if sample_by != "line" and not _single_files(name_or_path):
        raise ConfigurationError(f"sample_by={sample_by!r} applies to local .txt files, not to {name_or_path!r}; "
                                 "drop it")


def _single_files(name_or_path: CorpusSource) -> bool:
    """Local data files (one or several per split), as opposed to parallel text, a built-in or a Hub name."""
    if isinstance(name_or_path, Mapping):
        return all(isinstance(v, (str, os.PathLike)) or _is_file_list(v) for v in name_or_path.values())
    path = Path(name_or_path)
    return path.is_file() or (path.is_dir() and not _has_parallel_train(path))


def _load_source(name_or_path: CorpusSource, config: str | None, seed: int, sample_by: str, keep_linebreaks: bool,
                 **kwargs) -> DatasetDict:
    """The splits of a mapping, a built-in corpus, a directory, a file or a Hub dataset, as they come."""
    if isinstance(name_or_path, Mapping):
        return _load_mapping(name_or_path, sample_by, keep_linebreaks, **kwargs)
    name, path = str(name_or_path), Path(name_or_path)
    if name in BUILTIN_CORPORA:
        return make_corpus(name, seed=seed, **kwargs)
    if path.is_dir():
        if _has_parallel_train(path):
            return load_parallel_text(_parallel_mapping(path))
        return _load_dir(path, sample_by, keep_linebreaks, **kwargs)
    if path.is_file():
        return _load_files({"train": name_or_path}, sample_by, keep_linebreaks, **kwargs)
    if _format_suffix(path) in FILE_FORMATS or name.startswith((".", "/", "~")):
        raise not_found(name_or_path)
    return _load_hub(name, config, **kwargs)


def _load_mapping(files: Mapping, sample_by: str, keep_linebreaks: bool, **kwargs) -> DatasetDict:
    """``{split: file or list of files}`` through ``datasets``, or ``{split: (source, target)}`` as parallel text."""
    parallel = [not (isinstance(v, (str, os.PathLike)) or _is_file_list(v)) for v in files.values()]
    if any(parallel) and not all(parallel):
        raise DataError("Mix of single files and (source, target) pairs in one mapping; give every split "
                        "the same kind")
    if any(parallel):
        return load_parallel_text(files)
    return _load_files(files, sample_by, keep_linebreaks, **kwargs)


def _load_hub(name: str, config: str | None, **kwargs) -> DatasetDict:
    """A Hub dataset (a single split becomes ``train``); with ``HF_HUB_OFFLINE`` set, an error that says so."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}:
        close = difflib.get_close_matches(name, list(BUILTIN_CORPORA), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"{name!r} is neither a built-in corpus ({sorted(BUILTIN_CORPORA)}){hint} nor an existing "
                        "local path, and HF_HUB_OFFLINE is set, so it cannot come from the Hub. Fix the path, "
                        "pick a built-in corpus, or unset HF_HUB_OFFLINE on a machine with network access.")
    data = load_dataset(name, config, **kwargs)
    return data if isinstance(data, DatasetDict) else DatasetDict({"train": data})


def load_corpus(name_or_path: CorpusSource,
                *,
                config: str | None = None, validation_fraction: float = 0.1, seed: int = 0, sample_by: str = "line",
                keep_linebreaks: bool = False, **kwargs) -> DatasetDict:
    """Load a corpus as a :class:`datasets.DatasetDict` with at least ``train`` and ``validation`` splits.

    Args:
        name_or_path: a built-in corpus name (``"stdlib-docs"``, ``"number-translation"``, ``"long-range"``),
            a local file (txt, csv, tsv, json, jsonl, parquet; also ``.gz``/``.bz2``/``.xz`` compressed), a
            directory holding ``train.*`` and optionally ``valid.*``/``dev.*``/``validation.*`` and ``test.*``, a
            mapping ``{"train": path_or_list_of_paths, ...}``, a parallel
            corpus (a directory of ``train.en``/``train.de``... or ``{"train": ("train.en", "train.de"), ...}``,
            see :func:`load_parallel_text`), or a Hub dataset name (needs network; ``HF_HUB_OFFLINE=1`` fails
            fast with a message).
        config: the Hub dataset's configuration name.
        validation_fraction: when the source has no validation split, this seeded fraction of train becomes it.
        seed: seed for built-in corpora and for the validation split.
        sample_by: how ``.txt`` files become rows: ``"line"`` (one row per non-blank line) or ``"document"``
            (one row per file, line breaks kept: the character/token stream that nanoGPT and HF's ``run_clm
            --keep_linebreaks`` train on). A document corpus without a validation split holds out the last
            ``validation_fraction`` of each training text (a contiguous tail, as nanoGPT does), not random rows.
        keep_linebreaks: ``.txt`` rows read by line keep their trailing newline (``run_clm --keep_linebreaks``).
        **kwargs: options of the built-in corpus (e.g. ``k=32`` for ``long-range``) or of ``load_dataset`` for
            local files and Hub names (e.g. ``field="data"`` for a JSON file whose rows sit under one key).
    """
    _check_source(name_or_path, sample_by)
    data = _load_source(name_or_path, config, seed, sample_by, keep_linebreaks, **kwargs)
    if "train" not in data or len(data["train"]) == 0:
        raise DataError(f"Corpus {name_or_path!r} has an empty or missing train split (splits: "
                        f"{ {k: len(v) for k, v in data.items()} }); check the file's contents and format")
    if "validation" not in data:
        data["train"], data["validation"] = _held_out(data["train"], name_or_path, validation_fraction, seed,
                                                      sample_by)
    return data


def _held_out(train: Dataset, name_or_path: CorpusSource, fraction: float, seed: int,
              sample_by: str) -> tuple[Dataset, Dataset]:
    """Training and validation cut from ``train``: a seeded ``fraction`` of the rows, or for documents the tail
    ``fraction`` of every text."""
    if not 0 < fraction < 1:
        raise ConfigurationError(f"validation_fraction must be in (0, 1), got {fraction}")
    if sample_by == "document":
        return _split_tail(train, fraction)
    try:
        parts = train.train_test_split(test_size=fraction, seed=seed)
    except ValueError as err:
        raise DataError(f"Cannot hold out validation_fraction={fraction} of the {len(train)} training row(s) of "
                        f"{name_or_path!r} ({err}); give more rows, a validation file/split, or another "
                        "validation_fraction") from err
    return parts["train"], parts["test"]


def _split_tail(train: Dataset, fraction: float) -> tuple[Dataset, Dataset]:
    """Cut every text at ``1 - fraction`` of its characters: heads train, tails validate (nanoGPT's split)."""
    texts = train["text"]
    cuts = [int(len(t) * (1 - fraction)) for t in texts]
    return (Dataset.from_dict({"text": [t[:c] for t, c in zip(texts, cuts)]}),
            Dataset.from_dict({"text": [t[c:] for t, c in zip(texts, cuts)]}))


def require_columns(data: Dataset | DatasetDict, columns: list[str], purpose: str) -> None:
    """Raise a ``ValueError`` naming the missing columns and the ones that exist."""
    names = next(iter(data.values())).column_names if isinstance(data, DatasetDict) else data.column_names
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f"{purpose} needs column(s) {missing}, but the dataset has {names}; "
                        "pass the right column name (e.g. --text_column)")


def _map_each(data: DatasetDict, encode, keep: tuple[str, ...] = (), num_proc: int | None = None) -> DatasetDict:
    """Batched ``encode`` over every split, dropping each split's own columns but ``keep`` (splits may differ)."""
    return DatasetDict({split: ds.map(encode, batched=True, num_proc=num_proc, desc="Tokenizing",
                                      remove_columns=[c for c in ds.column_names if c not in keep])
                        for split, ds in data.items()})


def tokenize_dataset(data: DatasetDict, tokenizer: PreTrainedTokenizerBase, text_column: str = "text",
                     max_length: int | None = None, num_proc: int | None = None) -> DatasetDict:
    """Tokenize ``text_column`` with a batched ``map``; drops the other columns. Truncates if ``max_length``.

    A row without text (None) in any split is a ``DataError`` that lists the rows (``nlpseq.rows``). Without
    ``max_length`` (texts that ``group_texts`` packs into blocks) the tokenizer's warning about sequences longer than
    the model's is silenced: the blocks are what the model sees."""
    require_columns(data, [text_column], "tokenize_dataset")
    data = check_rows(data, [Field(text_column)], "tokenize_dataset")

    def encode(batch):
        return tokenizer(batch[text_column], truncation=max_length is not None, max_length=max_length,
                         verbose=max_length is not None)

    return _map_each(data, encode, num_proc=num_proc)


def check_block_size(block_size: int, name: str = "block_size") -> None:
    """A training block needs at least 2 tokens; ``name`` is how the message calls the value (``--block_size``
    for the recipes' flag). The one block-size check: ``group_texts``, ``stream_blocks`` and the recipes use it."""
    if block_size < 2:
        raise ConfigurationError(f"{name} {block_size} is not allowed: a training block needs at least 2 tokens (one "
                                 f"to read, one to predict); pass {name} >= 2")


def cut_blocks(batch: dict[str, list[list[int]]], block_size: int) -> dict[str, list[list[int]]]:
    """One batch of tokenized rows, concatenated and cut into ``block_size`` blocks (the remainder dropped)."""
    keys = [k for k in BLOCK_COLUMNS if k in batch]
    joined = {k: list(chain.from_iterable(batch[k])) for k in keys}
    n = len(joined["input_ids"]) // block_size * block_size
    return {k: [v[i : i + block_size] for i in range(0, n, block_size)] for k, v in joined.items()}


def group_texts(data: DatasetDict, block_size: int, num_proc: int | None = None) -> DatasetDict:
    """Concatenate tokenized texts and cut them into ``block_size`` blocks (the remainder is dropped).

    The classic CLM/MLM packing: documents run into each other, which is what GPT-2 and BERT pretraining
    do. Pair it with ``DataCollatorForLanguageModeling`` (``mlm=False`` adds the labels for CLM).
    """
    check_block_size(block_size)
    require_columns(data, ["input_ids"], "group_texts (run tokenize_dataset first)")
    grouped = data.map(cut_blocks, batched=True, num_proc=num_proc, fn_kwargs={"block_size": block_size},
                       desc=f"Grouping into blocks of {block_size}")
    if len(grouped["train"]) == 0:
        raise DataError(f"No block of {block_size} tokens fits in the training text; lower block_size")
    return grouped


class ShiftedBlocks(TorchDataset):
    """A training split of ``block_size`` blocks, cut anew each epoch at an offset ``o_e`` in ``[0, block_size)``.

    ``group_texts`` cuts the token stream once, at 0, B, 2B, ...: on a small corpus trained for many epochs the
    model sees the same windows every epoch and learns them by heart (Tiny Shakespeare at nanoGPT's GPU shape:
    train loss 0.70, validation 1.94 after 80 epochs). Here epoch ``e`` reads block ``i`` from
    ``stream[o_e + i B : o_e + (i+1) B]``, the stream read as a ring (the last block wraps to the first tokens,
    as packed documents already run into each other): each epoch is still one pass over the same blocks' tokens,
    each seen at new positions with new left context, the way nanoGPT's random windows are.

    ``o_e`` depends only on ``(seed, e)`` (epoch 0 is cut at 0, exactly ``group_texts``' blocks), so a resumed
    run sees the blocks it would have seen. ``set_epoch`` is the hook Accelerate's data loader calls at each
    epoch's start in a single process (the one ``datasets`` uses to reshuffle streams);
    ``nlpseq.training.Trainer`` calls it in every process (``SetEpochCallback``).
    """

    def __init__(self, blocks: Dataset, seed: int = 0):
        self.block_size, self.num_blocks = len(blocks[0]["input_ids"]), len(blocks)
        keys = [k for k in BLOCK_COLUMNS if k in blocks.column_names]
        columns = blocks.with_format("numpy", columns=keys)[:]
        streams = {key: np.asarray(value, dtype=np.int32).reshape(-1) for key, value in columns.items()}
        self.streams = {key: np.concatenate([s, s[: self.block_size]]) for key, s in streams.items()}  # the ring
        self.seed, self.offset = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.offset = random.Random(f"{self.seed}-{epoch}").randrange(self.block_size) if epoch else 0

    def __len__(self) -> int:
        return self.num_blocks

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        if not 0 <= i < self.num_blocks:
            raise IndexError(f"block {i} of {self.num_blocks}")
        start = self.offset + i * self.block_size
        return {key: stream[start : start + self.block_size].tolist() for key, stream in self.streams.items()}


def prepare_classification(data: DatasetDict, tokenizer: PreTrainedTokenizerBase, text_column: str = "text",
                           label_column: str = "label", max_length: int | None = None,
                           num_proc: int | None = None, labels: LabelVocabulary | None = None) -> DatasetDict:
    """Tokenize texts and put each row's class id (or, for regression, its number) in ``labels``.

    One label vocabulary for every split (``nlpseq.labels``): fitted on the training split unless ``labels`` is
    given, so ``features["labels"].names`` is the id -> name map for the model config (regression labels are
    float32). A missing text or label, or a label the training split lacks, is a ``DataError`` naming the rows or
    labels and the split; a ``test`` split without any label is dropped with a warning.
    """
    require_columns(data, [text_column, label_column], "prepare_classification")
    data, labels = classification_data(data, text_column, label_column, labels)
    data = encode_labels(data, labels)

    def encode(batch):
        return tokenizer(batch[text_column], truncation=max_length is not None, max_length=max_length)

    data = _map_each(data, encode, keep=(label_column,), num_proc=num_proc)
    return data if label_column == "labels" else data.rename_column(label_column, "labels")


def prepare_translation(data: DatasetDict, tokenizer: PreTrainedTokenizerBase, source_lang: str = "en",
                        target_lang: str = "de", translation_column: str = "translation",
                        max_source_length: int | None = None, max_target_length: int | None = None,
                        num_proc: int | None = None) -> DatasetDict:
    """Tokenize source and target (``tokenizer(src, text_target=tgt)``) into ``input_ids`` and ``labels``.

    Reads the HF layout ``{"translation": {"en": ..., "de": ...}}`` (a struct of strings, or the
    ``datasets.Translation`` feature of Hub corpora such as WMT), or two flat columns named after the languages.
    ``DataCollatorForSeq2Seq(tokenizer, model=model)`` then pads and adds ``decoder_input_ids``.
    """
    names = data["train"].column_names
    if translation_column in names:
        feature = data["train"].features[translation_column]
        langs = set(feature.languages if isinstance(feature, Translation) else feature
                    if isinstance(feature, dict) else (source_lang, target_lang))  # Json: the row check looks
        if not {source_lang, target_lang} <= langs:
            raise DataError(f"Column {translation_column!r} has languages {sorted(langs)}, not "
                            f"{source_lang!r} -> {target_lang!r}; pass --source_lang/--target_lang from those")

        def pairs(batch):
            rows = batch[translation_column]
            return [t[source_lang] for t in rows], [t[target_lang] for t in rows]
    else:
        require_columns(data, [source_lang, target_lang], f"prepare_translation (no {translation_column!r} column)")

        def pairs(batch):
            return batch[source_lang], batch[target_lang]

    data = check_rows(data, translation_fields(data, source_lang, target_lang, translation_column),
                      "prepare_translation")

    def encode(batch):
        src, tgt = pairs(batch)
        enc = tokenizer(src, truncation=max_source_length is not None, max_length=max_source_length)
        enc["labels"] = tokenizer(text_target=tgt, truncation=max_target_length is not None,
                                  max_length=max_target_length)["input_ids"]
        return enc

    return _map_each(data, encode, num_proc=num_proc)
