"""--streaming: a local text file pretrained on as a stream, the tokenizer trained from an iterator."""

import json
import sys

import pytest
from test_recipes import ROOT, _run
from transformers import AutoModelForCausalLM

from nlpseq import load_corpus, train_tokenizer
from nlpseq.errors import ConfigurationError, DataTypeError

sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import pretrain_clm  # noqa: E402
import pretrain_mlm  # noqa: E402


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("stream") / "docs.txt"
    texts = [" ".join(t.split()) for t in load_corpus("stdlib-docs")["train"]["text"][:600]]  # one line each
    path.write_text("\n".join(texts) + "\n\n")  # a trailing blank line, as text files often have
    return path, texts


def test_a_tokenizer_trains_from_an_iterator_as_from_a_list(text_file):
    _, texts = text_file
    streamed = train_tokenizer(iter(texts), kind="bpe", vocab_size=500, preset="clm")
    assert streamed.get_vocab() == train_tokenizer(texts, kind="bpe", vocab_size=500, preset="clm").get_vocab()
    with pytest.raises(DataTypeError, match="got a NoneType"):
        train_tokenizer(iter(["a text", None]), kind="bpe", vocab_size=300, preset="clm")


@pytest.mark.parametrize("module, family", [(pretrain_clm, "decoder"), (pretrain_mlm, "encoder")])
def test_streaming_pretrains_on_a_local_file(module, family, text_file, tmp_path):
    path, _ = text_file
    results = _run(module, tmp_path, "--model_family", family, "--train_file", str(path), "--streaming",
                   "--max_steps", "3", "--block_size", "32", "--max_eval_samples", "50")
    assert {"train_loss", "eval_loss", "eval_perplexity"} <= set(results)
    assert results["train_samples"] == 3 * 8  # steps x COMMON's batch of 8: the blocks the stream gave
    assert "eval_samples" not in results  # a stream has no length
    saved = json.loads((tmp_path / "train_results.json").read_text())
    assert saved["train_samples"] == 24 and (tmp_path / "model.safetensors").is_file()
    if module is pretrain_clm:
        assert AutoModelForCausalLM.from_pretrained(tmp_path).config.vocab_size == 400


@pytest.mark.parametrize("module, args, match", [
    (pretrain_clm, ["--max_steps", "-1", "--num_train_epochs", "1"], "pass --max_steps N"),
    (finetune_classification, ["--max_steps", "2"], "--streaming serves pretrain_clm.py and pretrain_mlm.py"),
    (pretrain_clm, ["--max_steps", "2", "--sample_by", "document"], "drop --sample_by"),
])
def test_streaming_refusals(module, args, match, tmp_path):
    with pytest.raises(ConfigurationError, match=match):
        _run(module, tmp_path / "run", "--streaming", *args)
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


def test_streamed_blocks_are_made_on_the_fly_and_counted_by_max_samples(text_file):
    from nlpseq.training import DataArguments, lm_blocks, load_data

    path, texts = text_file
    data_args = DataArguments(train_file=str(path), streaming=True, block_size=32, max_train_samples=8,
                              max_eval_samples=20)
    streams = load_data(data_args, seed=0, task="clm")
    tok = train_tokenizer(texts, kind="bpe", vocab_size=400, preset="clm")
    blocks = lm_blocks(streams, tok, data_args)
    train = list(blocks["train"])
    assert len(train) == 8 and all(len(b["input_ids"]) == 32 for b in train)
    held_out = [row["text"] for row in streams["validation"]]
    assert held_out == texts[:20]  # the first --max_eval_samples rows are the validation stream
    first = [i for text in texts[20:30] for i in tok(text)["input_ids"]]
    assert train[0]["input_ids"] == first[:32]  # training starts after them, texts joined as group_texts does
