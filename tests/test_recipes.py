"""The recipes end to end on tiny configs: results files, loadable models, resume after SIGKILL, DDP == 1 process."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402
import pretrain_mlm  # noqa: E402

COMMON = ["--max_train_samples", "200", "--max_eval_samples", "40", "--vocab_size", "400", "--report_to", "none",
          "--per_device_train_batch_size", "8", "--per_device_eval_batch_size", "16", "--learning_rate", "2e-3",
          "--disable_tqdm", "true", "--save_strategy", "no", "--seed", "0"]
NO_DROPOUT = "hidden_dropout_prob=0,attention_probs_dropout_prob=0"


def _run(module, out, *extra):
    return module.main([*COMMON, "--output_dir", str(out), *extra])


@pytest.fixture(scope="module")
def mlm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlm")
    results = _run(pretrain_mlm, out, "--model_family", "encoder", "--max_steps", "6", "--block_size", "32")
    return out, results


def test_pretrain_clm_writes_results_and_a_loadable_model(tmp_path):
    results = _run(pretrain_clm, tmp_path, "--model_family", "decoder", "--max_steps", "6", "--block_size", "32")
    saved = json.loads((tmp_path / "all_results.json").read_text())
    assert {"train_loss", "eval_loss", "eval_perplexity"} <= set(saved)
    assert saved["eval_perplexity"] == pytest.approx(float(torch.tensor(saved["eval_loss"]).exp()), rel=1e-4)
    assert saved == pytest.approx(results)
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert model.config.vocab_size == 400
    assert (tmp_path / "README.md").read_text().startswith("---")
    assert (tmp_path / "model.safetensors").is_file() and not list(tmp_path.glob("pytorch_model*"))


def test_pretrain_mlm(mlm_run):
    out, results = mlm_run
    assert {"train_loss", "eval_loss", "eval_perplexity"} <= set(json.loads((out / "all_results.json").read_text()))
    assert results["eval_loss"] < 7  # ln(400) = 6.0 at chance; a few steps keep it near there


def test_finetune_classification_from_pretrained_checkpoint(mlm_run, tmp_path):
    mlm_dir, _ = mlm_run
    results = _run(finetune_classification, tmp_path, "--model_family", "encoder",
                   "--model_name_or_path", str(mlm_dir), "--max_steps", "6")
    assert {"eval_accuracy", "eval_f1", "test_accuracy", "test_f1"} <= set(results)
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert model.config.id2label[0] == "concurrency" and model.config.num_labels == 7
    # the encoder came from the MLM checkpoint: after 6 small steps its embeddings are still the pretrained ones
    pretrained = AutoModelForMaskedLM.from_pretrained(mlm_dir).get_input_embeddings().weight.detach()
    tuned = model.get_input_embeddings().weight.detach()
    assert torch.corrcoef(torch.stack([tuned.flatten(), pretrained.flatten()]))[0, 1] > 0.9


@pytest.mark.parametrize("family", ["bow", "recurrent", "decoder"])
def test_finetune_classification_from_scratch(family, tmp_path):
    results = _run(finetune_classification, tmp_path, "--model_family", family, "--max_steps", "4",
                   "--max_length", "64")
    assert {"train_loss", "eval_loss", "eval_accuracy", "eval_f1", "test_accuracy"} <= set(results)
    assert 0 <= results["eval_accuracy"] <= 1
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert model.config.model_type == f"nlpseq-{family}" and model.config.num_labels == 7


@pytest.mark.parametrize("family", ["recurrent-seq2seq", "transformer-seq2seq"])
def test_finetune_translation(family, tmp_path):
    results = _run(finetune_translation, tmp_path, "--model_family", family, "--dataset_name", "number-translation",
                   "--tokenizer_kind", "char", "--vocab_size", "0", "--max_steps", "4", "--max_length", "64",
                   "--predict_with_generate", "true", "--generation_max_length", "24")
    assert {"train_loss", "eval_loss", "eval_bleu", "eval_chrf", "eval_exact_match", "test_bleu"} <= set(results)
    model = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert model.config.model_type == f"nlpseq-{family}"
    assert model.config.decoder_start_token_id == tok.bos_token_id
    out = model.generate(**tok(["forty-two"], return_tensors="pt"), max_new_tokens=5)
    assert out.shape[0] == 1 and out[0, 0] == tok.bos_token_id


def test_tokenizer_cli(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "tokenizer"))
    import train_tokenizer as cli

    cli.main(["--corpus", "number-translation", "--kind", "char", "--vocab_size", "0", "--preset", "seq2seq",
              "--min_frequency", "1", "--output_dir", str(tmp_path)])
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert "ß" in tok.get_vocab() and "w" in tok.get_vocab()  # both languages of the translation column
    assert f"of {len(tok)} tokens" in capsys.readouterr().out


@pytest.mark.parametrize(
    "module, args, error, match",
    [
        (pretrain_clm, ["--model_family", "transformer"], ValueError, "Unknown model family"),
        (pretrain_mlm, ["--model_family", "decoder"], ValueError, "has no mlm head"),
        (pretrain_clm, ["--config_overrides", "vocab_size=999"], ValueError, "does not match the tokenizer"),
        (finetune_classification, ["--label_column", "topic"], ValueError, r"needs column\(s\) \['topic'\]"),
        (pretrain_clm, ["--resume_from_checkpoint", "/no/such/checkpoint-5"], FileNotFoundError, "does not exist"),
        (pretrain_clm, ["--block_size", "100000"], ValueError, "longer than the model's"),
    ],
)
def test_bad_input_fails_before_training(tmp_path, module, args, error, match):
    with pytest.raises(error, match=match):
        _run(module, tmp_path, "--max_steps", "2", *args)
    assert not (tmp_path / "model.safetensors").exists()


def _recipe_cmd(out, *extra, launcher=(sys.executable,)):
    return [*launcher, str(ROOT / "recipes" / "pretrain_clm.py"), *COMMON, "--output_dir", str(out),
            "--model_family", "decoder", "--block_size", "32", "--config_overrides", NO_DROPOUT, *extra]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    steps = ["--max_steps", "40", "--save_strategy", "steps", "--save_steps", "10", "--lr_scheduler_type", "cosine"]
    subprocess.run(_recipe_cmd(tmp_path / "full", *steps), env=_env(), check=True, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_recipe_cmd(killed, *steps), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    while not (killed / "checkpoint-10" / "trainer_state.json").exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "all_results.json").exists()  # it really died mid-training

    subprocess.run(_recipe_cmd(killed, *steps, "--resume_from_checkpoint", "last"), env=_env(), check=True,
                   capture_output=True)
    full, resumed = load_file(tmp_path / "full" / "model.safetensors"), load_file(killed / "model.safetensors")
    assert full.keys() == resumed.keys()
    for name in full:
        torch.testing.assert_close(resumed[name], full[name], atol=1e-5, rtol=1e-4)


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    steps = ["--max_steps", "5", "--logging_steps", "1", "--learning_rate", "1e-2"]
    single = _recipe_cmd(tmp_path / "one", *steps)
    single[single.index("--per_device_train_batch_size") + 1] = "8"
    subprocess.run(single, env=_env(), check=True, capture_output=True)
    torchrun = (sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517")
    double = _recipe_cmd(tmp_path / "two", *steps, "--ddp_find_unused_parameters", "false", launcher=torchrun)
    double[double.index("--per_device_train_batch_size") + 1] = "4"
    subprocess.run(double, env=_env(), check=True, capture_output=True)

    def losses(run):
        state = json.loads((tmp_path / run / "trainer_state.json").read_text())
        return [h["loss"] for h in state["log_history"] if "loss" in h]

    one, two = load_file(tmp_path / "one" / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    for name in one:
        # half the rows per process changes float summation order (and whether Q/K/V run as one matmul); Adam at
        # lr 1e-2 turns that into parameter differences of ~1e-5, 0.1 % of one step's update
        torch.testing.assert_close(two[name], one[name], atol=5e-5, rtol=1e-4)
    res_one = json.loads((tmp_path / "one" / "all_results.json").read_text())
    res_two = json.loads((tmp_path / "two" / "all_results.json").read_text())
    assert res_two["train_loss"] == pytest.approx(res_one["train_loss"], rel=1e-4)
    assert len(losses("one")) == 5
    assert losses("two") == pytest.approx(losses("one"), rel=1e-4)


FRESH_LOAD = """
import sys, torch
sys.modules["nlpseq"] = None  # nlpseq must not be importable: only the folder's own source files may be used
from transformers import AutoModelForCausalLM, AutoTokenizer
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
tok = AutoTokenizer.from_pretrained(sys.argv[1], trust_remote_code=True)
ids = tok(["Return the number of items", "Open a file"], return_tensors="pt", padding=True)
with torch.no_grad():
    torch.save(model(**ids).logits, sys.argv[2])
print(type(model).__module__)
"""


def test_share_model_folder_loads_without_nlpseq(tmp_path):
    import share_model

    run = tmp_path / "run"
    _run(pretrain_clm, run, "--model_family", "decoder", "--max_steps", "2", "--block_size", "32")
    folder = share_model.main(["--run_dir", str(run), "--output_dir", str(tmp_path / "hub"),
                               "--dataset_name", "stdlib-docs"])
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md", "modeling_decoder.py",
            "configuration_decoder.py"} <= names
    config = json.loads((folder / "config.json").read_text())
    assert config["auto_map"]["AutoModelForCausalLM"] == "modeling_decoder.DecoderForCausalLM"
    card = (folder / "README.md").read_text()
    assert "trust_remote_code=True" in card and "eval_loss" in card and "stdlib-docs" in card

    out = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(folder), str(tmp_path / "logits.pt")],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("transformers_modules.")  # the copied code, not nlpseq
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok(["Return the number of items", "Open a file"], return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = AutoModelForCausalLM.from_pretrained(run).eval()(**ids).logits
    assert torch.equal(torch.load(tmp_path / "logits.pt"), expected)
