"""Built-in corpora, generated on the fly by our own code: no downloads, deterministic by seed.

* ``stdlib-docs`` — English docstrings of the running Python's standard library, read from the source
  files with :mod:`ast` (modules are never imported), labelled by module family for topic classification.
* ``number-translation`` — English number words -> German number words (0..999999), in the HF
  ``{"translation": {"en": ..., "de": ...}}`` layout: a translation task with real reordering
  ("twenty-one" -> "einundzwanzig").
* ``long-range`` — recall sequences whose answer is the token ``k`` steps before the end, for the
  long-term-dependency experiment.
* ``entity-tagging`` — named-entity tags (PER, LOC, ORG) of generated sentences, word by word, in the CoNLL-2003
  layout (``tokens``, ``ner_tags``), tagged in IOB2, IOB1 or IOBES.

Every corpus returns a :class:`datasets.DatasetDict` with disjoint ``train`` / ``validation`` / ``test`` splits.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import sysconfig
from collections.abc import Callable
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value

from .errors import ConfigurationError, DataError, DataFileNotFoundError

SPLITS = ("train", "validation", "test")


def _split_sizes(n: int, fractions: tuple[float, float, float]) -> list[int]:
    n_val, n_test = int(round(n * fractions[1])), int(round(n * fractions[2]))
    return [n - n_val - n_test, n_val, n_test]


def _to_splits(rows: list[dict], features: Features, fractions: tuple[float, float, float]) -> DatasetDict:
    """Cut already shuffled, de-duplicated rows into consecutive (hence disjoint) splits."""
    sizes, start, out = _split_sizes(len(rows), fractions), 0, {}
    for split, size in zip(SPLITS, sizes):
        chunk = rows[start : start + size]
        start += size
        out[split] = Dataset.from_dict({k: [r[k] for r in chunk] for k in features}, features=features)
    return DatasetDict(out)


# ----------------------------------------------------------------------------------------------------------
# stdlib-docs
# ----------------------------------------------------------------------------------------------------------

#: Module family -> top-level standard-library modules. The label of a docstring is its module's family.
STDLIB_FAMILIES: dict[str, tuple[str, ...]] = {
    "text": ("string", "re", "textwrap", "difflib", "unicodedata", "stringprep", "codecs", "gettext",
             "locale", "html", "tokenize", "shlex", "_pydecimal", "pprint", "reprlib", "calendar"),
    "network": ("http", "urllib", "email", "smtplib", "socket", "ssl", "ftplib", "poplib", "imaplib",
                "mailbox", "socketserver", "xmlrpc", "ipaddress", "mimetypes", "nntplib", "wsgiref",
                "selectors", "webbrowser", "base64", "quopri", "uu"),
    "files": ("os", "pathlib", "shutil", "glob", "fnmatch", "tempfile", "zipfile", "tarfile", "gzip",
              "bz2", "lzma", "zipimport", "filecmp", "fileinput", "ntpath", "posixpath", "genericpath",
              "io", "_pyio", "stat", "linecache", "netrc", "mailcap", "configparser"),
    "concurrency": ("asyncio", "threading", "multiprocessing", "concurrent", "subprocess", "queue",
                    "sched", "signal", "_threading_local", "contextvars"),
    "data": ("json", "csv", "pickle", "pickletools", "copyreg", "shelve", "dbm", "sqlite3", "xml",
             "plistlib", "struct", "collections", "heapq", "bisect", "array", "copy", "dataclasses",
             "enum", "graphlib", "weakref", "types", "typing"),
    "numeric": ("math", "decimal", "fractions", "statistics", "random", "numbers", "cmath",
                "colorsys", "hashlib", "hmac", "secrets", "datetime", "zoneinfo", "_strptime", "time"),
    "devtools": ("unittest", "doctest", "pdb", "bdb", "inspect", "dis", "ast", "trace", "traceback",
                 "profile", "cProfile", "pstats", "timeit", "cmd", "code", "codeop", "pydoc",
                 "importlib", "pkgutil", "modulefinder", "runpy", "py_compile", "compileall",
                 "symtable", "argparse", "optparse", "getopt", "logging", "warnings", "functools",
                 "operator", "contextlib", "abc", "tracemalloc", "sysconfig", "site"),
}
_SKIP_PARTS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}


def _family_of() -> dict[str, str]:
    return {module: family for family, modules in STDLIB_FAMILIES.items() for module in modules}


def _docstrings(path: Path) -> list[str]:
    """Every module/class/function docstring in one source file, parsed (not imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    nodes = [tree] + [n for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    docs = (ast.get_docstring(n, clean=False) for n in nodes)
    return [inspect.cleandoc(d) for d in docs if d]


@functools.lru_cache(maxsize=4)
def _stdlib_rows(root: Path, min_chars: int, max_chars: int) -> tuple[tuple[str, str, str], ...]:
    """(text, family, module) for every distinct docstring; cached because parsing takes seconds."""
    family_of, seen, rows = _family_of(), set(), []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if _SKIP_PARTS & set(rel.parts):
            continue
        top = rel.parts[0].removesuffix(".py")
        if top not in family_of:
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        for text in _docstrings(path):
            text = text[:max_chars]
            if len(text) >= min_chars and text not in seen:
                seen.add(text)
                rows.append((text, family_of[top], module))
    return tuple(rows)


def stdlib_docs(seed: int = 0, min_chars: int = 40, max_chars: int = 2000,
                fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                stdlib_path: str | None = None) -> DatasetDict:
    """Docstrings of the standard library, labelled by module family (see :data:`STDLIB_FAMILIES`).

    Texts are de-duplicated before splitting, so no text appears in two splits. Columns: ``text``,
    ``label`` (:class:`~datasets.ClassLabel` over the family names), ``module``.
    """
    root = Path(stdlib_path or sysconfig.get_paths()["stdlib"])
    names = sorted(STDLIB_FAMILIES)
    rows = [{"text": t, "label": names.index(f), "module": m} for t, f, m in _stdlib_rows(root, min_chars, max_chars)]
    if not rows:
        raise DataFileNotFoundError(f"No standard-library sources found under {root}; pass stdlib_path=")
    order = np.random.default_rng(seed).permutation(len(rows))
    rows = [rows[i] for i in order]
    features = Features({"text": Value("string"), "label": ClassLabel(names=names), "module": Value("string")})
    return _to_splits(rows, features, fractions)


# ----------------------------------------------------------------------------------------------------------
# number-translation
# ----------------------------------------------------------------------------------------------------------

_EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
            "nineteen"]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_DE_ONES = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn",
            "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn",
            "neunzehn"]
_DE_TENS = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"]


def english_number(n: int) -> str:
    """American English words: 42 -> "forty-two", 1234 -> "one thousand two hundred thirty-four"."""
    if not 0 <= n <= 999_999:
        raise ConfigurationError(f"english_number covers 0..999999, got {n}")
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        return _EN_TENS[n // 10] + ("" if n % 10 == 0 else "-" + _EN_ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _EN_ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + english_number(rest))
    rest = n % 1000
    return english_number(n // 1000) + " thousand" + ("" if rest == 0 else " " + english_number(rest))


def _de_below_1000(n: int, final: bool) -> str:
    """German words for 1..999; ``final`` says whether the number ends here (1 -> "eins", else "ein")."""
    hundreds, rest = divmod(n, 100)
    out = "" if hundreds == 0 else ("ein" if hundreds == 1 else _DE_ONES[hundreds]) + "hundert"
    if rest == 0:
        return out
    if rest == 1:
        return out + ("eins" if final else "ein")
    if rest < 20:
        return out + _DE_ONES[rest]
    tens, ones = divmod(rest, 10)
    unit = "" if ones == 0 else ("ein" if ones == 1 else _DE_ONES[ones]) + "und"
    return out + unit + _DE_TENS[tens]


def german_number(n: int) -> str:
    """German words, one word as German writes them: 42 -> "zweiundvierzig", 1001 -> "eintausendeins"."""
    if not 0 <= n <= 999_999:
        raise ConfigurationError(f"german_number covers 0..999999, got {n}")
    if n == 0:
        return "null"
    thousands, rest = divmod(n, 1000)
    out = "" if thousands == 0 else _de_below_1000(thousands, final=False) + "tausend"
    return out + ("" if rest == 0 else _de_below_1000(rest, final=True))


def number_translation(seed: int = 0, num_examples: int = 24_000,
                       fractions: tuple[float, float, float] = (0.9, 0.05, 0.05),
                       max_value: int = 999_999) -> DatasetDict:
    """English -> German number words. Each number appears in at most one split.

    Numbers are drawn evenly across digit lengths (1..6 digits, capped by ``max_value``) so short numbers are
    not drowned by six-digit ones. Columns: ``translation`` (``{"en", "de"}``) and ``number``.
    """
    if not 1 <= max_value <= 999_999:
        raise ConfigurationError(f"max_value must be in 1..999999, got {max_value}")
    rng = np.random.default_rng(seed)
    strata = [np.arange(0 if d == 1 else 10 ** (d - 1), min(10**d, max_value + 1))
              for d in range(1, len(str(max_value)) + 1)]
    if num_examples > sum(len(s) for s in strata):
        raise ConfigurationError(f"num_examples={num_examples} exceeds the {sum(len(s) for s in strata)} numbers "
                                 f"available up to max_value={max_value}")
    # Fill the strata evenly, smallest first; a stratum too small to fill its share passes the rest on.
    picked, remaining = [], num_examples
    for i, stratum in enumerate(strata):
        take = min(len(stratum), -(-remaining // (len(strata) - i)))
        picked.append(rng.choice(stratum, size=take, replace=False))
        remaining -= take
    numbers = rng.permutation(np.concatenate(picked))
    rows = [{"translation": {"en": english_number(int(n)), "de": german_number(int(n))}, "number": int(n)}
            for n in numbers]
    features = Features({"translation": {"en": Value("string"), "de": Value("string")},
                         "number": Value("int64")})
    return _to_splits(rows, features, fractions)


# ----------------------------------------------------------------------------------------------------------
# long-range
# ----------------------------------------------------------------------------------------------------------

def long_range(seed: int = 0, k: int | list[int] = 16, num_examples: int = 3000, num_classes: int = 8,
               num_distractors: int = 16, seq_len: int | None = None,
               fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> DatasetDict:
    """Recall tasks: the label is the signal token placed exactly ``k`` steps before the end of the sequence.

    Sequences are ``seq_len`` tokens (default ``max(k) + 1``) of distractor words ``w0 .. w{D-1}`` with one
    signal word ``s0 .. s{C-1}`` at position ``seq_len - 1 - k``; the answer (``label`` = the signal's class)
    depends only on a token ``k`` steps back, so accuracy vs ``k`` measures long-term memory. ``k`` may be a
    list: examples are spread evenly over the distances. Columns: ``text``, ``label``, ``k``, ``tokens``.
    """
    ks = [k] if isinstance(k, int) else list(k)
    seq_len = seq_len or max(ks) + 1
    if min(ks) < 0 or max(ks) >= seq_len:
        raise ConfigurationError(f"every k must satisfy 0 <= k < seq_len={seq_len}, got {ks}")
    rng = np.random.default_rng(seed)
    seen, rows, attempts = set(), [], 0
    while len(rows) < num_examples:
        attempts += 1
        if attempts > 20 * num_examples:
            raise ConfigurationError("long-range: too few distinct sequences for num_examples; raise seq_len, "
                                     "num_distractors or num_classes")
        dist = ks[len(rows) % len(ks)]
        label = int(rng.integers(num_classes))
        tokens = [f"w{i}" for i in rng.integers(num_distractors, size=seq_len)]
        tokens[seq_len - 1 - dist] = f"s{label}"
        text = " ".join(tokens)
        digest = hashlib.md5(text.encode()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        rows.append({"text": text, "label": label, "k": dist, "tokens": tokens})
    features = Features({"text": Value("string"), "label": ClassLabel(names=[f"s{i}" for i in range(num_classes)]),
                         "k": Value("int32"), "tokens": Sequence(Value("string"))})
    return _to_splits(rows, features, fractions)


# ----------------------------------------------------------------------------------------------------------
# entity-tagging
# ----------------------------------------------------------------------------------------------------------

#: entity type -> its names (one or more words each)
ENTITY_NAMES = {
    "PER": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Guido van Rossum", "Barbara Liskov", "Edsger Dijkstra",
            "Donald Knuth", "Margaret Hamilton", "Dennis Ritchie", "Ken Thompson", "Frances Allen", "Linus",
            "Grace", "Ada", "John McCarthy", "Tim Berners-Lee"),
    "LOC": ("Paris", "Berlin", "New York", "San Francisco", "Tokyo", "Cape Town", "Buenos Aires", "Oslo", "Lagos",
            "Mumbai", "Rio de Janeiro", "Nairobi", "Lima", "Seoul"),
    "ORG": ("Bell Labs", "Mozilla", "the Python Software Foundation", "the Linux Foundation", "the Red Cross",
            "the United Nations", "the World Bank", "Apache", "CERN", "the Open Source Initiative"),
}
#: sentences with entity slots; words around the slots give the type away (moved from LOC, joined ORG ...)
ENTITY_TEMPLATES = (
    "{PER} moved from {LOC} to {LOC} .", "{PER} joined {ORG} in {LOC} .", "{ORG} opened an office in {LOC} .",
    "{PER} and {PER} met at {ORG} .", "The meeting in {LOC} was hosted by {ORG} .", "Yesterday {PER} visited {LOC} .",
    "{ORG} hired {PER} last year .", "{PER} said {ORG} will expand to {LOC} .", "In {LOC} , {PER} wrote a letter .",
    "{ORG} thanked {PER} for the talk in {LOC} .",
)
#: how a tag sequence marks entities
TAG_SCHEMES = ("IOB2", "IOB1", "IOBES")


def _tags(entity: str, n: int, scheme: str, after_same_type: bool) -> list[str]:
    """The tags of one ``n``-word entity: IOB2 ``B I I``, IOB1 ``I I I`` (``B`` only right after one of its own
    type), IOBES ``B I E`` / ``S``."""
    if scheme == "IOBES":
        return [f"S-{entity}"] if n == 1 else [f"B-{entity}", *[f"I-{entity}"] * (n - 2), f"E-{entity}"]
    first = "B" if scheme == "IOB2" or after_same_type else "I"
    return [f"{first}-{entity}", *[f"I-{entity}"] * (n - 1)]


def _tagged_sentence(template: str, rng: np.random.Generator, scheme: str) -> tuple[list[str], list[str]]:
    tokens, tags, previous = [], [], "O"
    for word in template.split():
        if word.startswith("{"):
            entity = word[1:-1]
            names = ENTITY_NAMES[entity][int(rng.integers(len(ENTITY_NAMES[entity])))].split()
            tokens += names
            tags += _tags(entity, len(names), scheme, previous == entity)
            previous = entity
        else:
            tokens.append(word)
            tags.append("O")
            previous = "O"
    return tokens, tags


def entity_tagging(seed: int = 0, num_examples: int = 2000, scheme: str = "IOB2",
                   fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> DatasetDict:
    """Named-entity tagging (PER, LOC, ORG) of generated sentences, the CoNLL-2003 layout: ``tokens`` (words) and
    ``ner_tags`` (one tag per word, a ``ClassLabel`` sequence) in the ``scheme`` IOB2, IOB1 or IOBES. Entities of
    one to four words; each distinct sentence is in at most one split."""
    if scheme not in TAG_SCHEMES:
        raise ConfigurationError(f"scheme={scheme!r}; choose one of {TAG_SCHEMES}")
    rng = np.random.default_rng(seed)
    seen, rows = set(), []
    for _ in range(20 * num_examples):
        tokens, tags = _tagged_sentence(ENTITY_TEMPLATES[int(rng.integers(len(ENTITY_TEMPLATES)))], rng, scheme)
        if " ".join(tokens) not in seen:
            seen.add(" ".join(tokens))
            rows.append({"tokens": tokens, "ner_tags": tags})
        if len(rows) == num_examples:
            break
    prefixes = {"IOB2": "BI", "IOB1": "BI", "IOBES": "BIES"}[scheme]
    names = ["O", *[f"{p}-{e}" for e in ENTITY_NAMES for p in prefixes]]
    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=names))})
    return _to_splits(rows, features, fractions)


BUILTIN_CORPORA: dict[str, Callable[..., DatasetDict]] = {
    "stdlib-docs": stdlib_docs,
    "number-translation": number_translation,
    "long-range": long_range,
    "entity-tagging": entity_tagging,
}


def make_corpus(name: str, seed: int = 0, **kwargs) -> DatasetDict:
    """Generate the built-in corpus ``name`` (see :data:`BUILTIN_CORPORA`) with its keyword options."""
    if name not in BUILTIN_CORPORA:
        raise DataError(f"Unknown built-in corpus {name!r}; choose one of {sorted(BUILTIN_CORPORA)}")
    return BUILTIN_CORPORA[name](seed=seed, **kwargs)
