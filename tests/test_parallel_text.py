"""Parallel text files (``train.en`` / ``train.de``, the Multi30k/WMT layout) through load_corpus and the recipe."""

import sys
from pathlib import Path

import pytest
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from nlpseq import load_corpus, load_parallel_text, prepare_translation, train_tokenizer

ROOT = Path(__file__).resolve().parents[1]
EN = ["one dog runs.", "two cats sleep.", "A man, a plan.", "three birds sing", "Four ships sail."]
DE = ["Ein Hund läuft.", "Zwei Katzen schlafen.", "Ein Mann, ein Plan.", "drei Vögel singen", "Vier Schiffe segeln."]


def _write_parallel(folder: Path, stem: str, en: list[str], de: list[str]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"{stem}.en", folder / f"{stem}.de"
    for path, lines in zip(paths, (en, de)):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def test_mapping_of_pairs_gives_translation_rows(tmp_path):
    data = load_corpus({"train": _write_parallel(tmp_path, "train", EN * 4, DE * 4),
                        "validation": _write_parallel(tmp_path, "val", EN[:2], DE[:2])})
    assert set(data) == {"train", "validation"} and len(data["train"]) == 20 and len(data["validation"]) == 2
    assert data["validation"][1] == {"translation": {"en": "two cats sleep.", "de": "Zwei Katzen schlafen."}}
    assert sorted(data["train"].features["translation"]) == ["de", "en"]


def test_directory_is_detected_and_lines_are_kept_verbatim(tmp_path):
    _write_parallel(tmp_path, "train", EN, DE)
    _write_parallel(tmp_path, "val", EN[:1], DE[:1])
    _write_parallel(tmp_path, "test", [" spaced  out ", ""], ["  mit Leerzeichen ", ""])
    (tmp_path / "README.md").write_text("not data")
    data = load_corpus(tmp_path)
    assert set(data) == {"train", "validation", "test"}
    assert [t["de"] for t in data["train"]["translation"]] == DE  # order and case kept
    assert data["test"]["translation"] == [{"en": " spaced  out ", "de": "  mit Leerzeichen "},
                                           {"en": "", "de": ""}]  # aligned with the raw reference lines


def test_languages_can_be_named_when_extensions_are_not_codes(tmp_path):
    src, tgt = tmp_path / "corpus.source", tmp_path / "corpus.target"
    src.write_text("\n".join(EN)), tgt.write_text("\n".join(DE))
    data = load_parallel_text({"train": (src, tgt)}, source_lang="en", target_lang="de")
    assert data["train"][0]["translation"] == {"en": "one dog runs.", "de": "Ein Hund läuft."}


def test_prepare_translation_reads_parallel_corpus(tmp_path):
    data = load_corpus({"train": _write_parallel(tmp_path, "train", EN * 4, DE * 4)}, validation_fraction=0.25)
    tok = train_tokenizer(EN + DE, kind="char", vocab_size=None, preset="seq2seq", min_frequency=1)
    enc = prepare_translation(data, tok, "en", "de")
    row = data["train"][0]["translation"]
    assert tok.decode(enc["train"][0]["labels"], skip_special_tokens=True) == row["de"]
    assert enc["train"][0]["input_ids"][-1] == tok.eos_token_id and len(enc["validation"]) == 5


@pytest.mark.parametrize("files, kwargs, match", [
    ({"train": ("a.en", "a.de")}, {}, "differ in length: .*a.en has 5 lines, .*a.de has 4"),
    ({"train": ("a.en", "b.en")}, {}, "Cannot tell the two languages"),
    ({"train": ("a.en", "a.de"), "validation": "a.en"}, {}, "Mix of single files and"),
    ({"train": ("a.en", "missing.de")}, {}, "Data file not found: .*missing.de"),
    ({"train": ("a.en",)}, {}, r"needs a \(source_file, target_file\) pair"),
])
def test_bad_parallel_input_is_named(tmp_path, files, kwargs, match):
    (tmp_path / "a.en").write_text("\n".join(EN))
    (tmp_path / "a.de").write_text("\n".join(DE[:4]))
    (tmp_path / "b.en").write_text("\n".join(EN))
    files = {split: tmp_path / f if isinstance(f, str) else tuple(tmp_path / p for p in f)
             for split, f in files.items()}
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_corpus(files, **kwargs)


def test_directory_with_three_languages_asks_for_the_pair(tmp_path):
    _write_parallel(tmp_path, "train", EN, DE)
    (tmp_path / "train.fr").write_text("\n".join(EN))
    with pytest.raises(ValueError, match=r"3 parallel train files .*pass the pair explicitly"):
        load_corpus(tmp_path)


def test_translation_recipe_trains_on_a_parallel_directory(tmp_path):
    sys.path.insert(0, str(ROOT / "recipes"))
    import finetune_translation

    from benchmarks.training_defaults import uniform_loss

    corpus = tmp_path / "corpus"
    _write_parallel(corpus, "train", EN * 8, DE * 8)
    _write_parallel(corpus, "val", EN, DE)
    results = finetune_translation.main([
        "--model_family", "recurrent-seq2seq", "--dataset_name", str(corpus), "--source_lang", "en",
        "--target_lang", "de", "--tokenizer_kind", "char", "--vocab_size", "0", "--max_steps", "3",
        "--per_device_train_batch_size", "8", "--report_to", "none", "--save_strategy", "no", "--seed", "0",
        "--disable_tqdm", "true", "--output_dir", str(tmp_path / "out")])
    # the 5 validation pairs are among the training pairs: 3 steps at the preset's rate 0.01 already leave chance
    # (the uniform guess over the 39 tokens, characters and specials: ln(39) = 3.66) behind, at 3.20
    assert results["eval_loss"] < uniform_loss(finetune_translation, tmp_path / "out") - 0.2, results
    tok = AutoTokenizer.from_pretrained(tmp_path / "out")
    assert {"ä", "Z", "w"} <= set(tok.get_vocab())  # trained on both sides of the parallel files
    model = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "out")
    assert model.config.model_type == "nlpseq-recurrent-seq2seq"


def test_named_test_sets_are_the_test_split_and_an_exact_name_wins(tmp_path, caplog):
    """Multi30k ships ``test_2016_flickr.*`` (and later ``test_2017_mscoco.*``): a ``<split>_<name>`` stem is
    that split; with several, the first in sorted order is taken and the others are named in a warning."""
    _write_parallel(tmp_path, "train", EN, DE)
    _write_parallel(tmp_path, "val", EN[:1], DE[:1])
    _write_parallel(tmp_path, "test_2016_flickr", EN[1:3], DE[1:3])
    _write_parallel(tmp_path, "test_2017_mscoco", EN[3:], DE[3:])
    with caplog.at_level("WARNING"):
        data = load_corpus(tmp_path)
    assert [t["en"] for t in data["test"]["translation"]] == EN[1:3]
    assert "test_2017_mscoco" in caplog.text
    _write_parallel(tmp_path, "test", EN[:1], DE[:1])
    assert [t["en"] for t in load_corpus(tmp_path)["test"]["translation"]] == EN[:1]
