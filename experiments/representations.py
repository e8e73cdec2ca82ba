"""The three textbook representations, measured: bag of words (order-blind), one-hot (orthogonal: no notion of
similarity), learned embeddings (Z = X E: dense, similar words close together).
"""

from __future__ import annotations

import random

import matplotlib.pyplot as plt
import numpy as np
import torch

from experiments.common import save
from nlpseq import load_corpus, train_tokenizer
from nlpseq.featurizers import BagOfWords, Embeddings, OneHot

WORDS = ["file", "directory", "path", "socket", "server", "connection", "thread", "process", "lock",
         "integer", "float", "decimal"]


def run() -> dict:
    # 1. bag of words is blind to order
    a, b = "April is the cruelest month", "the cruelest month is April"
    bow = BagOfWords().fit([a, b])
    va, vb = bow.transform([a]).toarray(), bow.transform([b]).toarray()
    order_blind = bool(np.array_equal(va, vb))

    # 2. one-hot vectors of different tokens are orthogonal
    texts = list(load_corpus("stdlib-docs")["train"]["text"])
    tok = train_tokenizer(texts, kind="wordpiece", vocab_size=6000, preset="mlm", lowercase=True)
    ids = tok.convert_tokens_to_ids(WORDS)
    onehot = OneHot.from_tokenizer(tok)(torch.tensor([ids]), dense=True)[0]  # (words, vocab)
    gram_onehot = (onehot @ onehot.T).numpy()

    # 3. skip-gram embeddings trained on stdlib-docs with the HF Trainer
    emb = Embeddings.train(texts, tok, hidden_size=64, window=3)
    vectors = torch.nn.functional.normalize(torch.stack([emb.vector(w) for w in WORDS]), dim=-1)
    gram_emb = (vectors @ vectors.T).numpy()
    rng = random.Random(0)
    vocab = [t for t in tok.get_vocab() if t.isalpha() and len(t) > 3]
    neighbours = {w: emb.most_similar(w, top_k=5) for w in ("file", "socket", "thread", "integer")}
    top1 = np.mean([n[0][1] for n in neighbours.values()])
    unit = torch.nn.functional.normalize(emb.weight, dim=-1)
    random_pairs = [(tok.convert_tokens_to_ids(rng.choice(vocab)), tok.convert_tokens_to_ids(rng.choice(vocab)))
                    for _ in range(2000)]
    random_cos = float(np.mean([float(unit[i] @ unit[j]) for i, j in random_pairs]))

    figure, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, gram, title in ((axes[0], gram_onehot, "one-hot: X X^T = I (no similarity)"),
                            (axes[1], gram_emb, "skip-gram embeddings: cosine")):
        im = ax.imshow(gram, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(WORDS)), WORDS, rotation=60, ha="right")
        ax.set_yticks(range(len(WORDS)), WORDS)
        ax.set_title(title)
    figure.colorbar(im, ax=axes, shrink=0.8)
    table = "\n".join(f"| {w} | " + ", ".join(f"{t} ({c:.2f})" for t, c in n) + " |" for w, n in neighbours.items())
    verdict = f"""
- **Bag of words is order-blind — confirmed.** "{a}" and "{b}" give identical count vectors
  (`array_equal` = {order_blind}).
- **One-hot vectors carry no similarity — confirmed.** For {len(WORDS)} words of a {len(tok)}-token vocabulary,
  the Gram matrix of their one-hot rows is the identity (off-diagonal max = {np.abs(gram_onehot -
  np.eye(len(WORDS))).max():.0f}): "file" is as far from "directory" as from "integer".
- **Learned embeddings put similar words close — confirmed.** Skip-gram with negative sampling (64 dims,
  2 epochs of stdlib-docs, HF Trainer): the nearest neighbour's cosine averages {top1:.2f}, against
  {random_cos:.2f} for random word pairs.

| word | 5 nearest neighbours (cosine) |
|---|---|
{table}
"""
    numbers = {"order_blind": order_blind, "top1_cosine": float(top1), "random_cosine": random_cos,
               "neighbours": {w: [(t, float(c)) for t, c in n] for w, n in neighbours.items()}}
    save("representations", "Representations: bag of words, one-hot, embeddings", figure, verdict, numbers)
    return numbers


if __name__ == "__main__":
    run()
