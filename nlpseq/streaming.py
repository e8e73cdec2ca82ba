"""``--streaming``: language-model pretraining on data larger than memory, on ``datasets.IterableDataset``.

Nothing is read up front. The files (or the Hub dataset) are opened as streams; the tokenizer is trained from
one pass over the training stream's texts (an iterator: no list of the corpus is built); tokenizing and cutting
into blocks happen on the fly, batch by batch, as the Trainer asks for examples. A stream has no length, so the
Trainer needs ``--max_steps`` (checked before any work), and ``--max_*_samples`` keep the first N blocks.
Without a validation split, the first ``--max_eval_samples`` rows (default :data:`HELD_OUT_ROWS`) of the
training stream are held out.

Streaming serves ``pretrain_clm.py`` and ``pretrain_mlm.py``: classification, translation and token tagging fit
a label vocabulary (or check rows) over the whole data first, which a stream cannot give.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from datasets import IterableDataset, IterableDatasetDict, load_dataset
from transformers import PreTrainedTokenizerBase

from .corpora import BUILTIN_CORPORA, make_corpus
from .data import check_block_size, cut_blocks
from .data_files import _builder_for, _split_mapping
from .errors import ConfigurationError, DataError

#: rows held out for validation from a stream without a validation split (unless --max_eval_samples says)
HELD_OUT_ROWS = 200
#: bytes of a .txt file read at a time (datasets reads 10 MB, and holds each chunk several times over as it
#: splits it into rows: peak memory then grows with files up to ~10 MB and more than streaming needs)
TEXT_CHUNK = 1 << 20
#: the recipes that stream
STREAMING_TASKS = ("clm", "mlm")


def check_streaming(data_args, training_args, task: str) -> None:
    """``--streaming`` needs ``--max_steps`` (a stream has no length), a language-model recipe, and rows."""
    if not getattr(data_args, "streaming", False):
        return
    if task not in STREAMING_TASKS:
        raise ConfigurationError(f"--streaming serves pretrain_clm.py and pretrain_mlm.py; the {task} recipe fits its "
                                 "labels or checks its rows over the whole data first: drop --streaming")
    if training_args.max_steps <= 0:
        raise ConfigurationError("--streaming reads the data as it trains, so the number of examples (and of epochs) "
                                 "is unknown: pass --max_steps N (optimizer steps to train)")
    if data_args.sample_by != "line":
        raise ConfigurationError("--streaming reads .txt files line by line; --sample_by document would hold a "
                                 "whole file as one row: drop --sample_by")


def load_stream(source: str | Mapping[str, str], config: str | None = None, held_out: int | None = None,
                seed: int = 0, keep_linebreaks: bool = False) -> IterableDatasetDict:
    """``source`` (a built-in name, a local file or folder, ``{split: file}``, or a Hub name) as streams."""
    if isinstance(source, str) and source in BUILTIN_CORPORA:
        return _held_out(IterableDatasetDict({k: v.to_iterable_dataset() for k, v in
                                              make_corpus(source, seed=seed).items()}), held_out)
    if isinstance(source, Mapping) or Path(source).exists():
        files = source if isinstance(source, Mapping) else \
            _split_mapping(Path(source)) if Path(source).is_dir() else {"train": source}
        builder, kwargs = _builder_for([Path(p) for p in files.values()])
        if builder == "text":
            kwargs = {**kwargs, "encoding": "utf-8-sig", "keep_linebreaks": keep_linebreaks, "chunksize": TEXT_CHUNK}
        streams = {split: load_dataset(builder, data_files={split: [str(path)]}, split=split, streaming=True,
                                       **kwargs) for split, path in files.items()}
        return _held_out(IterableDatasetDict(streams), held_out)
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}:
        raise DataError(f"{source!r} is neither a built-in corpus nor a local path, and HF_HUB_OFFLINE is set: fix "
                        "the path or unset HF_HUB_OFFLINE on a machine with network access")
    return _held_out(load_dataset(source, config, streaming=True), held_out)


def _held_out(streams: IterableDatasetDict, rows: int | None) -> IterableDatasetDict:
    """The first ``rows`` training rows as the validation stream, when there is none."""
    if "train" not in streams:
        raise DataError(f"The stream has no train split (splits: {sorted(streams)}); pass --train_file or a dataset "
                        "with one")
    if "validation" not in streams:
        rows = rows or HELD_OUT_ROWS
        streams["validation"], streams["train"] = streams["train"].take(rows), streams["train"].skip(rows)
    return streams


def stream_texts(stream: IterableDataset, column: str) -> Iterator[str]:
    """The ``column`` of every row, one at a time (what the tokenizer trains on)."""
    for row in stream:
        if column not in row:
            raise DataError(f"The stream's rows have columns {sorted(row)}, not {column!r}; pass --text_column")
        yield row[column]


def stream_blocks(stream: IterableDataset, tokenizer: PreTrainedTokenizerBase, column: str, block_size: int,
                  limit: int | None = None) -> IterableDataset:
    """Tokenized ``block_size`` blocks, made on the fly (a row without text is a ``DataError``; blank rows are
    skipped, as ``load_corpus`` drops blank lines); the first ``limit`` blocks when given."""
    check_block_size(block_size)
    first = next(iter(stream), None)
    if first is None:
        raise DataError("A stream holds no rows; check the file (or lower --max_eval_samples, which holds rows out)")
    columns = list(first)

    def encode(batch):
        texts = batch[column]
        if any(t is None for t in texts):
            raise DataError(f"A streamed row has no {column!r} text; filter the data (rows with a text only)")
        return tokenizer([t for t in texts if t.strip()])

    blocks = stream.map(encode, batched=True, remove_columns=columns).map(
        cut_blocks, batched=True, fn_kwargs={"block_size": block_size})
    return blocks.take(limit) if limit is not None else blocks
