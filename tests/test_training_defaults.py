"""Size presets carry the training hyper-parameters: the recipes apply them for every flag not passed.

The acceptance matrix trains every family on every task its heads support with **no hyper-parameter flag**
(sizes and steps only) and asserts each gets clearly away from chance.
"""

import json

import pytest
from transformers import AutoConfig, Seq2SeqTrainingArguments, TrainingArguments

from benchmarks.training_defaults import BASE, MATRIX, train  # the matrix is also a benchmark (vs Trainer defaults)
from nlpseq.presets import SIZES, preset, training_defaults
from nlpseq.training import FAMILIES, DataArguments, ModelArguments, parse_args


@pytest.mark.parametrize("recipe, family, data, steps, metric, floor", MATRIX,
                         ids=[f"{m[0].__name__}-{m[1]}" for m in MATRIX])
def test_every_family_learns_on_its_defaults(recipe, family, data, steps, metric, floor, tmp_path, capsys):
    results = train(recipe, family, data, steps, str(tmp_path))
    assert "training defaults applied" in capsys.readouterr().out
    margin = 0.3 if metric == "eval_accuracy" else 1.0  # nats below the uniform guess, ln(outcomes)
    assert results["eval_loss"] < results["uniform_loss"] - margin, results
    if metric:
        assert results[metric] >= floor, results


def _parse(*argv, training=TrainingArguments, task="clm"):
    return parse_args(ModelArguments, DataArguments, training, argv=[*argv, "--output_dir", "x", *BASE], task=task)


def test_preset_values_fill_the_flags_not_passed(capsys):
    _, _, args = _parse("--model_family", "decoder", "--config_name", "small", "--learning_rate", "5e-5")
    expected = training_defaults("decoder", "small")
    assert args.learning_rate == 5e-5  # a flag always wins, even one equal to the Trainer's default
    assert args.per_device_train_batch_size == expected["per_device_train_batch_size"]
    assert args.weight_decay == expected["weight_decay"] and args.warmup_steps == expected["warmup_steps"]
    line = capsys.readouterr().out
    assert "per_device_train_batch_size=" in line and "learning_rate" not in line


def test_no_task_means_no_defaults():
    _, _, args = parse_args(ModelArguments, DataArguments, TrainingArguments,
                            argv=["--model_family", "decoder", "--output_dir", "x"])
    assert args.learning_rate == 5e-5


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_argument_files_win_over_the_preset(tmp_path, suffix):
    path = tmp_path / f"args{suffix}"
    values = {"model_family": "recurrent", "config_name": "tiny", "output_dir": "x", "weight_decay": 0.5}
    path.write_text(json.dumps(values))  # JSON is YAML too
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


def test_a_config_file_gets_the_training_values_of_its_nearest_size(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "nlpseq-decoder", "hidden_size": 120, "num_hidden_layers": 3}))
    _, _, args = _parse("--model_family", "decoder", "--config_name", str(path))
    assert args.learning_rate == preset("decoder", "small")["training"]["learning_rate"]  # 120 is nearest 128
    assert args.learning_rate != preset("decoder", "tiny")["training"]["learning_rate"]


def test_ssm_defaults_follow_the_mamba_recipe():
    """AdamW with betas (0.9, 0.95), weight decay 0.1, cosine after a 5 % warm-up (Gu & Dao 2023's GPT-3 recipe)."""
    _, _, args = _parse("--model_family", "ssm", task="clm")
    assert (args.adam_beta1, args.adam_beta2, args.weight_decay, args.warmup_steps) == (0.9, 0.95, 0.1, 0.05)
    assert args.lr_scheduler_type == "cosine"
    assert args.learning_rate == training_defaults("ssm", "tiny")["learning_rate"]


def test_weight_decay_spares_the_ssm_state_matrix_skip_norms_and_biases(tmp_path):
    from nlpseq.models import SelectiveSSMConfig, SelectiveSSMForCausalLM
    from nlpseq.training import Trainer

    model = SelectiveSSMForCausalLM(SelectiveSSMConfig(vocab_size=40, hidden_size=16, state_size=4,
                                                       num_hidden_layers=2))
    trainer = Trainer(model=model, args=TrainingArguments(str(tmp_path), report_to="none", use_cpu=True))
    decayed = set(trainer.get_decay_parameter_names(model))
    assert {"model.embed_tokens.weight", "model.layers.1.mixer.in_proj.weight",
            "model.layers.1.mixer.x_proj.weight"} <= decayed
    spared = {name for name, _ in model.named_parameters()} - decayed
    assert {"model.layers.0.mixer.A_log", "model.layers.0.mixer.D", "model.layers.0.norm.weight",
            "model.norm_f.weight", "model.layers.0.mixer.dt_proj.bias"} <= spared
    assert all(name.endswith(("A_log", ".D", "norm.weight", "norm_f.weight", "bias")) for name in spared), spared
