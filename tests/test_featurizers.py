"""BagOfWords (parity with scikit-learn, estimator API, retrieval, errors), OneHot and Embeddings."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpseq import BagOfWords, Embeddings, OneHot
from nlpseq.featurizers import split_words

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")

DOCS = [
    "April is the cruelest month, breeding lilacs out of the dead land.",
    "The cruelest month is April; mixing memory and desire.",
    "Winter kept us warm, covering earth in forgetful snow.",
    "A thread acquires the lock, and another thread waits for the lock.",
    "Sockets send and receive bytes over the network; a socket has an address.",
    "Open the file, read the bytes, close the file.",
    "Ünïcode wörds: straße, ÉCOLE, naïve café — and numbers 42 and 3.14 too",
    "",  # an empty document is a row of zeros, as in scikit-learn
    "x y z",  # only one-character tokens: also a row of zeros
    "the the the THE The",
] * 3 + [f"document number {i} mentions topic{i % 4} and word{i % 7}" for i in range(30)]

CASES = [
    dict(),
    dict(binary=True),
    dict(ngram_range=(1, 2)),
    dict(ngram_range=(2, 3), min_df=2),
    dict(min_df=2, max_df=0.5),
    dict(min_df=0.05, max_df=10),
    dict(max_features=15),
    dict(lowercase=False, ngram_range=(1, 2), max_features=40, binary=True),
]


@pytest.mark.parametrize("params", CASES, ids=str)
def test_counts_match_count_vectorizer(params):
    ours, ref = BagOfWords(**params), sklearn_text.CountVectorizer(**params)
    x, r = ours.fit_transform(DOCS), ref.fit_transform(DOCS)
    assert ours.vocabulary_ == ref.vocabulary_
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    assert isinstance(x, sp.csr_matrix) and x.dtype == np.float32 and x.has_canonical_format
    np.testing.assert_array_equal(x.toarray(), r.toarray())
    np.testing.assert_array_equal(ours.transform(DOCS[::-1]).toarray(), ref.transform(DOCS[::-1]).toarray())


@pytest.mark.parametrize("norm", [None, "l1", "l2"])
@pytest.mark.parametrize("sublinear_tf", [False, True])
@pytest.mark.parametrize("params", [dict(), dict(smooth_idf=False, ngram_range=(1, 2), min_df=2, max_features=30),
                                    dict(binary=True, max_df=0.3)], ids=str)
def test_tfidf_matches_tfidf_vectorizer(norm, sublinear_tf, params):
    ours = BagOfWords(weighting="tfidf", norm=norm, sublinear_tf=sublinear_tf, **params)
    ref = sklearn_text.TfidfVectorizer(norm=norm, sublinear_tf=sublinear_tf, **params)
    x, r = ours.fit_transform(DOCS), ref.fit_transform(DOCS)
    assert ours.vocabulary_ == ref.vocabulary_
    np.testing.assert_allclose(ours.idf_, ref.idf_, rtol=1e-12)
    np.testing.assert_allclose(x.toarray(), r.toarray(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.transform(DOCS[:5]).toarray(), ref.transform(DOCS[:5]).toarray(),
                               rtol=1e-6, atol=1e-6)


def test_hf_tokenizer_and_callable_analyzers_match_scikit_learn():
    from nlpseq import train_tokenizer

    tokenizer = train_tokenizer(DOCS, kind="wordpiece", vocab_size=150, preset="mlm", min_frequency=1)
    ours = BagOfWords(tokenizer, weighting="tfidf", ngram_range=(1, 2))
    ref = sklearn_text.TfidfVectorizer(tokenizer=tokenizer.tokenize, lowercase=False, token_pattern=None,
                                       ngram_range=(1, 2))
    np.testing.assert_allclose(ours.fit_transform(DOCS).toarray(), ref.fit_transform(DOCS).toarray(), atol=1e-6)
    assert ours.vocabulary_ == ref.vocabulary_
    ours = BagOfWords(str.split, min_df=2)
    ref = sklearn_text.CountVectorizer(tokenizer=str.split, lowercase=False, token_pattern=None, min_df=2)
    np.testing.assert_array_equal(ours.fit_transform(DOCS).toarray(), ref.fit_transform(DOCS).toarray())


def test_word_split_matches_python_regex_on_mixed_ascii_and_unicode():
    import re

    docs = ["Hello, wörld! a_b c 12 x", "plain ascii text here", "ÀÉÎ öü ß ok", ""]
    tokens, indptr = split_words(docs)
    got = [tokens[a:b].to_pylist() for a, b in zip(indptr[:-1], indptr[1:])]
    assert got == [re.findall(r"(?u)\b\w\w+\b", d.lower()) for d in docs]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="aZ_09 .,-\n\tßéÉ€一", max_size=30), min_size=1, max_size=6), st.booleans())
def test_word_split_equals_python_regex_property(docs, lowercase):
    """The array kernels tokenize exactly like scikit-learn's regex, ASCII or not, lower-cased or not."""
    import re

    tokens, indptr = split_words(docs, lowercase)
    got = [tokens[a:b].to_pylist() for a, b in zip(indptr[:-1], indptr[1:])]
    assert got == [re.findall(r"(?u)\b\w\w+\b", d.lower() if lowercase else d) for d in docs]


def test_unicode_case_mapping_matches_python_lower():
    """Lower-casing follows Python's full case mapping like scikit-learn: final sigma, dotted capital I, ligatures."""
    docs = ["ΟΔΟΣ ΚΑΙ ΛΟΓΟΣ", "Σσς ΣΑΣ λόγος", "İstanbul İZMİR izmir", "STRASSE Straße ẞ", "ﬁne ǅemal ǄEMAL",
            "plain ascii words", "日本語 テキスト 😀emoji"] * 2
    for params in [dict(), dict(ngram_range=(1, 2)), dict(lowercase=False)]:
        ours, ref = BagOfWords(**params), sklearn_text.CountVectorizer(**params)
        x, r = ours.fit_transform(docs), ref.fit_transform(docs)
        assert ours.vocabulary_ == ref.vocabulary_, params
        np.testing.assert_array_equal(x.toarray(), r.toarray())


def test_order_blind():
    """The textbook example: "April is the cruelest month" and "the cruelest month is April" get the same vector."""
    bow = BagOfWords(weighting="tfidf").fit(DOCS)
    a, b = bow.transform(["April is the cruelest month", "the cruelest month is April"]).toarray()
    np.testing.assert_array_equal(a, b)
    assert a.sum() > 0
    rng = np.random.default_rng(0)
    words = DOCS[3].split()
    shuffled = " ".join(rng.permutation(words))
    np.testing.assert_array_equal(bow.transform([DOCS[3]]).toarray(), bow.transform([shuffled]).toarray())
    # ...while bigrams see the order
    bigrams = BagOfWords(ngram_range=(2, 2)).fit(DOCS)
    a, b = bigrams.transform(["April is the cruelest month", "the cruelest month is April"]).toarray()
    assert not np.array_equal(a, b)


def test_benchmark_checks_identical_output():
    """benchmarks/featurizers.py times only output equal to scikit-learn's: a mismatch raises instead of a speed."""
    from benchmarks.featurizers import compare

    docs = [d for d in DOCS if d] * 5
    result = compare("tiny", BagOfWords(weighting="tfidf"), sklearn_text.TfidfVectorizer(dtype=np.float32), docs,
                     target=2.0, repeat=1)
    assert result["identical"] and result["same_vocabulary"] and result["max_abs_diff"] <= 1e-6
    with pytest.raises(AssertionError, match="output differs"):
        compare("tiny", BagOfWords(weighting="tfidf"), sklearn_text.TfidfVectorizer(sublinear_tf=True), docs,
                target=2.0, repeat=1)


def test_most_similar_retrieval():
    bow = BagOfWords(weighting="tfidf").fit(DOCS[:10])
    hits = bow.most_similar("which thread holds the lock?", top_k=3)
    assert hits[0][0] == 3 and hits[0][1] > 0.3
    assert hits[0][1] >= hits[1][1] >= hits[2][1]
    assert bow.most_similar("the network socket address", top_k=1)[0][0] == 4
    with pytest.raises(ValueError, match="top_k"):
        bow.most_similar("lock", top_k=-1)


def test_estimator_protocol_pickle_pipeline_and_grid_search():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    bow = BagOfWords(weighting="tfidf", min_df=2)
    assert bow.get_params()["min_df"] == 2 and bow.set_params(min_df=1) is bow and bow.min_df == 1
    assert clone(bow).get_params() == bow.get_params()
    x = bow.fit_transform(DOCS)
    restored = pickle.loads(pickle.dumps(bow))
    np.testing.assert_array_equal(restored.transform(DOCS).toarray(), x.toarray())

    texts = [f"the lock and thread {i}" for i in range(12)] + [f"a socket on the network {i}" for i in range(12)]
    labels = [0] * 12 + [1] * 12
    pipe = Pipeline([("bow", BagOfWords()), ("clf", LogisticRegression())])
    search = GridSearchCV(pipe, {"bow__weighting": ["count", "tfidf"], "bow__ngram_range": [(1, 1), (1, 2)]}, cv=3)
    search.fit(texts, labels)
    assert search.best_score_ == 1.0
    assert list(search.predict(["my thread takes the lock", "socket network"])) == [0, 1]


def test_bad_input_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        BagOfWords().transform(["text"])
    with pytest.raises(TypeError, match="single str"):
        BagOfWords().fit("just one string")
    with pytest.raises(TypeError, match=r"raw_documents\[1\] is a int"):
        BagOfWords().fit(["ok", 3])
    with pytest.raises(ValueError, match="is empty"):
        BagOfWords().fit([])
    with pytest.raises(ValueError, match="empty vocabulary"):
        BagOfWords().fit(["", "a b", "!!"])
    with pytest.raises(ValueError, match="no terms remain"):
        BagOfWords(min_df=0.99).fit(DOCS)
    with pytest.raises(ValueError, match="fewer documents than min_df"):
        BagOfWords(min_df=100).fit(DOCS)
    with pytest.raises(ValueError, match="weighting"):
        BagOfWords(weighting="bm25").fit(DOCS)
    with pytest.raises(ValueError, match="ngram_range"):
        BagOfWords(ngram_range=(2, 1)).fit(DOCS)
    with pytest.raises(ValueError, match="Invalid parameter"):
        BagOfWords().set_params(mindf=2)
    with pytest.raises(TypeError, match="returned a int token"):
        BagOfWords(lambda doc: [*doc.split(), 3]).fit(["a b"])
    with pytest.raises(TypeError, match="raw_documents\\[0\\] is a NoneType"):
        BagOfWords().fit(DOCS).transform([None])
    with pytest.raises(TypeError, match="iterable of str, got int"):
        BagOfWords().fit(5)


# -- one-hot and embeddings --------------------------------------------------------------------------------------
def test_one_hot_keeps_order_orthogonal_and_zero_padding():
    ids = torch.tensor([[3, 1, 4, 1], [5, 9, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    x = OneHot(10)(ids, mask)
    assert x.is_sparse and x.shape == (2, 4, 10) and x._nnz() == 6
    dense = OneHot(10)(ids, mask, dense=True)
    torch.testing.assert_close(x.to_dense(), dense)
    assert dense[0].argmax(-1).tolist() == [3, 1, 4, 1]  # order kept
    assert dense[1, 2:].abs().sum() == 0  # padding rows are all-zero
    gram = dense[0] @ dense[0].T  # different tokens orthogonal, same token identical
    assert gram.tolist() == [[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 1, 0, 1]]
    # lists of ids are padded here; pad_token_id also gives zero rows
    assert OneHot(10, pad_token_id=0)([[3, 0, 2], [7]], dense=True).sum().item() == 3
    with pytest.raises(ValueError, match="must lie in"):
        OneHot(4)(ids)
    with pytest.raises(TypeError, match="tokenize text first"):
        OneHot(4)("some text")
    with pytest.raises(ValueError, match="attention_mask has shape"):
        OneHot(10)(ids, mask[:, :3])


def test_one_hot_times_embedding_matrix_is_the_lookup():
    """Z = X E: the one-hot rows times E are exactly the embedding rows (dense and sparse)."""
    embedding = torch.nn.Embedding(50, 8)
    ids = torch.randint(0, 50, (3, 7))
    one_hot = OneHot(50)(ids, dense=True)
    assert torch.equal(one_hot @ embedding.weight, embedding(ids))
    flat = OneHot(50)(ids).to_dense().view(-1, 50).to_sparse()
    assert torch.equal(torch.sparse.mm(flat, embedding.weight).view(3, 7, 8), embedding(ids))


def test_embeddings_from_model_vector_similar_and_encode():
    from nlpseq import EncoderConfig, EncoderModel, train_tokenizer

    tokenizer = train_tokenizer(DOCS, kind="wordpiece", vocab_size=150, preset="mlm", min_frequency=1)
    model = EncoderModel(EncoderConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=32))
    emb = Embeddings.from_model(model, tokenizer)
    weight = model.get_input_embeddings().weight
    the, and_ = tokenizer.convert_tokens_to_ids(["the", "and"])
    assert torch.equal(emb.vector("the"), weight[the])
    # plant a twin of "the" and find it
    with torch.no_grad():
        emb.weight[and_] = 2 * emb.weight[the]
    (first, score), *rest = emb.most_similar("the", top_k=3)
    assert first == "and" and score == pytest.approx(1.0, abs=1e-6) and len(rest) == 2
    assert all(token not in tokenizer.all_special_tokens and token != "the" for token, _ in rest)

    vectors = emb.encode(["the lock", "thread", ""], pooling="mean")
    ids = tokenizer("the lock", add_special_tokens=False)["input_ids"]
    torch.testing.assert_close(vectors[0], emb.weight[ids].mean(0))
    assert vectors.shape == (3, 16) and vectors[2].abs().sum() == 0
    torch.testing.assert_close(emb.encode(["the lock"], pooling="max")[0], emb.weight[ids].amax(0))
    with pytest.raises(KeyError, match="not a token"):
        emb.vector("zzzzqqq")
    with pytest.raises(ValueError, match="pooling"):
        emb.encode(["x"], pooling="median")
    with pytest.raises(ValueError, match="top_k"):
        emb.most_similar("the", top_k=0)
    from nlpseq import BowConfig, BowForSequenceClassification

    with pytest.raises(TypeError, match="no input embedding matrix"):
        Embeddings.from_model(BowForSequenceClassification(BowConfig(vocab_size=len(tokenizer), num_labels=2)),
                              tokenizer)
