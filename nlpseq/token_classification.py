"""Token classification data: word-level tags aligned to sub-word tokens, as transformers' ``run_ner.py`` does.

Rows hold a list of words (``tokens``) and one tag per word (``ner_tags``: tag names, or a ``ClassLabel``
sequence as in CoNLL-2003). The words are tokenized with ``is_split_into_words=True``; the **first** sub-word
of each word gets the word's tag id and every other position -100 (ignored by the loss and the metrics), so a
model is trained and scored once per word, whatever the tokenizer does to it.
"""

from __future__ import annotations

from datasets import ClassLabel, DatasetDict
from transformers import PreTrainedTokenizerBase

from .errors import DataError

#: the columns run_ner.py falls back to when --text_column / --label_column are not in the data
WORDS_COLUMN, TAGS_COLUMN = "tokens", "ner_tags"
IGNORED = -100


def tag_names(data: DatasetDict, column: str, known: tuple[str, ...] | None = None) -> list[str]:
    """The tag vocabulary: ``known`` (a checkpoint's, in id order), else the ``ClassLabel`` names, else the sorted tags
    of the train split. A tag of any split outside it is a ``DataError`` naming the split (run
    :func:`check_tag_rows` first)."""
    feature = data["train"].features[column]
    if known:
        names = list(known)
    elif isinstance(_inner(feature), ClassLabel):
        names = list(_inner(feature).names)
    else:
        names = sorted({tag for row in data["train"][column] for tag in row})
    for split, ds in data.items():
        inner = _inner(ds.features[column])
        present = set(inner.names) if isinstance(inner, ClassLabel) else {tag for row in ds[column] for tag in row}
        unseen = sorted(present - set(names))
        if unseen:
            raise DataError(f"Tags {unseen[:10]} of the {split} split are not among the {len(names)} tags of the "
                            f"training data {names[:10]}; add training rows with them or fix those rows")
    return names


def _inner(feature):
    """The feature of a list column's items (``List``, ``LargeList`` or ``[feature]``)."""
    return feature[0] if isinstance(feature, list) else getattr(feature, "feature", feature)


def check_tag_rows(data: DatasetDict, words: str, tags: str) -> None:
    """Every row has as many tags as words (else the alignment would shift): a ``DataError`` with row numbers."""
    for split, ds in data.items():
        bad = [i for i, (w, t) in enumerate(zip(ds[words], ds[tags])) if w is None or t is None or len(w) != len(t)]
        if bad:
            raise DataError(f"{split} split rows {bad[:10]} do not have one {tags!r} tag per {words!r} word (or lack "
                            "one of the two); fix or drop those rows")


def align_labels(word_ids: list[int | None], word_tags: list[int]) -> list[int]:
    """Tag ids per token: the first sub-word of each word gets its word's tag, the rest and the specials -100.

    ``align_labels([None, 0, 0, 1, None], [3, 0]) == [-100, 3, -100, 0, -100]``.
    """
    labels, previous = [], None
    for word in word_ids:
        labels.append(IGNORED if word is None or word == previous else word_tags[word])
        previous = word
    return labels


def prepare_token_classification(data: DatasetDict, tokenizer: PreTrainedTokenizerBase, names: list[str],
                                 words: str = WORDS_COLUMN, tags: str = TAGS_COLUMN, max_length: int | None = None,
                                 num_proc: int | None = None) -> DatasetDict:
    """Tokenize the words of every row and align its tags (``names`` is the id order) into ``labels``.

    Returns ``input_ids``, ``attention_mask`` and ``labels``, for ``DataCollatorForTokenClassification``.
    """
    check_tag_rows(data, words, tags)
    ids = {name: i for i, name in enumerate(names)}

    def encode(batch, class_label: ClassLabel | None):
        enc = tokenizer(batch[words], is_split_into_words=True, truncation=max_length is not None,
                        max_length=max_length)
        rows = [[ids[class_label.int2str(t)] if class_label else ids[t] for t in row] for row in batch[tags]]
        enc["labels"] = [align_labels(enc.word_ids(i), row) for i, row in enumerate(rows)]
        return enc

    out = {}
    for split, ds in data.items():
        class_label = _inner(ds.features[tags])
        out[split] = ds.map(encode, batched=True, num_proc=num_proc, remove_columns=ds.column_names,
                            fn_kwargs={"class_label": class_label if isinstance(class_label, ClassLabel) else None},
                            desc="Tokenizing and aligning tags")
    return DatasetDict(out)
