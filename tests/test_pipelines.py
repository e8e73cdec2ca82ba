"""``transformers.pipeline`` on every family and task that fits: batched output equals single-item output.

Tiny random models (seeded) saved with their tokenizer, loaded by name through the Auto classes, as a user would.
"""

import numpy as np
import pytest
import torch
from transformers import pipeline

from nlpseq import load_corpus, models, train_tokenizer

TEXTS = ["Return the number of items in the queue.", "Open a file", "Close the socket and release it."]
SIZES = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
RECURRENT = {"hidden_size": 32, "embedding_size": 16}
SSM = {"hidden_size": 32, "num_hidden_layers": 2, "state_size": 4}
#: task -> (model class, config overrides) for every family that has the head
CASES = {
    "text-generation": [("DecoderForCausalLM", SIZES), ("RecurrentForCausalLM", RECURRENT),
                        ("SelectiveSSMForCausalLM", SSM)],
    "fill-mask": [("EncoderForMaskedLM", SIZES)],
    "text-classification": [("BowForSequenceClassification", {}), ("RecurrentForSequenceClassification", RECURRENT),
                            ("EncoderForSequenceClassification", SIZES), ("DecoderForSequenceClassification", SIZES),
                            ("SelectiveSSMForSequenceClassification", SSM)],
    "token-classification": [("EncoderForTokenClassification", SIZES), ("RecurrentForTokenClassification", RECURRENT)],
    "feature-extraction": [("EncoderModel", SIZES), ("DecoderModel", SIZES), ("RecurrentModel", RECURRENT),
                           ("SelectiveSSMModel", SSM)],
}
PARAMS = [(task, name, config) for task, cases in CASES.items() for name, config in cases]


@pytest.fixture(scope="module")
def tokenizers():
    texts = load_corpus("stdlib-docs")["train"]["text"][:300]
    return {p: train_tokenizer(texts, kind="wordpiece", vocab_size=300, preset=p) for p in ("clm", "mlm")}


def _saved(name: str, overrides: dict, tok, folder) -> str:
    cls = getattr(models, name)
    specials = {k: getattr(tok, k) for k in ("pad_token_id", "bos_token_id", "eos_token_id")}
    torch.manual_seed(0)
    model = cls(cls.config_class(vocab_size=len(tok), num_labels=3, **specials, **overrides)).eval()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def _inputs(task: str, tok) -> tuple[list[str], dict]:
    if task == "fill-mask":
        return [" ".join([t.split()[0], tok.mask_token, *t.split()[2:]]) for t in TEXTS], {"top_k": 3}
    if task == "text-generation":
        return TEXTS, {"max_new_tokens": 6, "do_sample": False}
    return TEXTS, {}


def _assert_same(batched, single) -> None:
    if isinstance(batched, dict):
        assert batched.keys() == single.keys()
        for key in batched:
            _assert_same(batched[key], single[key])
    elif isinstance(batched, list | tuple) and batched and not isinstance(batched[0], float | int):
        assert len(batched) == len(single)
        for b, s in zip(batched, single):
            _assert_same(b, s)
    elif isinstance(batched, float | np.floating | list | np.ndarray):
        np.testing.assert_allclose(np.asarray(batched, dtype=float), np.asarray(single, dtype=float), atol=1e-5)
    else:
        assert batched == single


@pytest.mark.parametrize("task, name, overrides", PARAMS, ids=[f"{t}-{n}" for t, n, _ in PARAMS])
def test_pipeline_batched_equals_one_by_one(task, name, overrides, tokenizers, tmp_path):
    tok = tokenizers["clm" if task == "text-generation" else "mlm"]
    tok.padding_side = "left" if task == "text-generation" else "right"  # a decoder continues from the right end
    pipe = pipeline(task, model=_saved(name, overrides, tok, tmp_path))
    texts, options = _inputs(task, tok)
    batched = pipe(texts, batch_size=3, **options)
    single = [pipe(text, **options) for text in texts]
    if task == "text-classification":  # one text gives [{"label", "score"}], a list of texts one dict each
        single = [s[0] for s in single]
    assert len(batched) == len(texts)
    if task == "feature-extraction":  # (1, tokens, hidden) per text: the batched rows are padded to the longest
        for b, s in zip(batched, single):
            s = np.asarray(s)
            np.testing.assert_allclose(np.asarray(b)[:, : s.shape[1]], s, atol=1e-5)
        return
    _assert_same(batched, single)
    if task == "text-generation":
        assert all(out[0]["generated_text"].startswith(text) for out, text in zip(batched, texts))
