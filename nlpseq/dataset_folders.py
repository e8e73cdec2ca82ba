"""Local folders in the layouts ``datasets`` itself reads, for ``load_corpus(folder)``.

``load_corpus`` reads a folder of ``train.*``/``validation.*``/``test.*`` files itself (with its row and
format checks). A folder without them may still be a dataset: the output of ``Dataset.save_to_disk`` /
``DatasetDict.save_to_disk`` (read with ``datasets.load_from_disk``), or a clone of a Hub dataset repository
(``data/train-00000-of-00001.parquet``, ``train/*.jsonl`` ... read with ``datasets.load_dataset(folder)``, which
knows the Hub's split-naming rules).
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

from .errors import DataError, DataFileNotFoundError

#: files ``save_to_disk`` writes at the top of its folder (a DatasetDict / a single Dataset)
SAVED_MARKERS = ("dataset_dict.json", "state.json")


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a ``save_to_disk`` folder."""
    return any((path / marker).is_file() for marker in SAVED_MARKERS)


def load_dataset_folder(path: Path, **kwargs) -> DatasetDict:
    """A ``save_to_disk`` folder through ``load_from_disk``, else any folder ``load_dataset(path)`` reads.

    A single saved ``Dataset`` becomes the ``train`` split. ``kwargs`` go to ``load_dataset``.
    """
    if is_saved_dataset(path):
        data = load_from_disk(str(path))
        return DatasetDict({"train": data}) if isinstance(data, Dataset) else data
    try:
        data = load_dataset(str(path), **kwargs)
    except Exception as err:  # datasets raises its own kinds for an empty folder or unknown files
        if not any(p.is_file() for p in path.rglob("*")):
            raise DataFileNotFoundError(f"Directory {path} holds no train.<ext> file and no data at all; point "
                                        "--dataset_name at the folder of your data files") from err
        raise DataError(f"Directory {path} holds no train.<ext> file, and datasets.load_dataset could not read it "
                        f"either ({type(err).__name__}: {str(err)[:300]}); name the files train.*/validation.*/"
                        "test.* or pass them as {'train': ..., 'validation': ...}") from err
    return data if isinstance(data, DatasetDict) else DatasetDict({"train": data})
