"""The data layer: one loader for built-in corpora, local files and Hub datasets, and task preparation.

Everything returns ``datasets.DatasetDict`` objects and uses ``datasets.map`` (batched, optional
``num_proc``); batching is left to the transformers collators (``DataCollatorForLanguageModeling``,
``DataCollatorWithPadding``, ``DataCollatorForSeq2Seq``), which work unchanged on what these helpers return.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Mapping
from itertools import chain
from pathlib import Path

from datasets import Dataset, DatasetDict, Features, Translation, Value, load_dataset
from datasets import List as DatasetList
from datasets.exceptions import DatasetGenerationError
from transformers import PreTrainedTokenizerBase

from .corpora import BUILTIN_CORPORA, make_corpus
from .dataset_folders import is_saved_dataset, load_dataset_folder
from .errors import ConfigurationError, DataError, DataFileNotFoundError, DataTypeError
from .labels import LabelVocabulary, classification_data, encode_labels
from .rows import Field, check_rows, translation_fields

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
#: how a .txt file becomes rows (see load_corpus)
TEXT_SAMPLING = ("line", "document")
#: file stems recognised as splits when a directory is given
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
               "dev": "validation", "test": "test"}
logger = logging.getLogger(__name__)


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
    suffixes = {_format_suffix(p) for p in paths}
    for p in paths:
        if not p.is_file():
            raise DataFileNotFoundError(f"Data file not found: {p}; check the path (relative paths start at "
                                        f"{Path.cwd()})")
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
    kwargs = dict(defaults)  # a copy: the FILE_FORMATS entry must not collect this call's options
    for split, ps in paths.items():
        for p in ps:
            if p.stat().st_size == 0:
                raise DataError(f"Data file {p} ({split} split) is empty; fill it or point to the right file")
    if sample_by == "document":
        if builder != "text":
            raise ConfigurationError(f"sample_by='document' reads .txt files as whole texts; {builder} files have rows "
                                     "already: drop sample_by")
        kwargs = {"sample_by": "document", "keep_linebreaks": True}
    if builder == "text":
        kwargs["encoding"] = "utf-8-sig"  # Windows editors start UTF-8 files with a BOM: do not keep it as text
        kwargs["keep_linebreaks"] = kwargs.get("keep_linebreaks", keep_linebreaks)
    kwargs.update(options)
    data = DatasetDict({split: _read_split(builder, split, ps, kwargs) for split, ps in paths.items()})
    where = ", ".join(str(p) for ps in paths.values() for p in ps)
    if builder == "json" and "field" not in options and all(len(d) == 1 for d in data.values()):
        nested = [c for c, f in data["train"].features.items()  # a list of records: {"data": [{...}, ...]}
                  if isinstance(f, DatasetList) and isinstance(f.feature, dict)]
        if nested:
            raise DataError(f"{where} is one JSON object whose rows sit under {nested}; pass field={nested[0]!r} "
                            "(load_corpus(path, field=...)) to read them as rows")
    if builder == "text" and sample_by == "line":  # a trailing newline becomes an empty row: drop blank lines
        data = data.filter(lambda b: [bool(t.strip()) for t in b["text"]], batched=True)
    return data


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


def _split_tail(train: Dataset, fraction: float) -> tuple[Dataset, Dataset]:
    """Cut every text at ``1 - fraction`` of its characters: heads train, tails validate (nanoGPT's split)."""
    texts = train["text"]
    cuts = [int(len(t) * (1 - fraction)) for t in texts]
    return (Dataset.from_dict({"text": [t[:c] for t, c in zip(texts, cuts)]}),
            Dataset.from_dict({"text": [t[c:] for t, c in zip(texts, cuts)]}))


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
        if isinstance(pair, (str, Path)) or len(pair) != 2:
            raise DataError(f"Split {split!r} of a parallel corpus needs a (source_file, target_file) pair, "
                            f"got {pair!r}")
        paths = [Path(p) for p in pair]
        for p in paths:
            if not p.is_file():
                raise DataFileNotFoundError(f"Data file not found: {p}; check the path (relative paths start at "
                                            f"{Path.cwd()})")
        langs = [source_lang or paths[0].suffix.lstrip("."), target_lang or paths[1].suffix.lstrip(".")]
        if not all(langs) or langs[0] == langs[1]:
            raise DataError(f"Cannot tell the two languages of {[str(p) for p in paths]} apart from their "
                            f"extensions ({langs}); pass source_lang= and target_lang=")
        lines = [p.read_text(encoding="utf-8").splitlines() for p in paths]
        if len(lines[0]) != len(lines[1]):
            raise DataError(f"Parallel files differ in length: {paths[0]} has {len(lines[0])} lines, {paths[1]} "
                            f"has {len(lines[1])}; line i of one must translate line i of the other (fix or "
                            "re-align the files)")
        rows = [{langs[0]: a, langs[1]: b} for a, b in zip(*lines)]
        features = Features({"translation": {lang: Value("string") for lang in langs}})
        data[split] = Dataset.from_dict({"translation": rows}, features=features)
    return DatasetDict(data)


def _load_hub(name: str, config: str | None, **kwargs) -> DatasetDict:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}:
        close = difflib.get_close_matches(name, list(BUILTIN_CORPORA), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"{name!r} is neither a built-in corpus ({sorted(BUILTIN_CORPORA)}){hint} nor an existing "
                        "local path, and HF_HUB_OFFLINE is set, so it cannot come from the Hub. Fix the path, "
                        "pick a built-in corpus, or unset HF_HUB_OFFLINE on a machine with network access.")
    data = load_dataset(name, config, **kwargs)
    return data if isinstance(data, DatasetDict) else DatasetDict({"train": data})


def load_corpus(name_or_path: str | Path | Mapping[str, str | Path | list[str | Path] | tuple[str | Path, str | Path]],
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
    if sample_by not in TEXT_SAMPLING:
        raise ConfigurationError(f"sample_by={sample_by!r}; choose one of {TEXT_SAMPLING}")
    if not isinstance(name_or_path, (str, os.PathLike, Mapping)):
        raise DataTypeError(f"load_corpus takes a corpus name, a path or a {{split: path}} mapping, got "
                            f"{type(name_or_path).__name__}; for several files pass {{'train': path, 'validation': "
                            "path} or a directory of train.*/validation.* files")
    if isinstance(name_or_path, Mapping):
        single_files = all(isinstance(v, (str, os.PathLike)) or _is_file_list(v) for v in name_or_path.values())
    else:
        path = Path(name_or_path)
        single_files = path.is_file() or (path.is_dir() and not _has_parallel_train(path))
    if sample_by != "line" and not single_files:
        raise ConfigurationError(f"sample_by={sample_by!r} applies to local .txt files, not to {name_or_path!r}; "
                                 "drop it")
    if isinstance(name_or_path, Mapping):
        parallel = [not (isinstance(v, (str, os.PathLike)) or _is_file_list(v)) for v in name_or_path.values()]
        if any(parallel) and not all(parallel):
            raise DataError("Mix of single files and (source, target) pairs in one mapping; give every split "
                            "the same kind")
        data = load_parallel_text(name_or_path) if any(parallel) else \
            _load_files(name_or_path, sample_by, keep_linebreaks, **kwargs)
    elif str(name_or_path) in BUILTIN_CORPORA:
        data = make_corpus(str(name_or_path), seed=seed, **kwargs)
    elif Path(name_or_path).is_dir() and _has_parallel_train(Path(name_or_path)):
        data = load_parallel_text(_parallel_mapping(Path(name_or_path)))
    elif Path(name_or_path).is_dir():
        data = _load_dir(Path(name_or_path), sample_by, keep_linebreaks, **kwargs)
    elif Path(name_or_path).is_file():
        data = _load_files({"train": name_or_path}, sample_by, keep_linebreaks, **kwargs)
    elif _format_suffix(Path(name_or_path)) in FILE_FORMATS or str(name_or_path).startswith((".", "/", "~")):
        raise DataFileNotFoundError(f"Data file not found: {name_or_path}; check the path "
                                    f"(relative paths start at {Path.cwd()})")
    else:
        data = _load_hub(str(name_or_path), config, **kwargs)

    if "train" not in data or len(data["train"]) == 0:
        raise DataError(f"Corpus {name_or_path!r} has an empty or missing train split (splits: "
                        f"{ {k: len(v) for k, v in data.items()} }); check the file's contents and format")
    if "validation" not in data:
        if not 0 < validation_fraction < 1:
            raise ConfigurationError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
        if sample_by == "document":
            data["train"], data["validation"] = _split_tail(data["train"], validation_fraction)
        else:
            try:
                parts = data["train"].train_test_split(test_size=validation_fraction, seed=seed)
            except ValueError as err:
                raise DataError(f"Cannot hold out validation_fraction={validation_fraction} of the "
                                f"{len(data['train'])} training row(s) of {name_or_path!r} ({err}); give more rows, "
                                "a validation file/split, or another validation_fraction") from err
            data["train"], data["validation"] = parts["train"], parts["test"]
    return data


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

    A row without text (None) in any split is a ``DataError`` that lists the rows (``nlpseq.rows``)."""
    require_columns(data, [text_column], "tokenize_dataset")
    data = check_rows(data, [Field(text_column)], "tokenize_dataset")

    def encode(batch):
        return tokenizer(batch[text_column], truncation=max_length is not None, max_length=max_length)

    return _map_each(data, encode, num_proc=num_proc)


def cut_blocks(batch: dict[str, list[list[int]]], block_size: int) -> dict[str, list[list[int]]]:
    """One batch of tokenized rows, concatenated and cut into ``block_size`` blocks (the remainder dropped)."""
    keys = [k for k in ("input_ids", "attention_mask", "special_tokens_mask") if k in batch]
    joined = {k: list(chain.from_iterable(batch[k])) for k in keys}
    n = len(joined["input_ids"]) // block_size * block_size
    return {k: [v[i : i + block_size] for i in range(0, n, block_size)] for k, v in joined.items()}


def group_texts(data: DatasetDict, block_size: int, num_proc: int | None = None) -> DatasetDict:
    """Concatenate tokenized texts and cut them into ``block_size`` blocks (the remainder is dropped).

    The classic CLM/MLM packing: documents run into each other, which is what GPT-2 and BERT pretraining
    do. Pair it with ``DataCollatorForLanguageModeling`` (``mlm=False`` adds the labels for CLM).
    """
    if block_size < 2:
        raise ConfigurationError(f"block_size must be >= 2, got {block_size}")
    require_columns(data, ["input_ids"], "group_texts (run tokenize_dataset first)")
    grouped = data.map(cut_blocks, batched=True, num_proc=num_proc, fn_kwargs={"block_size": block_size},
                       desc=f"Grouping into blocks of {block_size}")
    if len(grouped["train"]) == 0:
        raise DataError(f"No block of {block_size} tokens fits in the training text; lower block_size")
    return grouped


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
