"""Issue 14's probes through the recipes: none passes silently, none ends in a library traceback.

Each test names its probe; docs/training.md lists them with their messages. The generation probes are in
test_generation_checks.py, the sentencepiece one in test_tokenization.py.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from nlpseq.checkpointing import check_resume_checkpoint, checkpoint_problems, last_complete_checkpoint
from nlpseq.errors import (
    CheckpointError,
    ConfigurationError,
    ConfigurationTypeError,
    DataError,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402

FAST = ["--vocab_size", "0", "--tokenizer_kind", "char", "--report_to", "none", "--per_device_train_batch_size", "8",
        "--learning_rate", "1e-2", "--disable_tqdm", "true", "--save_strategy", "no", "--seed", "0",
        "--model_family", "bow", "--config_name", "tiny"]
FRUIT = ["apple", "banana", "cherry"]


def _classification(out, data, *extra):
    return finetune_classification.main([*FAST, "--output_dir", str(out), "--dataset_name", str(data), *extra])


def _csv(path, labels, prefix="row"):
    path.write_text("text,label\n" + "".join(f"{prefix} {i} {label},{label}\n" for i, label in enumerate(labels)))
    return path


def _nothing_written(out: Path) -> bool:
    return not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".nlpseq-run")]


def test_probe_label_ids_are_one_vocabulary_across_splits(tmp_path):
    """Silent 1: 'banana' was 1 in training and 0 in validation, so eval_accuracy scored the wrong ids."""
    _csv(tmp_path / "train.csv", FRUIT * 10)
    _csv(tmp_path / "validation.csv", ["banana", "cherry"] * 5, prefix="held out")
    results = _classification(tmp_path / "run", tmp_path, "--max_steps", "20")
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run").eval()
    assert model.config.id2label == {0: "apple", 1: "banana", 2: "cherry"}
    tok = AutoTokenizer.from_pretrained(tmp_path / "run")
    texts = [f"held out {i} {label}" for i, label in enumerate(["banana", "cherry"] * 5)]
    with torch.no_grad():
        predicted = model(**tok(texts, return_tensors="pt", padding=True)).logits.argmax(-1).numpy()
    expected = np.array([model.config.label2id[label] for label in ["banana", "cherry"] * 5])
    assert results["eval_accuracy"] == pytest.approx(float((predicted == expected).mean()))


def test_probe_a_label_only_in_validation_fails_before_training(tmp_path):
    """Silent 1, second half: IndexError 'Target 3 is out of bounds', after training."""
    _csv(tmp_path / "train.csv", FRUIT * 10)
    _csv(tmp_path / "validation.csv", ["banana", "durian"] * 5)
    with pytest.raises(DataError, match=r"Labels \['durian'\] of the validation split never occur in the train split"):
        _classification(tmp_path / "run", tmp_path, "--max_steps", "2")
    assert _nothing_written(tmp_path / "run")


def test_probe_fractional_labels_are_regression(tmp_path):
    """Silent 2: labels 0.5 / 1.7 / 2.2 became three string classes."""
    _csv(tmp_path / "scores.csv", ["0.5", "1.7", "2.2"] * 10)
    results = _classification(tmp_path / "run", tmp_path / "scores.csv", "--max_steps", "2")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["problem_type"] == "regression" and len(config["id2label"]) == 1
    assert {"eval_mse", "eval_mae"} <= set(results) and "eval_accuracy" not in results


HOLD = """
import sys, time
from nlpseq.run_lock import OutputDirLock
with OutputDirLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def _holder(folder):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_probe_two_runs_on_one_output_dir(tmp_path, caplog):
    """Silent 3: two runs (seeds 7 and 8) on one --output_dir both exited 0, their checkpoints mixed."""
    _csv(tmp_path / "data.csv", FRUIT * 10)
    out = tmp_path / "run"
    holder = _holder(out)
    try:
        with pytest.raises(ConfigurationError, match=f"in use by another run \\(PID {holder.pid} on host "
                                                     f"{socket.gethostname()}"):
            _classification(out, tmp_path / "data.csv", "--max_steps", "2", "--seed", "8")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert _nothing_written(out)
    with caplog.at_level(logging.WARNING, logger="nlpseq.run_lock"):  # the dead holder's lock is taken over
        _classification(out, tmp_path / "data.csv", "--max_steps", "2", "--seed", "7", "--save_strategy", "steps",
                        "--save_steps", "2")
    assert f"took over the lock of PID {holder.pid}" in caplog.text
    with pytest.raises(ConfigurationError, match="already holds a run .*--resume_from_checkpoint last to continue it, "
                                                 "--overwrite_output_dir to start over"):
        _classification(out, tmp_path / "data.csv", "--max_steps", "2", "--seed", "8")
    with caplog.at_level(logging.WARNING, logger="nlpseq.run_lock"):
        _classification(out, tmp_path / "data.csv", "--max_steps", "1", "--seed", "8", "--overwrite_output_dir",
                        "true")
    assert "deleted" in caplog.text and "checkpoint-2" in caplog.text
    assert not (out / "checkpoint-2").exists()  # nothing of the seed-7 run is left to resume
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 1


@pytest.mark.parametrize("flags, message", [
    (["--max_steps", "0"], r"--max_steps 0 is not allowed: pass a positive number of optimizer steps, or -1"),
    (["--max_steps", "-5"], r"--max_steps -5 is not allowed"),
    (["--per_device_train_batch_size", "0"], r"--per_device_train_batch_size 0 is not allowed: pass an integer >= 1"),
    (["--learning_rate", "nan"], r"--learning_rate nan is not allowed: pass a finite number > 0"),
    (["--learning_rate=-1e-3"], r"--learning_rate -0.001 is not allowed"),
    (["--num_train_epochs", "0"], r"--num_train_epochs 0.0 is not allowed"),
    (["--block_size", "1"], r"--block_size 1 is not allowed"),
    (["--config_overrides", "hidden_size=abc"], r"--config_overrides hidden_size expects an int, got 'abc'"),
    (["--config_overrides", "hidden_size=30"], r"hidden_size=30 is not divisible by num_attention_heads=4"),
    (["--max_length", "300", "--config_overrides", "position_embedding_type=learned"], None),
    (["--tokenizer_name", "/no/such/tokenizer"], r"--tokenizer_name /no/such/tokenizer is not a local folder"),
])
def test_probe_arguments_are_checked_before_any_data_work(tmp_path, monkeypatch, flags, message):
    """Silent 4 and the raw torch errors: checked before the data is even loaded."""
    monkeypatch.setattr(finetune_classification, "load_data", lambda *a: pytest.fail("the data was loaded"))
    expected = ConfigurationTypeError if "abc" in " ".join(flags) else ConfigurationError
    message = message or r"--max_length 300 is longer than the model's 256 positions"
    with pytest.raises(expected, match=message):
        finetune_classification.main([*FAST, "--output_dir", str(tmp_path / "run"), "--model_family", "decoder",
                                      *flags])
    assert _nothing_written(tmp_path / "run")


def test_probe_output_dir_that_is_a_file_or_read_only(tmp_path, monkeypatch):
    file = tmp_path / "results.txt"
    file.write_text("not a folder")
    with pytest.raises(ConfigurationError, match=f"--output_dir {file} is a file, not a folder"):
        pretrain_clm.main([*FAST, "--model_family", "decoder", "--output_dir", str(file)])
    with pytest.raises(ConfigurationError, match=f"--output_dir {file}/run cannot be created: {file} is a file"):
        pretrain_clm.main([*FAST, "--model_family", "decoder", "--output_dir", str(file / "run")])

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(ConfigurationError, match="is not writable \\(Read-only file system in .*\\); pass a folder"):
        pretrain_clm.main([*FAST, "--model_family", "decoder", "--output_dir", str(tmp_path / "ro" / "run")])
    assert not (tmp_path / "ro").exists()


def test_probe_rows_without_a_label_or_a_target_language(tmp_path):
    """Missing class labels failed with transformers' 'excessive nesting'; a translation row without 'de' with
    KeyError: 'de' (training.py:246)."""
    (tmp_path / "labels.csv").write_text("text,label\n" + "".join(
        f"row {i},{'' if i in (4, 9) else FRUIT[i % 3]}\n" for i in range(30)))
    with pytest.raises(DataError, match=r"column 'label' is missing in 2 row\(s\)"):
        _classification(tmp_path / "cls", tmp_path / "labels.csv", "--max_steps", "2")
    rows = [{"translation": {"en": f"one {i}", **({"de": f"eins {i}"} if i % 5 else {})}} for i in range(30)]
    (tmp_path / "pairs.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"translation\['de'\] is missing or not text in \d+ row\(s\)"):
        finetune_translation.main([*FAST, "--model_family", "recurrent-seq2seq", "--dataset_name",
                                   str(tmp_path / "pairs.jsonl"), "--output_dir", str(tmp_path / "mt")])
    assert _nothing_written(tmp_path / "mt") and _nothing_written(tmp_path / "cls")


def _checkpoint(folder: Path, step: int, state: bool = True) -> Path:
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    save_file({"w": torch.zeros(64)}, str(path / "model.safetensors"))
    if state:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_probe_resume_skips_and_names_a_truncated_checkpoint(tmp_path, caplog):
    """'last' chose a checkpoint whose model.safetensors was truncated: SafetensorError, naming no file."""
    good, broken = _checkpoint(tmp_path, 10), _checkpoint(tmp_path, 20)
    _checkpoint(tmp_path, 30, state=False)  # killed while saving
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with caplog.at_level(logging.WARNING, logger="nlpseq.checkpointing"):
        assert last_complete_checkpoint(tmp_path) == str(good)
    assert "checkpoint-30 for --resume_from_checkpoint last: trainer_state.json is missing" in caplog.text
    assert "checkpoint-20 for --resume_from_checkpoint last: model.safetensors is truncated: its header " \
           "describes" in caplog.text
    with pytest.raises(CheckpointError, match=f"Checkpoint {broken} cannot be resumed: model.safetensors is "
                                              "truncated.*Resume from an earlier checkpoint"):
        check_resume_checkpoint(str(broken))
    (good / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    assert checkpoint_problems(good) == ["model.safetensors has a damaged header (not the JSON safetensors writes)"]
    with pytest.raises(CheckpointError, match="model.safetensors is truncated"):  # before any data work
        pretrain_clm.main([*FAST, "--model_family", "decoder", "--output_dir", str(tmp_path),
                           "--resume_from_checkpoint", str(broken)])


def test_fine_tuning_a_classifier_keeps_its_label_ids(tmp_path):
    """Build item: a checkpoint's label2id is reused, so ids keep their meaning though the new data lacks a class."""
    _csv(tmp_path / "first.csv", FRUIT * 10)
    _classification(tmp_path / "first", tmp_path / "first.csv", "--max_steps", "2")
    _csv(tmp_path / "second.csv", ["banana", "cherry"] * 15)
    _classification(tmp_path / "second", tmp_path / "second.csv", "--max_steps", "2", "--model_name_or_path",
                    str(tmp_path / "first"))
    config = json.loads((tmp_path / "second" / "config.json").read_text())
    assert config["label2id"] == {"apple": 0, "banana": 1, "cherry": 2}
    _csv(tmp_path / "third.csv", ["banana", "durian"] * 15)
    with pytest.raises(DataError, match=r"Labels \['durian'\] of the train split are not among the labels of the "
                                        f"checkpoint '{tmp_path / 'first'}'"):
        _classification(tmp_path / "third", tmp_path / "third.csv", "--max_steps", "2", "--model_name_or_path",
                        str(tmp_path / "first"))


def test_probe_two_recipe_processes_at_once(tmp_path):
    """Silent 3 as reported: two processes, seeds 7 and 8, one --output_dir; exactly one may write it."""
    _csv(tmp_path / "data.csv", FRUIT * 10)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    runs = [subprocess.Popen([sys.executable, str(ROOT / "recipes" / "finetune_classification.py"), *FAST,
                              "--dataset_name", str(tmp_path / "data.csv"), "--output_dir", str(tmp_path / "run"),
                              "--max_steps", "2", "--seed", seed], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True) for seed in ("7", "8")]
    outcomes = [(run.wait(), run.stderr.read()) for run in runs]
    assert sorted(code == 0 for code, _ in outcomes) == [False, True]
    refused = next(err for code, err in outcomes if code)
    assert "ConfigurationError" in refused and ("is in use by another run (PID" in refused
                                                 or "already holds a run" in refused)
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and not list((tmp_path / "run").glob("checkpoint-*"))
