"""Size presets carry the training hyper-parameters: the recipes apply them for every flag not passed.

The acceptance matrix trains every family on every task its heads support with **no hyper-parameter flag**
(sizes and steps only) and asserts each gets clearly away from chance.
"""

import json
import math
import sys
from pathlib import Path

import pytest

from nlpseq.presets import SIZES, preset, training_defaults
from nlpseq.training import FAMILIES, ModelArguments, parse_args

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "recipes"))

import finetune_classification  # noqa: E402
import finetune_translation  # noqa: E402
import pretrain_clm  # noqa: E402
import pretrain_mlm  # noqa: E402
from transformers import AutoConfig, Seq2SeqTrainingArguments, TrainingArguments  # noqa: E402

BASE = ["--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true", "--seed", "0",
        "--per_device_eval_batch_size", "64"]
CLS = ["--dataset_name", "stdlib-docs", "--max_train_samples", "1200", "--max_eval_samples", "300",
       "--max_length", "64", "--vocab_size", "1000"]
LM = ["--dataset_name", "stdlib-docs", "--max_train_samples", "1200", "--max_eval_samples", "200",
      "--block_size", "64", "--tokenizer_kind", "char", "--vocab_size", "0"]  # characters: learnable in 150 steps
MT = ["--dataset_name", "number-translation", "--max_train_samples", "9600", "--tokenizer_kind", "char",
      "--vocab_size", "0",
      "--max_eval_samples", "100", "--predict_with_generate", "true", "--max_length", "64"]
MAJORITY = 0.28  # stdlib-docs topics: the largest of 7 classes holds 28 % of the training rows

#: (recipe, family, data flags, steps, metric, floor): chance is MAJORITY for accuracy, 0 for exact match;
#: every case also asserts its eval loss is well below the uniform guess, ln(number of outcomes)
MATRIX = [
    (finetune_classification, "bow", CLS, 150, "eval_accuracy", MAJORITY + 0.25),
    (finetune_classification, "recurrent", CLS, 150, "eval_accuracy", MAJORITY + 0.12),
    (finetune_classification, "encoder", CLS, 150, "eval_accuracy", MAJORITY + 0.12),
    (finetune_classification, "decoder", CLS, 150, "eval_accuracy", MAJORITY + 0.12),
    (pretrain_clm, "recurrent", LM, 150, None, None),
    (pretrain_clm, "decoder", LM, 150, None, None),
    (pretrain_mlm, "encoder", LM, 150, None, None),
    (finetune_translation, "recurrent-seq2seq", MT, 300, "eval_exact_match", 0.5),
    (finetune_translation, "transformer-seq2seq", MT, 300, "eval_exact_match", 0.5),
]


@pytest.mark.parametrize("recipe, family, data, steps, metric, floor", MATRIX,
                         ids=[f"{m[0].__name__}-{m[1]}" for m in MATRIX])
def test_every_family_learns_on_its_defaults(recipe, family, data, steps, metric, floor, tmp_path, capsys):
    results = recipe.main([*BASE, *data, "--model_family", family, "--max_steps", str(steps),
                           "--output_dir", str(tmp_path)])
    assert "training defaults applied" in capsys.readouterr().out
    config = json.loads((tmp_path / "config.json").read_text())
    classes = len(config["id2label"]) if metric == "eval_accuracy" else config["vocab_size"]
    margin = 0.3 if metric == "eval_accuracy" else 1.0  # nats below the uniform guess, ln(classes)
    print(family, recipe.__name__, {k: round(v, 3) for k, v in results.items() if k.startswith("eval_")})
    assert results["eval_loss"] < math.log(classes) - margin, results
    if metric:
        assert results[metric] >= floor, results


def _parse(*argv, training=TrainingArguments, task="clm"):
    from nlpseq.training import DataArguments

    return parse_args(ModelArguments, DataArguments, training, argv=[*argv, "--output_dir", "x"], task=task)


def test_preset_values_fill_the_flags_not_passed(capsys):
    _, _, args = _parse("--model_family", "decoder", "--config_name", "small", "--learning_rate", "5e-5")
    expected = training_defaults("decoder", "small")
    assert args.learning_rate == 5e-5  # a flag always wins, even one equal to the Trainer's default
    assert args.per_device_train_batch_size == expected["per_device_train_batch_size"]
    assert args.weight_decay == expected["weight_decay"] and args.warmup_steps == expected["warmup_steps"]
    line = capsys.readouterr().out
    assert "per_device_train_batch_size=" in line and "learning_rate" not in line


def test_no_task_means_no_defaults():
    from nlpseq.training import DataArguments

    _, _, args = parse_args(ModelArguments, DataArguments, TrainingArguments,
                            argv=["--model_family", "decoder", "--output_dir", "x"])
    assert args.learning_rate == 5e-5


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_argument_files_win_over_the_preset(tmp_path, suffix):
    path = tmp_path / f"args{suffix}"
    values = {"model_family": "recurrent", "config_name": "tiny", "output_dir": "x", "weight_decay": 0.5}
    path.write_text(json.dumps(values))  # JSON is YAML too
    from nlpseq.training import DataArguments

    _, _, args = parse_args(ModelArguments, DataArguments, TrainingArguments, argv=[str(path)], task="clm")
    assert args.weight_decay == 0.5
    assert args.learning_rate == training_defaults("recurrent", "tiny")["learning_rate"]


def test_fine_tuning_a_checkpoint_gets_fine_tuning_values(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "nlpseq-encoder", "hidden_size": 250}))
    _, _, args = _parse("--model_family", "encoder", "--model_name_or_path", str(tmp_path), task="classification")
    assert args.learning_rate == preset("encoder", "small")["finetune"]["learning_rate"]  # 250 is nearest small
    assert args.learning_rate < preset("encoder", "small")["training"]["learning_rate"]


def test_translation_gets_label_smoothing():
    _, _, args = _parse("--model_family", "transformer-seq2seq", training=Seq2SeqTrainingArguments,
                        task="translation")
    assert args.label_smoothing_factor == 0.1


@pytest.mark.parametrize("family", [f for f in FAMILIES])
def test_every_family_has_every_size_and_the_values_are_trainer_fields(family):
    fields = set(Seq2SeqTrainingArguments.__dataclass_fields__)
    for size in SIZES:
        values = preset(family, size)
        config = AutoConfig.for_model(FAMILIES[family]["model_type"], **values["config"])
        assert all(getattr(config, k) == v for k, v in values["config"].items())
        for kind in ("training", "finetune"):
            assert set(values[kind]) <= fields and values[kind]["learning_rate"] > 0
        assert values["finetune"]["learning_rate"] < values["training"]["learning_rate"]
    rates = [preset(family, size)["training"]["learning_rate"] for size in SIZES]
    assert rates == sorted(rates, reverse=True)  # larger models train at lower rates
