import pytest
from transformers import AutoTokenizer

from nlpseq import PRESETS, load_corpus, train_tokenizer
from nlpseq.tokenization import KINDS, _sentencepiece_model

SAMPLE = "Return a new list of the items.\nSee also: zweiundvierzig, 42!"
VOCAB = {"bpe": 400, "wordpiece": 300, "unigram": 300, "char": 60, "sentencepiece": 300}


@pytest.fixture(scope="module")
def texts():
    return list(load_corpus("stdlib-docs")["train"]["text"][:400])


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("kind", KINDS)
def test_kind_and_preset_round_trip(texts, kind, preset, tmp_path):
    tok = train_tokenizer(texts, kind=kind, vocab_size=VOCAB[kind], preset=preset, min_frequency=1)
    assert len(tok) == VOCAB[kind]
    spec = PRESETS[preset]
    # specials sit first, in preset order, with their transformers roles set
    assert tok.convert_tokens_to_ids(spec.specials) == list(range(len(spec.specials)))
    for role, token in spec.roles.items():
        assert getattr(tok, role) == token
    ids = tok(SAMPLE)["input_ids"]
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again(SAMPLE)["input_ids"] == ids
    assert len(again) == len(tok)
    assert again.convert_tokens_to_ids(spec.specials) == list(range(len(spec.specials)))
    # the preset's post-processor
    if preset == "mlm":
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    elif preset == "clm":
        assert ids[0] == tok.bos_token_id and tok.eos_token_id not in ids
    else:
        assert ids[-1] == tok.eos_token_id and tok.bos_token_id not in ids
    # ordinary words survive a decode
    assert "items" in tok.decode(ids, skip_special_tokens=True)


def test_special_ids_stable_across_corpora(texts):
    a = train_tokenizer(texts[:200], kind="bpe", vocab_size=300, preset="seq2seq")
    b = train_tokenizer(texts[200:], kind="bpe", vocab_size=350, preset="seq2seq")
    assert a.pad_token_id == b.pad_token_id == 0
    assert a.eos_token_id == b.eos_token_id == 2


def test_char_tokenizer_is_lossless(texts):
    tok = train_tokenizer(texts, kind="char", vocab_size=None, preset="clm", min_frequency=1)
    text = texts[3]
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text
    assert len(tok) == len(set("".join(texts))) + 4


def test_sentencepiece_matches_the_sentencepiece_library(texts):
    import sentencepiece as spm

    tok = train_tokenizer(texts, kind="sentencepiece", vocab_size=300, preset="mlm")
    sp = spm.SentencePieceProcessor(model_proto=_sentencepiece_model(texts, 300, PRESETS["mlm"], False))
    offset = len(PRESETS["mlm"].specials) - 1
    for text in texts[:20]:
        one_line = " ".join(text.split())
        expected = [i + offset if i else tok.unk_token_id for i in sp.encode(one_line)]
        assert tok(one_line, add_special_tokens=False)["input_ids"] == expected


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "bpe", "vocab_size": 100}, "256-byte alphabet"),
        ({"kind": "wordpiece", "vocab_size": 20}, "smaller than the special tokens plus the alphabet"),
        ({"kind": "wordpiece", "vocab_size": 100_000}, "only supports"),
        ({"kind": "nope"}, "Unknown tokenizer kind"),
        ({"preset": "nope"}, "Unknown preset"),
        ({"kind": "bpe", "vocab_size": None}, "only allowed for kind='char'"),
    ],
)
def test_bad_vocab_and_names(texts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_tokenizer(texts[:100], **kwargs)


@pytest.mark.parametrize("kind", ["bpe", "wordpiece", "sentencepiece"])
def test_exact_false_makes_vocab_size_a_ceiling(texts, kind):
    """A corpus too small for vocab_size: an error by default, fewer tokens (the trainer's own stop) with exact=False;
    a size the corpus supports is met exactly either way."""
    small = texts[:100]
    with pytest.raises(ValueError, match="only supports|more than this corpus supports"):
        train_tokenizer(small, kind=kind, vocab_size=100_000)
    capped = train_tokenizer(small, kind=kind, vocab_size=100_000, exact=False)
    assert 300 < len(capped) < 100_000
    assert len(train_tokenizer(small, kind=kind, vocab_size=300, exact=False)) == 300


def test_bad_texts():
    with pytest.raises(ValueError, match="no non-empty texts"):
        train_tokenizer(["", "  "], kind="bpe", vocab_size=300)
    with pytest.raises(TypeError, match="one string"):
        train_tokenizer("just one string", kind="bpe", vocab_size=300)
    with pytest.raises(TypeError, match="takes strings"):
        train_tokenizer([1, 2, 3], kind="bpe", vocab_size=300)


def test_word_kind_splits_on_spaces_only_and_keeps_line_breaks(texts, tmp_path):
    tok = train_tokenizer(texts, kind="word", vocab_size=2000, min_frequency=1)
    assert len(tok) == 2000 and tok.convert_tokens_to_ids(PRESETS["clm"].specials) == [0, 1, 2, 3]
    tok.save_pretrained(tmp_path)
    assert AutoTokenizer.from_pretrained(tmp_path)(SAMPLE)["input_ids"] == tok(SAMPLE)["input_ids"]
    tokens = tok.convert_ids_to_tokens(tok(SAMPLE)["input_ids"])
    assert tokens[:8] == ["<s>", "Return", "a", "new", "list", "of", "the", "<unk>"]  # "items." is not a word
    assert tokens[8] == "\n" and tokens[9] == "See"  # ... of these docstrings; the line break is a token


def test_unigram_and_sentencepiece_too_small_for_the_alphabet(texts):
    with pytest.raises(ValueError, match=r"smaller than the 4 special tokens plus the alphabet.*use vocab_size >= "):
        train_tokenizer(texts[:100], kind="unigram", vocab_size=20)
    with pytest.raises(ValueError, match="raise vocab_size"):
        train_tokenizer(texts[:100], kind="sentencepiece", vocab_size=20)
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        train_tokenizer(texts[:100], kind="wordpiece", vocab_size=300.0)
    with pytest.raises(TypeError, match="got a NoneType"):  # a missing value among the texts
        train_tokenizer([*texts[:100], None], kind="wordpiece", vocab_size=300)


def test_non_latin_text_round_trips_losslessly(tmp_path):
    texts = ["北京是中国的首都。", "Über café naïve — ĉu vi?", "emoji 😀 🎉 test", "Ελληνικά κείμενα",
             "مرحبا بالعالم"] * 10
    sample = "北京 😀 Ελληνικά café"
    for kind, size in [("bpe", 300), ("char", None)]:
        tok = train_tokenizer(texts, kind=kind, vocab_size=size, min_frequency=1)
        ids = tok(sample)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids, skip_special_tokens=True) == sample
        tok.save_pretrained(tmp_path / kind)
        assert AutoTokenizer.from_pretrained(tmp_path / kind)(sample)["input_ids"] == ids


def _cli():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tokenizer" / "train_tokenizer.py"
    spec = importlib.util.spec_from_file_location("train_tokenizer_cli", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_cli_trains_saves_and_reads_an_args_file(tmp_path, capsys):
    import json

    cli = _cli()
    out = tmp_path / "tok"
    cli.main(["--corpus", "number-translation", "--kind", "char", "--vocab_size", "0", "--preset", "seq2seq",
              "--min_frequency", "1", "--max_samples", "300", "--output_dir", str(out)])
    assert "char tokenizer (seq2seq preset)" in capsys.readouterr().out
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.convert_ids_to_tokens([0, 1, 2, 3]) == ["<pad>", "<s>", "</s>", "<unk>"]
    assert tok.decode(tok("zweiundvierzig")["input_ids"], skip_special_tokens=True) == "zweiundvierzig"
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"corpus": "stdlib-docs", "kind": "wordpiece", "vocab_size": 500, "preset": "mlm",
                                "max_samples": 300, "output_dir": str(tmp_path / "wp")}))
    cli.main([str(args)])
    assert len(AutoTokenizer.from_pretrained(tmp_path / "wp")) == 500


def test_cli_fails_fast_offline_on_a_hub_name(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE is set"):
        _cli().main(["--corpus", "someone/some-dataset", "--output_dir", str(tmp_path / "x")])
    assert time.perf_counter() - start < 5  # no retries against an unreachable Hub
    with pytest.raises(ValueError, match="needs column"):
        _cli().main(["--corpus", "stdlib-docs", "--text_column", "body", "--output_dir", str(tmp_path / "x")])


def test_sentencepiece_limits_are_quoted_in_vocab_size_units():
    """sentencepiece's own numbers leave out the specials: it said "<= 80" where 83 was the largest that worked."""
    import re

    texts = ["hello world this is a tiny corpus", "another line of text here", "the quick brown fox"] * 5
    for preset in ("clm", "mlm"):
        with pytest.raises(ValueError, match=f"at most \\d+ \\(counting the {len(PRESETS[preset].specials)} special"):
            train_tokenizer(texts, kind="sentencepiece", vocab_size=200, preset=preset)
        try:
            train_tokenizer(texts, kind="sentencepiece", vocab_size=200, preset=preset)
        except ValueError as err:
            most = int(re.search(r"at most (\d+)", str(err)).group(1))
        try:
            train_tokenizer(texts, kind="sentencepiece", vocab_size=8, preset=preset)
        except ValueError as err:
            least = int(re.search(r"raise vocab_size to (\d+) or more", str(err)).group(1))
        assert len(train_tokenizer(texts, kind="sentencepiece", vocab_size=most, preset=preset)) == most
        assert len(train_tokenizer(texts, kind="sentencepiece", vocab_size=least, preset=preset)) == least
        for outside in (most + 1, least - 1):
            with pytest.raises(ValueError, match="sentencepiece"):
                train_tokenizer(texts, kind="sentencepiece", vocab_size=outside, preset=preset)
