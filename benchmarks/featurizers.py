"""BagOfWords vs scikit-learn: ``fit_transform`` + ``transform`` on the same documents, identical output required.

Documents: news-length texts (4 random docstrings of the ``stdlib-docs`` corpus each, ~1,000 characters,
~0.5% non-ASCII), 50,000 of them (10,000 with ``--quick``). Metric: documents per second through
``fit_transform(docs)`` followed by ``transform(docs)`` (so 2 x n documents per run), best of 3.
Every row also records whether the vocabularies are identical and the largest absolute difference; a run whose
output differs from scikit-learn's (other vocabulary, or any value off by more than 1e-6) raises instead of
reporting a speed.
Run: ``python -m benchmarks.featurizers [--quick]``.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

from benchmarks.common import best_time, row, save


def make_documents(n: int, seed: int = 0) -> list[str]:
    from nlpseq import load_corpus

    texts = load_corpus("stdlib-docs")["train"]["text"][:]
    rng = random.Random(seed)
    return [" ".join(rng.sample(texts, 4)) for _ in range(n)]


def compare(name: str, ours, reference, docs: list[str], target: float | None, repeat: int) -> dict:
    def run_ours():
        return ours.fit_transform(docs), ours.transform(docs)

    def run_reference():
        return reference.fit_transform(docs), reference.transform(docs)

    t_ours = best_time(run_ours, repeat=repeat, warmup=0)
    t_ref = best_time(run_reference, repeat=repeat, warmup=0)
    (x, y), (rx, ry) = run_ours(), run_reference()
    same_vocabulary = ours.vocabulary_ == reference.vocabulary_
    max_abs_diff = float(max(abs(x - rx).max(), abs(y - ry).max())) if same_vocabulary else float("nan")
    if not (same_vocabulary and max_abs_diff <= 1e-6):  # a speed-up of a different result is no speed-up
        raise AssertionError(f"{name}: output differs from scikit-learn (same vocabulary: {same_vocabulary}, "
                             f"max |diff| {max_abs_diff}); fix BagOfWords before timing it")
    return row(name, "docs/s", 2 * len(docs) / t_ours, 2 * len(docs) / t_ref, target=target,
               seconds_ours=t_ours, seconds_reference=t_ref, n_docs=len(docs), n_features=x.shape[1], nnz=x.nnz,
               same_vocabulary=same_vocabulary, max_abs_diff=max_abs_diff,
               identical=bool(same_vocabulary and max_abs_diff <= 1e-6))


def run(quick: bool) -> list[dict]:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    from nlpseq import BagOfWords

    n = 10_000 if quick else 50_000
    docs = make_documents(n)
    repeat = 1 if quick else 3
    return [
        compare(f"TF-IDF (l2), {n:,} docs vs TfidfVectorizer", BagOfWords(weighting="tfidf"),
                TfidfVectorizer(dtype=np.float32), docs, target=2.0, repeat=repeat),
        compare(f"counts, {n:,} docs vs CountVectorizer", BagOfWords(), CountVectorizer(dtype=np.float32), docs,
                target=2.0, repeat=repeat),
        compare(f"TF-IDF uni+bigrams, min_df=2, {n:,} docs",
                BagOfWords(weighting="tfidf", ngram_range=(1, 2), min_df=2),
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, dtype=np.float32), docs, target=None, repeat=1),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    results = run(quick)
    save("featurizers", results, quick=quick)
    for r in results:
        print(f"{r['name']}: ours {r['ours']:,.0f} docs/s vs {r['reference']:,.0f} -> {r['ratio']:.2f}x, "
              f"identical={r['identical']} (max diff {r['max_abs_diff']:.1e})")
