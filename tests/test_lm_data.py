"""Language-model data: text files as one stream (line breaks kept), the word-level tokenizer, stream perplexity."""

import math
import random

import pytest
import torch

from nlpseq import DecoderForCausalLM, group_texts, load_corpus, tokenize_dataset, train_tokenizer
from nlpseq.evaluation import stream_perplexity

TEXT = "First Citizen:\nBefore we proceed.\n\nAll:\nSpeak, speak.\n"


def test_document_mode_keeps_line_breaks_and_holds_out_the_tail(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text(TEXT * 10)
    data = load_corpus(path, sample_by="document", validation_fraction=0.1)
    train, val = data["train"]["text"], data["validation"]["text"]
    cut = int(len(TEXT * 10) * 0.9)
    assert train == [(TEXT * 10)[:cut]] and val == [(TEXT * 10)[cut:]]
    assert len(load_corpus(path)["train"]) + len(load_corpus(path)["validation"]) == 40  # line mode: non-blank lines


def test_document_mode_rejects_other_formats_and_unknown_modes(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("text\nhello\nworld\n")
    with pytest.raises(ValueError, match="reads .txt files as whole texts"):
        load_corpus(path, sample_by="document")
    with pytest.raises(ValueError, match="choose one of"):
        load_corpus(path, sample_by="paragraph")


def test_char_stream_blocks_have_newlines_and_a_single_bos(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text(TEXT * 10)
    data = load_corpus(path, sample_by="document")
    tok = train_tokenizer(data["train"]["text"], kind="char", vocab_size=None, min_frequency=1)
    blocks = group_texts(tokenize_dataset(data, tok), block_size=8)
    ids = [i for block in blocks["train"]["input_ids"] for i in block]
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    assert tok.decode(ids[1:], skip_special_tokens=True) == (TEXT * 10)[:len(ids) - 1]
    assert ids.count(tok.convert_tokens_to_ids("\n")) == (TEXT * 10)[:len(ids) - 1].count("\n")


def test_word_tokenizer_keeps_corpus_unk_and_line_breaks():
    texts = [" the cat <unk> sat \n \n the dog\tran \n"]
    tok = train_tokenizer(texts, kind="word", vocab_size=None, min_frequency=1)
    assert tok.convert_ids_to_tokens([0, 1, 2, 3]) == ["<s>", "</s>", "<pad>", "<unk>"]
    assert len(tok) == 4 + 6  # specials + the, cat, sat, dog, ran, "\n" (<unk> is the special)
    ids = tok(" the cat <unk> zebra \n \n")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "the", "cat", "<unk>", "<unk>", "\n", "\n"]
    assert tok.convert_tokens_to_ids(["\n", "the"]) == [4, 5]  # by frequency (3, 2) after the specials
    with pytest.raises(ValueError, match="only allowed for kind='char' or 'word'"):
        train_tokenizer(texts, kind="bpe", vocab_size=None)


def test_stream_perplexity_scores_every_token_once(tiny_decoder_config):
    # smaller than the family's tiny decoder (11 tokens, 16 positions, one layer), with DecoderConfig's own init
    # (0.02) and no special tokens
    torch.manual_seed(0)
    model = DecoderForCausalLM(tiny_decoder_config(
        vocab_size=11, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=16, initializer_range=0.02, pad_token_id=None, bos_token_id=None, eos_token_id=None))
    ids = torch.randint(0, 11, (45,), generator=torch.Generator().manual_seed(0))
    whole = stream_perplexity(model, ids[:16], context=16)
    loss = model(input_ids=ids[None, :16], labels=ids[None, :16]).loss.item()
    assert whole["tokens"] == 15 and whole["nll"] == pytest.approx(loss, abs=1e-5)
    windows = stream_perplexity(model, ids, context=16, stride=6, batch_size=1)
    batched = stream_perplexity(model, ids, context=16, stride=6, batch_size=4)
    assert windows["tokens"] == 44 and windows["nll"] == pytest.approx(batched["nll"], abs=1e-5)
    assert windows["perplexity"] == pytest.approx(math.exp(windows["nll"]))
    with pytest.raises(ValueError, match="0 < stride < context"):
        stream_perplexity(model, ids, context=16, stride=16)


def _blocks(n_tokens: int, block_size: int):
    from datasets import Dataset

    from nlpseq.data import cut_blocks

    rows = {"input_ids": [list(range(n_tokens))], "attention_mask": [[1] * n_tokens]}
    return Dataset.from_dict(cut_blocks(rows, block_size))


def test_shifted_blocks_cut_the_stream_anew_each_epoch_one_pass_each():
    from nlpseq.data import ShiftedBlocks

    blocks = _blocks(100, 8)  # 12 fixed blocks: tokens 0..95
    shifted = ShiftedBlocks(blocks, seed=3)
    assert len(shifted) == 12  # the same number of blocks (--max_train_samples counts them as run_clm.py does)
    assert [shifted[i]["input_ids"] for i in range(12)] == blocks["input_ids"]  # epoch 0: group_texts' cuts
    offsets = []
    for epoch in range(1, 6):
        shifted.set_epoch(epoch)
        offsets.append(o := shifted.offset)
        seen = [t for i in range(len(shifted)) for t in shifted[i]["input_ids"]]
        assert seen == list(range(o, 96)) + list(range(o))  # the 96 tokens once each, read from o round the ring
        assert shifted[11]["attention_mask"] == [1] * 8
    assert all(0 <= o < 8 for o in offsets) and len(set(offsets)) > 1
    again = ShiftedBlocks(blocks, seed=3)
    again.set_epoch(4)  # a resumed run: the offset depends on (seed, epoch) only
    shifted.set_epoch(4)
    assert again.offset == offsets[3] and again[2] == shifted[2]
    other_seed = ShiftedBlocks(blocks, seed=4)
    assert [other_seed.set_epoch(e) or other_seed.offset for e in range(1, 6)] != offsets
    with pytest.raises(IndexError):
        shifted[12]


def test_shifted_blocks_of_a_single_block_rotate_it():
    from nlpseq.data import ShiftedBlocks

    shifted = ShiftedBlocks(_blocks(10, 8))
    shifted.set_epoch(next(e for e in range(1, 50) if random.Random(f"0-{e}").randrange(8) == 3))
    assert len(shifted) == 1 and shifted[0]["input_ids"] == [3, 4, 5, 6, 7, 0, 1, 2]
