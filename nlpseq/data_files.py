"""Local data files for :func:`nlpseq.data.load_corpus`: formats, split names, and reading them with ``datasets``.

A file's format is its extension (``.jsonl.gz`` is jsonl, compressed); a directory's files are splits by their
stem (``train``, ``valid``/``dev``/``val``/``validation``, ``test``, or ``test_2016_flickr``...). Each split is
read on its own through the matching ``datasets`` builder, and every failure names the file and the fix.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset
from datasets import List as DatasetList
from datasets.exceptions import DatasetGenerationError

from .dataset_folders import is_saved_dataset, load_dataset_folder
from .errors import ConfigurationError, DataError, DataFileNotFoundError

#: file extension -> (datasets builder, extra builder kwargs)
FILE_FORMATS: dict[str, tuple[str, dict]] = {
    ".txt": ("text", {}),
    ".csv": ("csv", {}),
    ".tsv": ("csv", {"delimiter": "\t"}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
    ".parquet": ("parquet", {}),
}
#: compressed files (``train.jsonl.gz``) are read by ``datasets`` directly; the format is the suffix before these
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz")
#: file stems recognised as splits when a directory is given
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
               "dev": "validation", "test": "test"}
logger = logging.getLogger(__name__)


def not_found(path: str | os.PathLike) -> DataFileNotFoundError:
    """The error for a data file that does not exist, relative paths explained."""
    return DataFileNotFoundError(f"Data file not found: {path}; check the path (relative paths start at "
                                 f"{Path.cwd()})")


def _format_suffix(path: Path) -> str:
    """The data-format extension: ``.csv`` for ``a.csv``, ``.jsonl`` for ``a.jsonl.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in COMPRESSION_SUFFIXES:
        return suffixes[-2]
    return path.suffix.lower()


def _stem(path: Path) -> str:
    """The file name without its format and compression extensions (``train`` for ``train.jsonl.gz``)."""
    name = path.name[: -len(path.suffix)] if path.suffix.lower() in COMPRESSION_SUFFIXES else path.name
    return Path(name).stem


def _builder_for(paths: list[Path]) -> tuple[str, dict]:
    """The ``datasets`` builder (and its default kwargs) of files that exist and share one known format."""
    suffixes = {_format_suffix(p) for p in paths}
    for p in paths:
        if not p.is_file():
            raise not_found(p)
    unknown = suffixes - set(FILE_FORMATS)
    if unknown:
        raise DataError(f"Unsupported file extension(s) {sorted(unknown)}; supported: {sorted(FILE_FORMATS)}, "
                        f"optionally compressed {list(COMPRESSION_SUFFIXES)} (convert the file, or load it yourself "
                        "with datasets.load_dataset)")
    if len(suffixes) > 1:
        raise DataError(f"All data files must share one format, got {sorted(suffixes)}")
    return FILE_FORMATS[suffixes.pop()]


def _split_of(stem: str) -> tuple[str | None, bool]:
    """The split a file stem names, and whether exactly: ``valid`` -> validation; ``test_2016_flickr`` -> test."""
    stem = stem.lower()
    if stem in SPLIT_NAMES:
        return SPLIT_NAMES[stem], True
    return SPLIT_NAMES.get(re.split(r"[_\-]", stem, maxsplit=1)[0]), False


def _pick_stems(stems: list[str], path: Path) -> dict[str, str]:
    """One file stem per split: the exact name (``test``) wins, else the first of ``test_2016_flickr``,
    ``test_2017_mscoco``... in sorted order (logged, with the others that were left out)."""
    by_split: dict[str, list[tuple[bool, str]]] = {}
    for stem in sorted(set(stems)):
        split, exact = _split_of(stem)
        if split:
            by_split.setdefault(split, []).append((not exact, stem))
    chosen = {}
    for split, candidates in by_split.items():
        candidates.sort()
        chosen[split] = candidates[0][1]
        if len(candidates) > 1 and candidates[0][0]:
            logger.warning("%s: %r is the %s split; %s left out (pass the files explicitly to choose)", path,
                           chosen[split], split, [c for _, c in candidates[1:]])
    return chosen


def _split_mapping(path: Path) -> dict[str, Path]:
    """``train.txt``, ``valid.txt``, ``test.txt`` (or dev/val/validation, or ``test_2016.txt``) in a directory."""
    files = {_stem(p): p for p in sorted(path.iterdir()) if p.is_file() and _format_suffix(p) in FILE_FORMATS}
    found = {split: files[stem] for split, stem in _pick_stems(list(files), path).items()}
    if "train" not in found:
        raise DataFileNotFoundError(f"Directory {path} holds no train.<ext> file ({sorted(FILE_FORMATS)}); pass "
                                    "the files explicitly as {'train': ..., 'validation': ...}")
    return found


def _load_dir(path: Path, sample_by: str, keep_linebreaks: bool, **kwargs) -> DatasetDict:
    """A folder of ``train.*``/``validation.*``/``test.*`` files, else a layout ``datasets`` reads (a
    ``save_to_disk`` folder, a Hub dataset repository: ``nlpseq.dataset_folders``)."""
    if is_saved_dataset(path) or not any(_split_of(_stem(p))[0] == "train" for p in path.iterdir()):
        return load_dataset_folder(path, **kwargs)
    return _load_files(_split_mapping(path), sample_by, keep_linebreaks, **kwargs)


def _is_file_list(value: object) -> bool:
    """A list/tuple of data files (``["a.csv", "b.csv"]``) for one split, as opposed to a parallel pair."""
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, (str, os.PathLike)) and _format_suffix(Path(v)) in FILE_FORMATS for v in value))


def _load_files(files: Mapping[str, str | Path | list[str | Path]], sample_by: str = "line",
                keep_linebreaks: bool = False, **options) -> DatasetDict:
    """Local files through the matching ``datasets`` builder; ``options`` go to ``load_dataset`` (``field=``,
    ``encoding=``, ``column_names=`` ...). Text files are read as UTF-8 with an optional byte-order mark."""
    paths = {split: [Path(x) for x in p] if isinstance(p, (list, tuple)) else [Path(p)] for split, p in files.items()}
    builder, defaults = _builder_for([p for ps in paths.values() for p in ps])
    _check_not_empty(paths)
    kwargs = {**_builder_kwargs(builder, defaults, sample_by, keep_linebreaks), **options}
    data = DatasetDict({split: _read_split(builder, split, ps, kwargs) for split, ps in paths.items()})
    if builder == "json" and "field" not in options:
        _check_not_nested(data, ", ".join(str(p) for ps in paths.values() for p in ps))
    if builder == "text" and sample_by == "line":  # a trailing newline becomes an empty row: drop blank lines
        data = data.filter(lambda b: [bool(t.strip()) for t in b["text"]], batched=True)
    return data


def _check_not_empty(paths: dict[str, list[Path]]) -> None:
    """No file of any split is empty (0 bytes)."""
    for split, ps in paths.items():
        for p in ps:
            if p.stat().st_size == 0:
                raise DataError(f"Data file {p} ({split} split) is empty; fill it or point to the right file")


def _builder_kwargs(builder: str, defaults: dict, sample_by: str, keep_linebreaks: bool) -> dict:
    """The builder's kwargs for ``sample_by`` and ``keep_linebreaks`` (a new dict: ``defaults`` is not changed)."""
    kwargs = dict(defaults)  # a copy: the FILE_FORMATS entry must not collect this call's options
    if sample_by == "document":
        if builder != "text":
            raise ConfigurationError(f"sample_by='document' reads .txt files as whole texts; {builder} files have rows "
                                     "already: drop sample_by")
        kwargs = {"sample_by": "document", "keep_linebreaks": True}
    if builder == "text":
        kwargs["encoding"] = "utf-8-sig"  # Windows editors start UTF-8 files with a BOM: do not keep it as text
        kwargs["keep_linebreaks"] = kwargs.get("keep_linebreaks", keep_linebreaks)
    return kwargs


def _check_not_nested(data: DatasetDict, where: str) -> None:
    """A JSON file read as one row whose column is a list of records: its rows sit under that key (``field=``)."""
    if not all(len(d) == 1 for d in data.values()):
        return
    nested = [c for c, f in data["train"].features.items()  # a list of records: {"data": [{...}, ...]}
              if isinstance(f, DatasetList) and isinstance(f.feature, dict)]
    if nested:
        raise DataError(f"{where} is one JSON object whose rows sit under {nested}; pass field={nested[0]!r} "
                        "(load_corpus(path, field=...)) to read them as rows")


def _read_split(builder: str, split: str, files: list[Path], kwargs: dict) -> Dataset:
    """One split's files through ``load_dataset``, on their own: each split has its own columns and types (a
    validation file may lack training's extra columns); ``nlpseq.rows``/``labels`` check what the task needs."""
    where = f"{', '.join(map(str, files))} ({split} split)"
    try:
        return load_dataset(builder, data_files={split: [str(p) for p in files]}, split=split, **kwargs)
    except Exception as err:  # whatever the builder, pandas or Arrow raise on a bad file
        if "corresponds to no data" in str(err):
            raise DataError(f"Data file(s) {where} hold no rows (blank, or only a header); add data or point to "
                            "the right file") from err
        cause = (err.__cause__ or err) if isinstance(err, DatasetGenerationError) else err
    text = f"{type(cause).__name__}: {cause}"
    hint = ("a column holds values of different types in different rows (numbers and text, lists and words): give "
            "every row of a column one type") if "cast" in text.lower() or "Arrow" in text else \
        f"check that the file is valid {builder} in UTF-8 (or pass encoding=..., e.g. encoding='latin-1')"
    raise DataError(f"Could not read {where} as {builder}: {text[:600]}; {hint}") from cause
