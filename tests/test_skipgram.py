"""SkipGramModel trained with the Trainer on stdlib-docs: similar words end up close together."""

import numpy as np
import pytest
import torch
from transformers import AutoModel

import nlpseq
from nlpseq import Embeddings, SkipGramConfig, SkipGramModel
from nlpseq.featurizers import skipgram_pairs


@pytest.fixture(scope="module")
def trained():
    texts = nlpseq.load_corpus("stdlib-docs")["train"]["text"][:]
    tokenizer = nlpseq.train_tokenizer(texts, kind="wordpiece", vocab_size=3000, preset="mlm", lowercase=True)
    return texts, tokenizer, Embeddings.train(texts, tokenizer, hidden_size=32, num_train_epochs=1,
                                              learning_rate=5e-2, seed=0)


def _unit(weight: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(weight, dim=-1)


def test_neighbours_beat_random_words(trained):
    """The textbook claim: a word's nearest neighbours score far higher cosine than random words, and (the part an
    untrained model fails, asserted below) words that occur together are closer than random pairs.

    The first loop checks ``most_similar`` itself: any embedding, even a random one, has neighbours well above
    random words (in 32 dimensions an untrained model's top-5 are ~0.5 above); that training makes them the
    *right* neighbours is what the co-occurrence gap here and ``test_trained_neighbours_make_sense`` show."""
    texts, tokenizer, emb = trained
    words = ["thread", "socket", "file", "list", "lock", "string", "return", "error"]
    rng = np.random.default_rng(0)
    specials = len(tokenizer.all_special_ids)
    unit = _unit(emb.weight)
    for word in words:
        neighbours = [score for _, score in emb.most_similar(word, top_k=5)]
        random_ids = rng.integers(specials, len(tokenizer), 200)
        random_scores = unit[random_ids] @ unit[tokenizer.convert_tokens_to_ids(word)]
        assert min(neighbours) > random_scores.mean().item() + 0.3, word

    # second check, independent of most_similar: the 2000 most frequent co-occurring pairs vs random pairs
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    centers, contexts = skipgram_pairs(ids, window=2, subsample=None)
    keys, counts = np.unique(centers * len(tokenizer) + contexts, return_counts=True)
    top = keys[np.argsort(-counts)[:2000]]
    a, b = top // len(tokenizer), top % len(tokenizer)
    a, b = a[a != b], b[a != b]
    ra, rb = rng.integers(specials, len(tokenizer), (2, 5000))

    def gap(weight):
        unit = _unit(weight)
        return ((unit[a] * unit[b]).sum(-1).mean() - (unit[ra] * unit[rb]).sum(-1).mean()).item()

    untrained = SkipGramModel(SkipGramConfig(vocab_size=len(tokenizer), hidden_size=32))
    print(f"co-occurring minus random cosine: trained {gap(emb.weight):.3f}, untrained "
          f"{gap(untrained.get_input_embeddings().weight.detach()):.3f}")
    assert gap(emb.weight) > 0.15
    assert abs(gap(untrained.get_input_embeddings().weight.detach())) < 0.05


RELATED = {
    "list": {"tuple", "tuples", "lists", "sequence", "sequences", "dict", "items", "elements", "iterable"},
    "file": {"filename", "open", "opened", "mode", "reading", "binary", "descriptor", "compressed", "path", "gzip"},
    "socket": {"sock", "sockets", "connection", "fd", "protocol", "inet", "ipv4", "af", "transport"},
    "lock": {"unlocked", "release", "acquire", "acquired", "semaphore", "waiting"},
    "error": {"exception", "raises", "raised", "occurred", "occurs", "keyerror", "runtimeerror", "unexpected"},
    "read": {"write", "reading", "written", "bytes", "io", "buffer", "bytesio"},
}


def test_trained_neighbours_make_sense(trained):
    """Most probe words have a word a Python programmer would call related among their 10 neighbours.
    Floating-point summation order differs between CPUs and thread counts, so single neighbours can move;
    requiring 5 of 6 probes keeps the check meaningful (an untrained model scores about 0) but not brittle."""
    _, tokenizer, emb = trained

    def hits(embeddings):
        return {word: {token for token, _ in embeddings.most_similar(word, top_k=10)} & related
                for word, related in RELATED.items()}

    found = hits(emb)
    assert sum(bool(words) for words in found.values()) >= 5, found
    torch.manual_seed(0)  # the control: the same probes on an untrained model find (almost) nothing related
    untrained = Embeddings.from_model(SkipGramModel(SkipGramConfig(vocab_size=len(tokenizer), hidden_size=32)),
                                      tokenizer)
    control = hits(untrained)
    assert sum(bool(words) for words in control.values()) <= 1, control


def test_loss_save_load_and_auto(tmp_path):
    torch.manual_seed(0)
    model = SkipGramModel(SkipGramConfig(vocab_size=20, hidden_size=8, num_negatives=3))
    model.set_noise_distribution(torch.arange(20.0))
    assert model.noise_distribution[0] == 0 and model.noise_distribution.sum().item() == pytest.approx(1.0)
    centers, contexts = torch.tensor([1, 2, 3]), torch.tensor([2, 3, 4])
    out = model(centers, contexts)
    assert out.negative_logits.shape == (3, 3)
    assert out.loss.item() == pytest.approx(4 * np.log(2), rel=1e-6)  # zero context vectors: sigma(0) = 1/2
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        optimizer.zero_grad()
        model(centers, contexts).loss.backward()
        optimizer.step()
    assert model(centers, contexts).positive_logits.min() > 1.0
    model.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path)
    assert type(loaded) is SkipGramModel
    assert torch.equal(loaded.get_input_embeddings().weight, model.get_input_embeddings().weight)
    assert torch.equal(loaded.noise_distribution, model.noise_distribution)
    with pytest.raises(ValueError, match="same shape"):
        model(centers, contexts[:2])
    with pytest.raises(ValueError, match="non-negative"):
        model.set_noise_distribution(-torch.ones(20))


def test_skipgram_pairs_window_and_documents():
    centers, contexts = skipgram_pairs([[1, 2, 3], [4, 5]], window=1, subsample=None)
    assert sorted(zip(centers.tolist(), contexts.tolist())) == [(1, 2), (2, 1), (2, 3), (3, 2), (4, 5), (5, 4)]
    with pytest.raises(ValueError, match="window"):
        skipgram_pairs([[1, 2]], window=0)
