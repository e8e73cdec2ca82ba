"""The recipes end to end on tiny configs: results files, loadable models, resume after SIGKILL, DDP == 1 process."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from safetensors.torch import load_file
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    TrainerCallback,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402
import pretrain_mlm  # noqa: E402

from benchmarks.training_defaults import uniform_loss  # noqa: E402  (ln of the outcomes: the acceptance matrix's chance)

COMMON = ["--max_train_samples", "200", "--max_eval_samples", "40", "--max_predict_samples", "40",
          "--vocab_size", "400", "--report_to", "none", "--per_device_train_batch_size", "8",
          "--per_device_eval_batch_size", "16", "--learning_rate", "2e-3",
          "--disable_tqdm", "true", "--save_strategy", "no", "--seed", "0"]
NO_DROPOUT = "hidden_dropout_prob=0,attention_probs_dropout_prob=0"


def _run(module, out, *extra, common=COMMON):
    return module.main([*common, "--output_dir", str(out), *extra])


def _without(flags: list[str], *names: str) -> list[str]:
    """``flags`` (pairs of --name value) less the ``names``: the recipe then takes those from the size preset."""
    return [item for flag, value in zip(flags[::2], flags[1::2]) if flag not in names for item in (flag, value)]


@pytest.fixture(scope="module")
def mlm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlm")
    results = _run(pretrain_mlm, out, "--model_family", "encoder", "--max_steps", "60", "--block_size", "32")
    return out, results


@pytest.fixture(scope="module")
def clm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clm")
    return out, _run(pretrain_clm, out, "--model_family", "decoder", "--max_steps", "2", "--block_size", "32")


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
    # chance is the uniform guess over the 400 tokens, ln(400) = 5.99; 6 steps reached 5.82, 60 go well below
    assert results["eval_loss"] < uniform_loss(pretrain_mlm, out) - 0.3, results


def test_finetune_classification_from_pretrained_checkpoint(mlm_run, tmp_path):
    mlm_dir, _ = mlm_run
    results = _run(finetune_classification, tmp_path, "--model_family", "encoder",
                   "--model_name_or_path", str(mlm_dir), "--max_steps", "6")
    assert {"eval_accuracy", "eval_f1", "predict_accuracy", "predict_f1"} <= set(results)
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert model.config.id2label[0] == "concurrency" and model.config.num_labels == 7
    # the encoder came from the MLM checkpoint: after 6 small steps its embeddings are still the pretrained ones
    pretrained = AutoModelForMaskedLM.from_pretrained(mlm_dir).get_input_embeddings().weight.detach()
    tuned = model.get_input_embeddings().weight.detach()
    assert torch.corrcoef(torch.stack([tuned.flatten(), pretrained.flatten()]))[0, 1] > 0.9


@pytest.mark.parametrize("family", ["bow", "recurrent", "encoder", "decoder", "ssm"])
def test_finetune_classification_from_scratch(family, tmp_path):
    """100 steps of 8 rows (4 epochs of COMMON's 200) at the family's preset learning rate (bow's is 0.05, 25x
    COMMON's): the 40 validation rows are scored clearly better than chance."""
    results = _run(finetune_classification, tmp_path, "--model_family", family, "--max_steps", "100",
                   "--max_length", "64", common=_without(COMMON, "--learning_rate"))
    assert {"train_loss", "eval_loss", "eval_accuracy", "eval_f1", "predict_accuracy"} <= set(results)
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert model.config.model_type == f"nlpseq-{family}" and model.config.num_labels == 7
    # chance: the uniform guess over the 7 topics, ln(7) = 1.95 (4 steps at COMMON's 2e-3 reached 1.78-1.94), and
    # one topic in 7 right by guessing
    assert results["eval_loss"] < uniform_loss(finetune_classification, tmp_path) - 0.1, results
    assert results["eval_accuracy"] > 1 / model.config.num_labels, results


def test_finetune_classification_from_a_pretrained_decoder(clm_run, tmp_path):
    clm_dir, _ = clm_run
    results = _run(finetune_classification, tmp_path, "--model_family", "decoder", "--model_name_or_path",
                   str(clm_dir), "--max_steps", "1", "--learning_rate", "1e-9")
    assert {"eval_accuracy", "eval_f1"} <= set(results)
    pretrained, tuned = load_file(clm_dir / "model.safetensors"), load_file(tmp_path / "model.safetensors")
    shared = [k for k in pretrained if k in tuned]
    assert len(shared) >= len(pretrained) - 1  # every body weight (all but the LM head) came over ...
    for name in shared:  # ... unchanged by one step at lr 1e-9
        torch.testing.assert_close(tuned[name], pretrained[name], atol=1e-6, rtol=0)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_one_file_of_arguments_with_config_overrides(suffix, tmp_path):
    """A recurrent LM from a JSON/YAML file of every argument, its size changed by --config_overrides."""
    import yaml

    flags = dict(zip(COMMON[::2], COMMON[1::2]))
    args = {k.lstrip("-"): json.loads(v) if v[0].isdigit() or v == "true" else v for k, v in flags.items()} | {
        "model_family": "recurrent", "config_overrides": "cell=gru,hidden_size=24,num_hidden_layers=2",
        "output_dir": str(tmp_path / "run"), "max_steps": 2, "block_size": 32, "disable_tqdm": True}
    file = tmp_path / f"args{suffix}"
    # in YAML a bare `no` is the boolean false; for save_strategy the word was meant
    file.write_text(json.dumps(args) if suffix == ".json" else yaml.safe_dump(args).replace("'no'", "no"))
    results = pretrain_clm.main([str(file)])
    assert {"train_loss", "eval_loss", "eval_perplexity"} <= set(results)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "run")
    assert (model.config.model_type, model.config.cell, model.config.hidden_size,
            model.config.num_hidden_layers) == ("nlpseq-recurrent", "gru", 24, 2)
    assert model.config.vocab_size == 400  # from the file's vocab_size


def test_without_vocab_size_a_small_corpus_gets_the_tokens_it_supports(tmp_path, capsys):
    """No --vocab_size: a subword tokenizer of at most DEFAULT_VOCAB_SIZE (4000), fewer when the text is small,
    said in one line; the char kind takes every character. A --vocab_size the text cannot give stays an error."""
    from nlpseq.training import DEFAULT_VOCAB_SIZE

    small = _without(COMMON, "--vocab_size")
    _run(finetune_classification, tmp_path / "bpe", "--model_family", "bow", "--max_steps", "2", common=small)
    vocab = json.loads((tmp_path / "bpe" / "config.json").read_text())["vocab_size"]
    assert 300 < vocab < DEFAULT_VOCAB_SIZE
    assert f"supports {vocab:,} bpe tokens, fewer than the default 4,000" in capsys.readouterr().out
    _run(pretrain_clm, tmp_path / "char", "--model_family", "recurrent", "--tokenizer_kind", "char",
         "--max_steps", "2", "--block_size", "32", common=small)
    chars = json.loads((tmp_path / "char" / "config.json").read_text())["vocab_size"]
    assert 40 < chars < 200 and "fewer than the default" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="only supports"):
        _run(finetune_classification, tmp_path / "exact", "--model_family", "bow", "--vocab_size", "4000",
             "--max_steps", "2", common=small)


@pytest.mark.parametrize("override", [None, "adaptive_softmax_cutoffs=null"])
def test_a_large_word_vocabulary_gets_the_adaptive_softmax(override, tmp_path, monkeypatch, capsys):
    """A causal LM over a word vocabulary of >= ADAPTIVE_SOFTMAX_MIN_VOCAB words (scaled down here to a tiny corpus)
    gets the adaptive softmax and says so; `adaptive_softmax_cutoffs=null` keeps the full softmax."""
    import nlpseq.training

    monkeypatch.setattr(nlpseq.training, "ADAPTIVE_SOFTMAX_MIN_VOCAB", 300)
    monkeypatch.setattr(nlpseq.training, "ADAPTIVE_SOFTMAX_CUTOFFS", (20, 100))
    extra = ["--config_overrides", override] if override else []
    _run(pretrain_clm, tmp_path, "--model_family", "recurrent", "--tokenizer_kind", "word", "--vocab_size", "0",
         "--max_steps", "2", "--block_size", "32", *extra)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["vocab_size"] >= 300
    assert config.get("adaptive_softmax_cutoffs") == (None if override else [20, 100])
    assert ("adaptive softmax over the" in capsys.readouterr().out) == (override is None)


def test_flags_after_an_arguments_file_override_it(tmp_path):
    """``recipe.py args.yaml --max_steps 3 --config_overrides ...``: the file's values, then the flags on top (a list
    inside --config_overrides keeps its commas)."""
    import yaml

    flags = dict(zip(COMMON[::2], COMMON[1::2]))
    args = {k.lstrip("-"): v for k, v in flags.items()} | {
        "model_family": "recurrent", "config_overrides": "hidden_size=24", "output_dir": str(tmp_path / "run"),
        "max_steps": 2, "block_size": 32, "tokenizer_kind": "word", "vocab_size": 0}
    file = tmp_path / "args.yaml"
    file.write_text(yaml.safe_dump(args))
    pretrain_clm.main([str(file), "--max_steps", "3",
                       "--config_overrides", "hidden_size=16,adaptive_softmax_cutoffs=[20,100]"])
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert state["global_step"] == 3
    assert (config["hidden_size"], config["adaptive_softmax_cutoffs"]) == (16, [20, 100])
    assert config["tie_word_embeddings"] is False and config["vocab_size"] > 100
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**args, "no_such_flag": 1}))
    with pytest.raises(ValueError, match="Unknown keys.*no_such_flag"):
        pretrain_clm.main([str(bad), "--max_steps", "3"])


@pytest.mark.parametrize("family", ["recurrent-seq2seq", "transformer-seq2seq"])
def test_finetune_translation(family, tmp_path):
    results = _run(finetune_translation, tmp_path, "--model_family", family, "--dataset_name", "number-translation",
                   "--tokenizer_kind", "char", "--vocab_size", "0", "--max_steps", "4", "--max_length", "64",
                   "--predict_with_generate", "true", "--generation_max_length", "24")
    assert {"train_loss", "eval_loss", "eval_bleu", "eval_chrf", "eval_exact_match", "predict_bleu"} <= set(results)
    translations = (tmp_path / "generated_predictions.txt").read_text(encoding="utf-8").splitlines()
    assert len(translations) == results["predict_samples"] == 40  # one per test row (COMMON's --max_predict_samples)
    model = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert model.config.model_type == f"nlpseq-{family}"
    assert model.config.decoder_start_token_id == tok.bos_token_id
    out = model.generate(**tok(["forty-two"], return_tensors="pt"), max_new_tokens=5)
    assert out.shape[0] == 1 and out[0, 0] == tok.bos_token_id


def test_finetune_translation_direction_from_flags(tmp_path):
    data = tmp_path / "pairs.csv"  # two flat language columns, unicode, the direction chosen by the flags
    data.write_text("fr,es\n" + "".join(f"numéro {i} ça,número {i} eñe\n" for i in range(40)))
    results = _run(finetune_translation, tmp_path / "run", "--model_family", "recurrent-seq2seq", "--dataset_name",
                   str(data), "--source_lang", "es", "--target_lang", "fr", "--tokenizer_kind", "char",
                   "--vocab_size", "0", "--max_steps", "2", "--max_length", "32")
    assert {"train_loss", "eval_loss"} <= set(results)
    card = (tmp_path / "run" / "README.md").read_text()
    assert "es->fr" in card and "local data `pairs.csv`" in card and str(tmp_path) not in card


def test_finetune_translation_reads_a_hub_translation_feature(tmp_path, monkeypatch):
    """WMT-style Hub datasets type their column as ``datasets.Translation``; the recipe must read it."""
    from datasets import Dataset, DatasetDict, Features, Translation

    features = Features({"translation": Translation(languages=["de", "en"])})
    rows = {"translation": [{"en": f"number {i}", "de": f"Zahl {i}"} for i in range(40)]}
    hub_like = DatasetDict(train=Dataset.from_dict(rows, features=features),
                           validation=Dataset.from_dict(rows, features=features).select(range(8)))
    monkeypatch.setattr(finetune_translation, "load_data", lambda data_args, seed: hub_like)
    results = _run(finetune_translation, tmp_path, "--model_family", "transformer-seq2seq", "--source_lang", "de",
                   "--target_lang", "en", "--tokenizer_kind", "char", "--vocab_size", "0", "--max_steps", "2")
    assert {"train_loss", "eval_loss"} <= set(results)
    assert "a" in AutoTokenizer.from_pretrained(tmp_path).get_vocab()  # the tokenizer saw the text


def test_tokenizer_cli(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "tokenizer"))
    import train_tokenizer as cli

    cli.main(["--corpus", "number-translation", "--kind", "char", "--vocab_size", "0", "--preset", "seq2seq",
              "--min_frequency", "1", "--output_dir", str(tmp_path)])
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert "ß" in tok.get_vocab() and "w" in tok.get_vocab()  # both languages of the translation column
    assert f"of {len(tok)} tokens" in capsys.readouterr().out

    file = tmp_path / "args.json"  # the documented one-file form, as the presets in tokenizer/presets are used
    file.write_text(json.dumps({"corpus": "number-translation", "kind": "word", "vocab_size": 0, "preset": "seq2seq",
                                "min_frequency": 1, "output_dir": str(tmp_path / "word")}))
    cli.main(["--args_file", str(file)])
    assert {"fifty-seven", "siebenundfünfzig"} <= set(AutoTokenizer.from_pretrained(tmp_path / "word").get_vocab())


@pytest.mark.parametrize(
    "module, args, error, match",
    [
        (pretrain_clm, ["--model_family", "transformer"], ValueError, "Unknown model family"),
        (pretrain_mlm, ["--model_family", "decoder"], ValueError, "has no mlm head"),
        (pretrain_clm, ["--config_overrides", "vocab_size=999"], ValueError, "does not match the tokenizer"),
        (finetune_classification, ["--label_column", "topic"], ValueError, r"needs column\(s\) \['topic'\]"),
        (pretrain_clm, ["--resume_from_checkpoint", "/no/such/checkpoint-5"], FileNotFoundError, "does not exist"),
        (pretrain_clm, ["--block_size", "100000"], ValueError, "longer than the model's"),
        (pretrain_clm, ["--text_column", "body"], ValueError, r"needs column\(s\) \['body'\]"),
        (pretrain_clm, ["--config_name", "huge"], ValueError, r"No 'huge' preset .*\['base', 'small', 'tiny'\]"),
        (pretrain_clm, ["--config_name", "ENCODER_CONFIG"], ValueError,
         "is a 'nlpseq-encoder' config but --model_family is 'decoder'"),
        (pretrain_clm, ["--config_overrides", "hiden_size=32"], ValueError, "did you mean 'hidden_size'"),
        (pretrain_clm, ["--early_stopping_patience", "2"], ValueError, "add --load_best_model_at_end true"),
        (pretrain_clm, ["--early_stopping_patience", "-1"], ValueError, "pass a patience >= 0"),
        (finetune_translation, ["--model_family", "recurrent-seq2seq", "--dataset_name", "number-translation",
                                "--source_lang", "fr"], ValueError, r"has languages \['de', 'en'\], not \['fr'\]"),
    ],
)
def test_bad_input_fails_before_training(tmp_path, module, args, error, match):
    encoder_config = tmp_path / "encoder-config.json"
    encoder_config.write_text(json.dumps({"model_type": "nlpseq-encoder", "hidden_size": 32}))
    args = [str(encoder_config) if a == "ENCODER_CONFIG" else a for a in args]
    with pytest.raises(error, match=match):
        _run(module, tmp_path / "run", "--max_steps", "2", *args)
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_checkpoint_of_another_family_is_refused(mlm_run, tmp_path):
    mlm_dir, _ = mlm_run
    with pytest.raises(ValueError, match="holds a 'nlpseq-encoder' model but --model_family is 'decoder'"):
        _run(finetune_classification, tmp_path, "--model_family", "decoder", "--model_name_or_path", str(mlm_dir))
    assert not list(tmp_path.iterdir())  # refused before the data, the tokenizer or the model


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
    checkpoint = {p.name for p in (killed / "checkpoint-10").iterdir()}
    assert {"model.safetensors", "optimizer.safetensors", "scheduler.safetensors", "rng_state.safetensors",
            "training_args.json"} <= checkpoint
    assert not {n for n in checkpoint if n.endswith((".pt", ".pth", ".bin", ".pkl"))}  # no pickles to resume from

    subprocess.run(_recipe_cmd(killed, *steps, "--resume_from_checkpoint", "last"), env=_env(), check=True,
                   capture_output=True)
    full, resumed = load_file(tmp_path / "full" / "model.safetensors"), load_file(killed / "model.safetensors")
    assert full.keys() == resumed.keys()
    for name in full:
        torch.testing.assert_close(resumed[name], full[name], atol=1e-5, rtol=1e-4)


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    # 16 blocks at a global batch of 8: 5 steps span 3 epochs, each cut at its own offset (ShiftedBlocks) in
    # both runs, whether Accelerate hands the epoch to the dataset (one process) or to its sampler (two). Both keep
    # the --ema_decay average (one per process under DDP), so the saved models compared are the averages of the
    # two weight trajectories
    steps = ["--max_steps", "5", "--logging_steps", "1", "--learning_rate", "1e-2", "--max_train_samples", "16",
             "--ema_decay", "0.5"]
    single = _recipe_cmd(tmp_path / "one", *steps)
    single[single.index("--per_device_train_batch_size") + 1] = "8"
    subprocess.run(single, env=_env(), check=True, capture_output=True)
    torchrun = (sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517")
    double = _recipe_cmd(tmp_path / "two", *steps, "--ddp_find_unused_parameters", "false", "--save_strategy",
                         "steps", "--save_steps", "5", launcher=torchrun)
    double[double.index("--per_device_train_batch_size") + 1] = "4"
    subprocess.run(double, env=_env(), check=True, capture_output=True)
    checkpoint = {p.name for p in (tmp_path / "two" / "checkpoint-5").iterdir()}  # one RNG file per process
    assert {"optimizer.safetensors", "rng_state_0.safetensors", "rng_state_1.safetensors",
            "ema.safetensors"} <= checkpoint
    assert not {n for n in checkpoint if n.endswith((".pt", ".pth", ".bin", ".pkl"))}

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


#: family -> the causal LM class its exported folder names, as module.class
SHARED_LM = {"decoder": "modeling_decoder.DecoderForCausalLM", "ssm": "modeling_ssm.SelectiveSSMForCausalLM"}


@pytest.mark.parametrize("family", sorted(SHARED_LM))
def test_share_model_folder_loads_without_nlpseq(family, tmp_path):
    import share_model

    run = tmp_path / "run"
    _run(pretrain_clm, run, "--model_family", family, "--max_steps", "2", "--block_size", "32")
    folder = share_model.main(["--run_dir", str(run), "--output_dir", str(tmp_path / "hub"),
                               "--dataset_name", "stdlib-docs"])
    names = {p.name for p in folder.iterdir()}
    module = SHARED_LM[family].split(".")[0]
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md", f"{module}.py",
            module.replace("modeling_", "configuration_") + ".py"} <= names
    config = json.loads((folder / "config.json").read_text())
    assert config["auto_map"]["AutoModelForCausalLM"] == SHARED_LM[family]
    assert {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification"} <= set(config["auto_map"])
    card = (folder / "README.md").read_text()
    assert "trust_remote_code=True" in card and "import nlpseq" in card
    meta = ModelCard.load(folder / "README.md").data
    assert (meta.library_name, meta.pipeline_tag, meta.datasets) == ("transformers", "text-generation", ["stdlib-docs"])
    assert {"nlpseq", f"nlpseq-{family}", "custom_code"} <= set(meta.tags)
    assert {"loss", "perplexity"} <= set(meta.metrics)
    results = json.loads((run / "all_results.json").read_text())
    index = {(e.dataset_split, e.metric_type): e.metric_value for e in meta.eval_results}
    assert index[("validation", "perplexity")] == pytest.approx(results["eval_perplexity"])
    assert index[("validation", "loss")] == pytest.approx(results["eval_loss"])
    assert not {k for _, k in index if "runtime" in k or "per_second" in k}

    out = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(folder), str(tmp_path / "logits.pt")],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("transformers_modules.")  # the copied code, not nlpseq
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok(["Return the number of items", "Open a file"], return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = AutoModelForCausalLM.from_pretrained(run).eval()(**ids).logits
    assert torch.equal(torch.load(tmp_path / "logits.pt"), expected)


class FakeHfApi:
    """Stands in for ``huggingface_hub.HfApi``: records what the push would send."""

    calls: list = []

    def __init__(self, token=None):
        self.calls.append(("init", token))

    def create_repo(self, repo_id, private=False, exist_ok=False):
        self.calls.append(("create_repo", repo_id, private, exist_ok))

    def upload_folder(self, folder_path, repo_id, commit_message):
        self.calls.append(("upload_folder", folder_path, repo_id))
        return f"https://huggingface.co/{repo_id}/commit/abc"


def test_push_to_hub_takes_the_token_from_the_environment_and_never_prints_it(clm_run, tmp_path, monkeypatch,
                                                                              capsys, caplog):
    import share_model

    import nlpseq.hub

    run, _ = clm_run
    secret = "hf_SECRETtoken1234567890"
    monkeypatch.setenv("HF_TOKEN", secret)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(nlpseq.hub, "HfApi", FakeHfApi)
    FakeHfApi.calls = []
    with pytest.raises(ValueError, match="needs --hub_model_id"):
        share_model.main(["--run_dir", str(run), "--output_dir", str(tmp_path / "hub"), "--push_to_hub", "true"])
    folder = share_model.main(["--run_dir", str(run), "--output_dir", str(tmp_path / "hub"), "--push_to_hub", "true",
                               "--hub_model_id", "someone/tiny-gpt", "--private", "true"])
    assert FakeHfApi.calls == [("init", secret), ("create_repo", "someone/tiny-gpt", True, True),
                               ("upload_folder", str(folder), "someone/tiny-gpt")]
    printed = capsys.readouterr()
    assert "someone/tiny-gpt" in printed.out
    assert secret not in printed.out + printed.err + caplog.text
    assert secret not in "".join(p.read_text(errors="ignore") for p in folder.iterdir())
    assert ModelCard.load(folder / "README.md").data.datasets == ["stdlib-docs"]  # taken from the run's own card

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        nlpseq.hub.push_folder(folder, "someone/tiny-gpt")


class _Offsets(TrainerCallback):
    """Records, at each step, the epoch and the training set's block offset."""

    def __init__(self):
        self.seen = set()

    def on_step_begin(self, args, state, control, train_dataloader=None, **kwargs):
        self.seen.add((int(state.epoch + 1e-6), getattr(train_dataloader.dataset, "offset", None)))


@pytest.mark.parametrize("shift", ["true", "false"])
def test_lm_recipes_cut_training_blocks_anew_each_epoch(tmp_path, shift):
    """The Trainer (through Accelerate's set_epoch) moves the block boundaries every epoch; --shift_blocks false
    keeps group_texts' fixed blocks, the datasets.Dataset itself."""
    offsets = _Offsets()
    pretrain_clm.main([*_without(COMMON, "--max_train_samples"), "--max_train_samples", "17", "--output_dir",
                       str(tmp_path), "--model_family", "decoder", "--block_size", "16", "--num_train_epochs", "4",
                       "--shift_blocks", shift], callbacks=[offsets])
    if shift == "false":
        assert offsets.seen == {(e, None) for e in range(4)}
        return
    expected = {(e, random.Random(f"0-{e}").randrange(16) if e else 0) for e in range(4)}
    assert offsets.seen == expected and len({o for _, o in expected}) > 2


def test_early_stopping_stops_on_the_validation_metric_and_keeps_the_best(tmp_path):
    """--early_stopping_patience adds transformers' EarlyStoppingCallback: a threshold no evaluation can beat makes
    the second evaluation (step 4 of 40) the last, and --load_best_model_at_end leaves the better of the two."""
    best = ["--eval_strategy", "steps", "--eval_steps", "2", "--save_strategy", "steps", "--save_steps", "2",
            "--load_best_model_at_end", "true", "--metric_for_best_model", "eval_loss"]
    results = _run(pretrain_clm, tmp_path, "--model_family", "decoder", "--block_size", "32", "--max_steps", "40",
                   *best, "--early_stopping_patience", "1", "--early_stopping_threshold", "100")
    state = json.loads((tmp_path / "trainer_state.json").read_text())
    evals = [log["eval_loss"] for log in state["log_history"] if "eval_loss" in log][:2]  # then the final one
    assert state["global_step"] == 4 and len(evals) == 2
    assert results["eval_loss"] == pytest.approx(min(evals), rel=1e-5)
    assert state["best_model_checkpoint"].endswith(f"checkpoint-{2 * (1 + evals.index(min(evals)))}")
