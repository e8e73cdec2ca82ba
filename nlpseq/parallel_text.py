"""Parallel text for :func:`nlpseq.data.load_corpus`: aligned plain-text files, one per language.

The layout of Multi30k, WMT and most MT corpora: ``train.en`` + ``train.de``, ``val.*``, ``test_2016_flickr.*``
(split names as for other local files, ``nlpseq.data_files``), line ``i`` of one file translating line ``i`` of
the other. Rows become the HF translation layout that ``prepare_translation`` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from datasets import Dataset, DatasetDict, Features, Value

from .data_files import FILE_FORMATS, _pick_stems, _split_of, not_found
from .errors import DataError


def _has_parallel_train(path: Path) -> bool:
    """The directory's ``train.*`` files all end in something other than a data format (``train.en``...)."""
    train = [p for p in path.iterdir() if p.is_file() and p.stem.lower() == "train" and p.suffix]
    return bool(train) and all(p.suffix.lower() not in FILE_FORMATS for p in train)


def _parallel_mapping(path: Path) -> dict[str, tuple[Path, Path]]:
    """``train.en`` + ``train.de`` (and ``val.*``/``test_2016_flickr.*``...) in a directory: one file per language."""
    by_stem: dict[str, list[Path]] = {}
    for p in sorted(path.iterdir()):
        if p.is_file() and p.suffix and p.suffix.lower() not in FILE_FORMATS:
            by_stem.setdefault(p.stem, []).append(p)
    train = [stem for stem in by_stem if _split_of(stem) == ("train", True)]
    langs = sorted(p.suffix for p in by_stem[train[0]]) if train else []
    if len(langs) != 2:
        raise DataError(f"Directory {path} holds {len(langs)} parallel train files ({langs}), not two; pass the "
                        "pair explicitly: load_corpus({'train': ('train.en', 'train.de'), ...})")
    paired = [stem for stem, files in by_stem.items() if sorted(p.suffix for p in files) == langs]
    return {split: tuple(by_stem[stem]) for split, stem in _pick_stems(paired, path).items()}


def _pair_paths(split: str, pair: object) -> list[Path]:
    """The two existing files of one split's ``(source_file, target_file)`` pair."""
    if isinstance(pair, (str, Path)) or len(pair) != 2:
        raise DataError(f"Split {split!r} of a parallel corpus needs a (source_file, target_file) pair, "
                        f"got {pair!r}")
    paths = [Path(p) for p in pair]
    for p in paths:
        if not p.is_file():
            raise not_found(p)
    return paths


def _pair_languages(paths: list[Path], source_lang: str | None, target_lang: str | None) -> list[str]:
    """The two language codes: as given, else the files' extensions; they must differ."""
    langs = [source_lang or paths[0].suffix.lstrip("."), target_lang or paths[1].suffix.lstrip(".")]
    if not all(langs) or langs[0] == langs[1]:
        raise DataError(f"Cannot tell the two languages of {[str(p) for p in paths]} apart from their "
                        f"extensions ({langs}); pass source_lang= and target_lang=")
    return langs


def _read_pair(paths: list[Path], langs: list[str]) -> Dataset:
    """Two aligned files as ``{"translation": {lang: line}}`` rows; files of different lengths are refused."""
    lines = [p.read_text(encoding="utf-8").splitlines() for p in paths]
    if len(lines[0]) != len(lines[1]):
        raise DataError(f"Parallel files differ in length: {paths[0]} has {len(lines[0])} lines, {paths[1]} "
                        f"has {len(lines[1])}; line i of one must translate line i of the other (fix or "
                        "re-align the files)")
    rows = [{langs[0]: a, langs[1]: b} for a, b in zip(*lines)]
    features = Features({"translation": {lang: Value("string") for lang in langs}})
    return Dataset.from_dict({"translation": rows}, features=features)


def load_parallel_text(files: Mapping[str, tuple[str | Path, str | Path]], source_lang: str | None = None,
                       target_lang: str | None = None) -> DatasetDict:
    """Aligned plain-text files (line ``i`` of one translates line ``i`` of the other) as a translation corpus.

    The layout of Multi30k, WMT and most MT corpora: ``{"train": ("train.en", "train.de"), "validation":
    ("val.en", "val.de")}``. Rows become ``{"translation": {"en": ..., "de": ...}}``, the HF layout that
    :func:`prepare_translation` reads. The language codes are the file extensions unless given. Lines are
    kept as they are (no stripping or filtering), so row ``i`` stays aligned with line ``i`` of the references.
    """
    data = {}
    for split, pair in files.items():
        paths = _pair_paths(split, pair)
        data[split] = _read_pair(paths, _pair_languages(paths, source_lang, target_lang))
    return DatasetDict(data)
