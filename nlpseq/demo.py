"""``make demo``: a short tour of nlpseq on built-in data (CPU, about a minute).

Run as ``python -m nlpseq.demo``. Each step prints what it did.
"""

from __future__ import annotations

import time

from . import load_corpus, train_tokenizer


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def tokenizers_tour() -> None:
    step("1. Built-in corpus and tokenizers")
    data = load_corpus("stdlib-docs")
    texts = list(data["train"]["text"])
    labels = data["train"].features["label"].names
    print(f"stdlib-docs: {len(texts)} train / {len(data['validation'])} validation / {len(data['test'])} test "
          f"docstrings, {len(labels)} topic labels {labels}")
    sample = "Return the number of items in the queue."
    for kind, preset, size in [("bpe", "clm", 4000), ("wordpiece", "mlm", 4000), ("unigram", "seq2seq", 2000)]:
        t0 = time.perf_counter()
        tok = train_tokenizer(texts, kind=kind, vocab_size=size, preset=preset)
        ids = tok(sample)["input_ids"]
        print(f"{kind:>9} ({preset:>7}): {len(tok)} tokens in {time.perf_counter() - t0:.1f}s | "
              f"{len(ids)} ids: {' '.join(tok.convert_ids_to_tokens(ids))}")


def main() -> None:
    tokenizers_tour()
    print("\nDemo finished.")


if __name__ == "__main__":
    main()
