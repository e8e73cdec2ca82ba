"""Recipes that behave like transformers' examples/pytorch scripts: switches, result files, data flags and their
aliases, --max_*_samples, dataset folders, defaults and early refusals, and --push_to_hub through the share export."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict
from test_recipes import ROOT, _env, _run
from transformers import GenerationConfig, Seq2SeqTrainingArguments, TrainingArguments

import nlpseq.hub
import nlpseq.training
from nlpseq import load_corpus
from nlpseq.errors import ConfigurationError
from nlpseq.training import DataArguments, ModelArguments, check_arguments, parse_args

sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402
import share_model  # noqa: E402

CLM = ["--model_family", "decoder", "--block_size", "32"]


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_a_default_run_writes_every_result_file_and_the_predictions(tmp_path):
    results = _run(finetune_classification, tmp_path, "--model_family", "recurrent", "--max_steps", "2",
                   "--max_predict_samples", "30")
    train, evaluation = _json(tmp_path / "train_results.json"), _json(tmp_path / "eval_results.json")
    predict = _json(tmp_path / "predict_results.json")
    assert train["train_samples"] == 200 and "train_runtime" in train  # COMMON's --max_train_samples: rows
    assert evaluation["eval_samples"] == 40 and "eval_accuracy" in evaluation
    assert predict["predict_samples"] == 30 and "predict_accuracy" in predict
    assert _json(tmp_path / "all_results.json") == {**train, **evaluation, **predict} == pytest.approx(results)

    lines = (tmp_path / "predict_results.txt").read_text().splitlines()
    assert lines[0] == "index\tprediction" and [line.split("\t")[0] for line in lines[1:]] == list(map(str, range(30)))
    test = load_corpus("stdlib-docs")["test"].select(range(30))
    gold = [test.features["label"].int2str(label) for label in test["label"]]
    predicted = [line.split("\t")[1] for line in lines[1:]]
    assert sum(p == g for p, g in zip(predicted, gold)) / 30 == pytest.approx(predict["predict_accuracy"])


@pytest.fixture(scope="module")
def trained_clm(tmp_path_factory) -> str:
    """A decoder trained for 2 steps: what --do_eval / --do_predict without --do_train score."""
    out = tmp_path_factory.mktemp("trained-clm")
    _run(pretrain_clm, out, *CLM, "--max_steps", "2")
    return str(out)


def test_do_train_false_with_do_eval_trains_nothing(tmp_path, trained_clm):
    results = _run(pretrain_clm, tmp_path, *CLM, "--max_steps", "2", "--do_train", "false", "--do_eval",
                   "--model_name_or_path", trained_clm)
    assert "train_runtime" not in results and "eval_loss" in results
    assert sorted(p.name for p in tmp_path.glob("*_results.json")) == ["all_results.json", "eval_results.json"]
    assert not (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("checkpoint-*"))


def test_do_predict_alone_scores_the_test_split(tmp_path, trained_clm):
    results = _run(pretrain_clm, tmp_path, *CLM, "--max_steps", "2", "--do_predict", "--max_predict_samples", "5",
                   "--model_name_or_path", trained_clm)
    assert set(results) >= {"predict_loss", "predict_perplexity"} and results["predict_samples"] == 5
    assert not any(k.startswith(("train_", "eval_")) for k in results)


def test_max_train_samples_counts_blocks_for_language_models(tmp_path):
    _run(pretrain_clm, tmp_path, *CLM, "--max_steps", "1", "--max_train_samples", "7", "--max_eval_samples", "3")
    assert _json(tmp_path / "train_results.json")["train_samples"] == 7  # blocks of 32 tokens, as run_clm.py
    assert _json(tmp_path / "eval_results.json")["eval_samples"] == 3


def _news(path: Path, start: int, n: int) -> str:
    topics = ("sport", "finance")
    path.write_text("headline,topic\n" + "".join(f"story {i} about the {topics[i % 2]} desk,{topics[i % 2]}\n"
                                                 for i in range(start, start + n)))
    return str(path)


def test_train_validation_and_test_files_with_the_examples_column_flags(tmp_path):
    files = ["--train_file", _news(tmp_path / "news_train.csv", 0, 60),
             "--validation_file", _news(tmp_path / "news_val.csv", 60, 10),
             "--test_file", _news(tmp_path / "news_test.csv", 70, 12)]
    results = _run(finetune_classification, tmp_path / "run", "--model_family", "bow", "--max_steps", "2",
                   "--tokenizer_kind", "word", "--vocab_size", "0", "--text_column_name", "headline",
                   "--label_column_name", "topic", "--max_seq_length", "16", *files)
    assert (results["train_samples"], results["eval_samples"], results["predict_samples"]) == (60, 10, 12)
    assert len((tmp_path / "run" / "predict_results.txt").read_text().splitlines()) == 13
    assert "local data `news_train.csv`" in (tmp_path / "run" / "README.md").read_text()


def test_an_unlabelled_test_file_is_predicted_not_scored(tmp_path):
    (tmp_path / "news_test.csv").write_text("headline\n" + "".join(f"story {i} about the desk\n" for i in range(9)))
    results = _run(finetune_classification, tmp_path / "run", "--model_family", "bow", "--max_steps", "2",
                   "--tokenizer_kind", "word", "--vocab_size", "0", "--text_column", "headline", "--label_column",
                   "topic", "--train_file", _news(tmp_path / "news_train.csv", 0, 40),
                   "--test_file", str(tmp_path / "news_test.csv"))
    assert results["predict_samples"] == 9 and "predict_accuracy" not in results
    lines = (tmp_path / "run" / "predict_results.txt").read_text().splitlines()[1:]
    assert len(lines) == 9 and {line.split("\t")[1] for line in lines} <= {"sport", "finance"}


def _csv(path: Path, header: str, rows: list[str]) -> str:
    path.write_text(header + "\n" + "".join(f"{row}\n" for row in rows))
    return str(path)


def test_without_column_flags_the_examples_columns_are_taken(tmp_path, capsys):
    """No --text_column: run_classification.py's "sentence" (string labels), run_glue.py's single non-label column,
    run_clm.py's first column, each said in one line. A column named on the command line is never swapped."""
    topics = ("sport", "finance")
    rows = [f"story {i} about the {topics[i % 2]} desk,{topics[i % 2]}" for i in range(60)]
    sentence = ["--train_file", _csv(tmp_path / "s.csv", "sentence,label", rows)]
    bow = ["--model_family", "bow", "--max_steps", "2", "--tokenizer_kind", "word", "--vocab_size", "0"]
    results = _run(finetune_classification, tmp_path / "sentence", *bow, *sentence)
    assert results["train_samples"] == 54 and "--text_column sentence (as the transformers examples" in \
        capsys.readouterr().out
    _run(finetune_classification, tmp_path / "only", *bow, "--train_file", _csv(tmp_path / "h.csv", "headline,label",
                                                                               rows))
    assert "--text_column headline" in capsys.readouterr().out
    lines = [f"line {i} of some text to model,{i}" for i in range(80)]
    _run(pretrain_clm, tmp_path / "clm", *CLM, "--max_steps", "2", "--tokenizer_kind", "word", "--vocab_size", "0",
         "--train_file", _csv(tmp_path / "c.csv", "content,id", lines))
    assert "--text_column content" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"needs column\(s\) \['body'\]"):
        _run(finetune_classification, tmp_path / "named", *bow, "--text_column", "body", *sentence)


@pytest.mark.parametrize("task, argv, field, value", [
    ("clm", ["--max_seq_length", "48"], "block_size", 48),
    ("mlm", ["--max_seq_length", "48"], "block_size", 48),
    ("classification", ["--max_seq_length", "48"], "max_length", 48),
    ("classification", ["--validation_split_percentage", "5"], "validation_fraction", 0.05),
    ("classification", ["--label_column_name", "stars"], "label_column", "stars"),
    ("token-classification", ["--text_column_name", "words"], "text_column", "words"),
])
def test_the_examples_names_are_aliases(task, argv, field, value):
    _, data_args, _ = parse_args(ModelArguments, DataArguments, TrainingArguments, argv=[*argv, "--output_dir", "x"],
                                 task=task)
    assert getattr(data_args, field) == value


def test_an_alias_and_its_flag_that_disagree_are_refused():
    with pytest.raises(ConfigurationError, match="--max_seq_length 48 and --block_size 64 disagree"):
        parse_args(ModelArguments, DataArguments, TrainingArguments, task="clm",
                   argv=["--max_seq_length", "48", "--block_size", "64", "--output_dir", "x"])


@pytest.mark.parametrize("task, family", [("translation", "transformer-seq2seq"), ("mlm", "encoder"),
                                          ("clm", "decoder"), ("token-classification", "encoder")])
def test_each_recipe_defaults_to_a_family_that_has_its_head(task, family, tmp_path):
    model_args, data_args, args = parse_args(ModelArguments, DataArguments, Seq2SeqTrainingArguments, task=task,
                                             argv=["--output_dir", str(tmp_path)])
    assert model_args.model_family == family
    assert args.do_train and args.do_eval and args.do_predict  # no switch given: all three
    check_arguments(model_args, args, task, data_args)  # no "Family 'decoder' has no translation head"


def _no_data_work(*args, **kwargs):
    raise AssertionError("data work started before the arguments were refused")


@pytest.mark.parametrize("module, args, match", [
    (pretrain_clm, ["--model_family", "recurrent", "--gradient_checkpointing", "true"],
     "RecurrentForCausalLM does not support it"),
    (finetune_classification, ["--model_family", "bow", "--gradient_checkpointing", "true"], "does not support it"),
    (finetune_translation, ["--model_family", "recurrent-seq2seq", "--generation_config", "GENERATION"],
     "cache_implementation='static' cannot apply"),
    (pretrain_clm, ["--do_train", "false", "--do_eval", "false"], "nothing to do"),
    (pretrain_clm, ["--do_eval", "--push_to_hub", "true"], "--push_to_hub uploads the model this run trains"),
    (pretrain_clm, ["--do_train", "false", "--do_eval"], "would score a model that was never trained"),
    (finetune_classification, ["--do_predict"], "would score a model that was never trained"),
    (pretrain_clm, ["--train_file", "no/such/train.txt"], "--train_file no/such/train.txt does not exist"),
    (pretrain_clm, ["--validation_file", "VALID"], "need a --train_file"),
])
def test_refusals_before_any_data_work(module, args, match, tmp_path, monkeypatch):
    GenerationConfig(cache_implementation="static").save_pretrained(tmp_path / "generation")
    (tmp_path / "valid.txt").write_text("some text\n")
    swap = {"GENERATION": str(tmp_path / "generation"), "VALID": str(tmp_path / "valid.txt")}
    monkeypatch.setattr(nlpseq.training, "load_corpus", _no_data_work)
    monkeypatch.setattr(nlpseq.training, "load_stream", _no_data_work)
    with pytest.raises(ConfigurationError, match=match):
        _run(module, tmp_path / "run", "--max_steps", "2", *[swap.get(a, a) for a in args])


def test_dataset_folders_that_datasets_reads(tmp_path):
    splits = DatasetDict(train=Dataset.from_dict({"text": [f"row {i}" for i in range(20)]}),
                         test=Dataset.from_dict({"text": ["first test row", "second test row"]}))
    splits.save_to_disk(tmp_path / "saved")
    splits["train"].save_to_disk(tmp_path / "one-split")
    (tmp_path / "hub" / "data").mkdir(parents=True)
    for split, ds in splits.items():
        ds.to_parquet(tmp_path / "hub" / "data" / f"{split}-00000-of-00001.parquet")
    for folder in ("saved", "hub"):
        data = load_corpus(tmp_path / folder)
        assert list(data["test"]["text"]) == ["first test row", "second test row"]
        assert sorted([*data["train"]["text"], *data["validation"]["text"]]) == sorted(splits["train"]["text"])
    assert len(load_corpus(tmp_path / "one-split", validation_fraction=0.25)["train"]) == 15


def test_keep_linebreaks_keeps_each_lines_newline(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("one line\n\nanother line\nlast line\n")
    assert load_corpus({"train": path, "validation": path}, keep_linebreaks=True)["train"]["text"] == \
        ["one line\n", "another line\n", "last line\n"]
    assert load_corpus({"train": path, "validation": path})["train"]["text"] == ["one line", "another line",
                                                                                 "last line"]


def test_push_to_hub_uploads_the_share_model_export(tmp_path, monkeypatch):
    received = {}

    def fake_push(folder, repo_id, private=False, token=None):
        received.update(repo_id=repo_id, private=private, calls=received.get("calls", 0) + 1,
                        files={p.name: p.read_bytes() for p in Path(folder).iterdir()})
        return f"https://huggingface.co/{repo_id}"

    monkeypatch.setattr(nlpseq.hub, "push_folder", fake_push)
    run = tmp_path / "run"
    _run(pretrain_clm, run, *CLM, "--max_steps", "1", "--push_to_hub", "true", "--hub_model_id", "someone/tiny-gpt",
         "--hub_private_repo", "true")
    exported = share_model.main(["--run_dir", str(run), "--output_dir", str(tmp_path / "hub"),
                                 "--hub_model_id", "someone/tiny-gpt"])
    assert (received["repo_id"], received["private"]) == ("someone/tiny-gpt", True)
    files = received["files"]
    assert files == {p.name: p.read_bytes() for p in exported.iterdir()}  # exactly share_model.py's folder
    assert {"README.md", "all_results.json", "model.safetensors", "modeling_decoder.py",
            "configuration_decoder.py"} <= set(files)
    assert json.loads(files["all_results.json"]) == _json(run / "all_results.json")
    config = json.loads(files["config.json"])
    assert config["auto_map"] == {"AutoConfig": "configuration_decoder.DecoderConfig",
                                  "AutoModel": "modeling_decoder.DecoderModel",
                                  "AutoModelForCausalLM": "modeling_decoder.DecoderForCausalLM",
                                  "AutoModelForSequenceClassification":
                                      "modeling_decoder.DecoderForSequenceClassification"}
    local = {"is_local", "local_files_only", "_name_or_path", "name_or_path"}
    assert not local & set(config) and not local & set(json.loads(files["tokenizer_config.json"]))
    card = files["README.md"].decode()
    assert "nlpseq" in card and "fine-tuned version of" not in card
    assert received["calls"] == 1  # one upload, at the end: the Trainer pushed nothing by itself


FRESH_HEADS = """
import sys
sys.modules["nlpseq"] = None  # only the folder's own source files may be used
from transformers import AutoModel, AutoModelForSequenceClassification
base = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)
head = AutoModelForSequenceClassification.from_pretrained(sys.argv[1], trust_remote_code=True, num_labels=3)
print(type(base).__name__, type(head).__name__, head.config.num_labels)
"""


def test_every_head_of_an_export_loads_without_nlpseq(tmp_path):
    run = tmp_path / "run"
    _run(pretrain_clm, run, *CLM, "--max_steps", "1")
    folder = share_model.main(["--run_dir", str(run), "--output_dir", str(tmp_path / "hub")])
    out = subprocess.run([sys.executable, "-c", FRESH_HEADS, str(folder)], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["DecoderModel", "DecoderForSequenceClassification", "3"]
