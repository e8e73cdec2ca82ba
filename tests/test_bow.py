"""BowForSequenceClassification: the vector built in forward, idf fitting, Trainer, save/load, Auto classes."""

import numpy as np
import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    Trainer,
    TrainingArguments,
)

import nlpseq
from nlpseq import BagOfWords, BowConfig, BowForSequenceClassification

MAX_LENGTH = 128
DOCS = ["the cat sat on the mat", "the dog sat", "a cat and a dog and a bird", "birds sing"]


@pytest.fixture(scope="module")
def stdlib():
    data = nlpseq.load_corpus("stdlib-docs")
    tokenizer = nlpseq.train_tokenizer(data["train"]["text"][:], kind="wordpiece", vocab_size=2000, preset="mlm",
                                       lowercase=True)
    encoded = nlpseq.prepare_classification(data, tokenizer, max_length=MAX_LENGTH)
    # pad once up front, so batches are plain stacks (the tokenizer's per-batch padding dominated the run time)
    encoded = encoded.map(lambda b: tokenizer.pad(b, padding="max_length", max_length=MAX_LENGTH), batched=True)
    return data, tokenizer, encoded.with_format("torch")


@pytest.fixture(scope="module")
def tiny_tokenizer():
    return nlpseq.train_tokenizer(DOCS * 3, kind="wordpiece", vocab_size=40, preset="mlm", min_frequency=1)


@pytest.mark.parametrize("norm", [None, "l1", "l2"])
@pytest.mark.parametrize("sublinear_tf", [False, True])
def test_vector_equals_bag_of_words_tfidf(tiny_tokenizer, norm, sublinear_tf):
    """The in-model TF-IDF vector equals BagOfWords (hence scikit-learn) on the same sub-word tokens."""
    bow = BagOfWords(tiny_tokenizer, weighting="tfidf", norm=norm, sublinear_tf=sublinear_tf)
    expected = bow.fit_transform(DOCS).toarray()
    model = BowForSequenceClassification(BowConfig(vocab_size=len(tiny_tokenizer), norm=norm,
                                                   sublinear_tf=sublinear_tf, num_labels=2))
    ids = tiny_tokenizer(DOCS, add_special_tokens=False)["input_ids"]
    model.fit_idf(ids)
    batch = tiny_tokenizer(DOCS, add_special_tokens=False, padding=True, return_tensors="pt")
    vectors = model(**batch, output_hidden_states=True).hidden_states[0]
    columns = tiny_tokenizer.convert_tokens_to_ids(list(bow.get_feature_names_out()))
    np.testing.assert_allclose(vectors[:, columns].detach().numpy(), expected, rtol=1e-6, atol=1e-6)
    assert vectors.sum().item() == pytest.approx(vectors[:, columns].sum().item())  # nothing outside the vocabulary


def test_binary_counts_and_padding(tiny_tokenizer):
    model = BowForSequenceClassification(BowConfig(vocab_size=len(tiny_tokenizer), weighting="count", norm=None,
                                                   binary=False, num_labels=2))
    ids = torch.tensor([[5, 5, 7, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 0, 0]])
    counts = model(ids, mask, output_hidden_states=True).hidden_states[0]
    assert counts[0, 5] == 2 and counts[0, 7] == 1 and counts[0, 0] == 0 and counts.sum() == 3
    model.config.binary = True
    assert model(ids, mask, output_hidden_states=True).hidden_states[0][0, 5] == 1


def test_order_blind(tiny_tokenizer):
    """The textbook example: a sentence and its shuffled words give the same vector, so the same logits."""
    model = BowForSequenceClassification(BowConfig(vocab_size=len(tiny_tokenizer), hidden_sizes=[8], num_labels=3))
    model.fit_idf(tiny_tokenizer(DOCS)["input_ids"])
    a = tiny_tokenizer(["the cat sat on the mat"], return_tensors="pt")
    b = tiny_tokenizer(["mat the on sat cat the"], return_tensors="pt")
    assert not torch.equal(a["input_ids"], b["input_ids"])
    torch.testing.assert_close(model(**a).logits, model(**b).logits, rtol=0, atol=1e-6)


def test_trainer_beats_majority_and_round_trips(stdlib, tmp_path):
    data, tokenizer, encoded = stdlib
    labels = encoded["train"].features["labels"].names
    config = BowConfig(vocab_size=len(tokenizer), weighting="tfidf", sublinear_tf=True, num_labels=len(labels),
                       id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
                       pad_token_id=tokenizer.pad_token_id)
    model = BowForSequenceClassification(config)
    idf = model.fit_idf(encoded["train"]["input_ids"])
    assert idf.min() >= 1.0 and idf.max() > 5.0
    args = TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=8, learning_rate=5e-2,
                             per_device_train_batch_size=256, save_strategy="no", report_to=[], logging_strategy="no",
                             disable_tqdm=True, seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=encoded["train"])
    trainer.train()
    test = encoded["test"]
    result = trainer.predict(test)
    accuracy = float((result.predictions.argmax(-1) == result.label_ids).mean())
    majority = np.bincount(result.label_ids).max() / len(test)
    print(f"BoW TF-IDF accuracy {accuracy:.3f} vs majority {majority:.3f}")
    assert accuracy > majority + 0.25

    model.save_pretrained(tmp_path / "bow")
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "bow")
    assert type(loaded) is BowForSequenceClassification
    torch.testing.assert_close(loaded.vectorizer.idf, model.vectorizer.idf, rtol=0, atol=0)
    batch = tokenizer(data["test"]["text"][:8], padding=True, truncation=True, max_length=MAX_LENGTH,
                      return_tensors="pt")
    model.eval()
    torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits, rtol=0, atol=0)


def test_auto_config_and_bad_config():
    assert type(AutoConfig.for_model("nlpseq-bow", vocab_size=10)) is BowConfig
    with pytest.raises(ValueError, match="weighting"):
        BowConfig(weighting="bm25")
    with pytest.raises(ValueError, match="norm"):
        BowConfig(norm="l3")
    with pytest.raises(ValueError, match="hidden_sizes"):
        BowConfig(hidden_sizes=[0])


def test_bad_inputs():
    model = BowForSequenceClassification(BowConfig(vocab_size=10, num_labels=2))
    with pytest.raises(ValueError, match="batch dimension"):
        model(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="vocab_size"):
        model(torch.tensor([[1, 2, 30]]))
    with pytest.raises(ValueError, match="vocab_size"):
        model.fit_idf([[1, 2, 30]])
    with pytest.raises(ValueError, match="no documents"):
        model.fit_idf([])
    with pytest.raises(TypeError, match="tokenize the texts first"):
        model.fit_idf(["some raw text"])
    with pytest.raises(TypeError, match="not integer token ids"):
        model.fit_idf([[1.5, 2.0]])


def test_fit_idf_from_a_dataset_skips_padding():
    from datasets import Dataset, DatasetDict

    model = BowForSequenceClassification(BowConfig(vocab_size=10, num_labels=2))
    padded = Dataset.from_dict({"input_ids": [[1, 2, 0], [2, 3, 4]], "attention_mask": [[1, 1, 0], [1, 1, 1]]})
    idf = model.fit_idf(padded).clone()
    expected = torch.log(torch.tensor(3.0) / (1 + torch.tensor([0, 1, 2, 1, 1, 0, 0, 0, 0, 0.0]))) + 1
    torch.testing.assert_close(idf, expected)  # id 0 (padding) counted in no document
    torch.testing.assert_close(model.fit_idf([[1, 2], [2, 3, 4]]), expected)
    with pytest.raises(ValueError, match="pass one split"):
        model.fit_idf(DatasetDict({"train": padded}))
    with pytest.raises(ValueError, match="needs an 'input_ids' column"):
        model.fit_idf(padded.remove_columns("input_ids"))


def test_hashed_bigrams_count_each_neighbour_pair_once(tiny_tokenizer):
    """bigram_buckets adds fastText's hashed word pairs: "not good" and "good not" differ, padding adds none, and
    the idf covers the bigram features too."""
    from nlpseq.models.modeling_bow import BIGRAM_HASH_PRIME

    config = BowConfig(vocab_size=len(tiny_tokenizer), weighting="count", norm=None, bigram_buckets=7)
    model = BowForSequenceClassification(config).eval()
    ids = torch.tensor([[3, 5, 4, 0], [5, 3, 4, 4]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    bow = model(ids, attention_mask=mask, output_hidden_states=True).hidden_states[0]
    assert bow.shape == (2, len(tiny_tokenizer) + 7)
    unigrams, bigrams = bow[:, :len(tiny_tokenizer)], bow[:, len(tiny_tokenizer):]
    assert unigrams[0].sum() == 3 and bigrams[0].sum() == 2 and bigrams[1].sum() == 3  # the pad pair is not counted
    bucket = (3 * BIGRAM_HASH_PRIME + 5) % 7
    assert bigrams[0, bucket] >= 1 and not torch.equal(bigrams[0], bigrams[1, :])
    idf = model.fit_idf([[3, 5, 4], [5, 3, 4, 4]])
    assert idf.shape == (len(tiny_tokenizer) + 7,)
    assert idf[len(tiny_tokenizer) + bucket] > 1.0  # a bigram of one document of two: rarer than "4" (idf 1)
    assert idf[4] == 1.0
