"""``--ema_decay``: the exponential moving average of the weights (``nlpseq.averaging``) is computed as its formula
says, is what the run evaluates, keeps and saves, and resumes exactly."""

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, load_model
from torch.optim.swa_utils import AveragedModel
from transformers import AutoModelForCausalLM, TrainerCallback

from nlpseq.averaging import FILE, ema_update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))

import pretrain_clm  # noqa: E402

TINY = ["--model_family", "decoder", "--config_name", "tiny", "--block_size", "32", "--max_train_samples", "200",
        "--max_eval_samples", "40", "--max_predict_samples", "8", "--vocab_size", "400", "--report_to", "none",
        "--disable_tqdm", "true", "--seed", "0", "--per_device_train_batch_size", "8"]


def _run(out: Path, *extra: str, callbacks=None) -> dict:
    return pretrain_clm.main([*TINY, "--output_dir", str(out), *extra], callbacks=callbacks)


def _ema_reference(snapshots: list[dict[str, torch.Tensor]], decay: float) -> dict[str, torch.Tensor]:
    """The docstring's formula, step by step: the first update copies, then d_n = min(d, (1 + n) / (10 + n))."""
    average = {k: v.clone() for k, v in snapshots[0].items()}
    for n, weights in enumerate(snapshots[1:], start=1):
        d = min(decay, (1 + n) / (10 + n))
        average = {k: d * average[k] + (1 - d) * weights[k] for k in average}
    return average


class Snapshots(TrainerCallback):
    """The trained weights after every optimizer step."""

    def __init__(self):
        self.weights = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.weights.append({k: v.detach().clone() for k, v in model.named_parameters()})


def test_the_update_is_the_warmed_up_moving_average():
    model = torch.nn.Linear(3, 2)
    average = AveragedModel(model, multi_avg_fn=ema_update(0.9))
    snapshots = []
    for step in range(100):  # d_n = (1 + n) / (10 + n) up to n = 80, then 0.9
        with torch.no_grad():
            model.weight.mul_(0.5).add_(step)
        snapshots.append({"weight": model.weight.detach().clone()})
        average.update_parameters(model)
    torch.testing.assert_close(average.module.weight, _ema_reference(snapshots, 0.9)["weight"])
    fast = AveragedModel(model, multi_avg_fn=ema_update(0.1))  # d_n = 0.1 from the first lerp on
    for value in (0.0, 2.0, 4.0):
        with torch.no_grad():
            model.weight.fill_(value)
        fast.update_parameters(model)
    torch.testing.assert_close(fast.module.weight, torch.full((2, 3), 0.1 * (0.9 * 2.0) + 0.9 * 4.0))  # 3.78


def test_the_average_is_what_the_run_evaluates_and_saves(tmp_path):
    snapshots = Snapshots()
    results = _run(tmp_path, "--max_steps", "12", "--ema_decay", "0.9", "--eval_strategy", "steps",
                   "--eval_steps", "12", "--save_strategy", "no", callbacks=[snapshots])
    saved = load_file(tmp_path / "model.safetensors")
    expected = _ema_reference(snapshots.weights, 0.9)
    for name, value in expected.items():
        if name in saved:  # a tied output weight is stored once
            torch.testing.assert_close(saved[name], value, atol=1e-6, rtol=1e-5)
    last = snapshots.weights[-1]
    assert any(not torch.allclose(saved[k], last[k]) for k in saved)  # not the last trained weights
    history = json.loads((tmp_path / "trainer_state.json").read_text())["log_history"]
    during = next(log["eval_loss"] for log in history if "eval_loss" in log)  # step 12, inside train()
    assert during == pytest.approx(results["eval_loss"], rel=1e-6)  # the same weights as the saved model's


def test_a_resumed_run_continues_the_average_exactly(tmp_path):
    steps = ["--max_steps", "12", "--ema_decay", "0.9", "--save_strategy", "steps", "--save_steps", "6",
             "--eval_strategy", "no"]
    _run(tmp_path / "full", *steps)

    class StopAtSix(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            control.should_training_stop = state.global_step == 6

    _run(tmp_path / "cut", *steps, callbacks=[StopAtSix()])
    assert (tmp_path / "cut" / "checkpoint-6" / FILE).is_file()
    _run(tmp_path / "cut", *steps, "--resume_from_checkpoint", "last")
    full = load_file(tmp_path / "full" / "model.safetensors")
    resumed = load_file(tmp_path / "cut" / "model.safetensors")
    for name in full:
        torch.testing.assert_close(resumed[name], full[name], atol=1e-6, rtol=1e-5)


def test_the_best_checkpoint_s_average_is_kept(tmp_path):
    """With --load_best_model_at_end the model is the best checkpoint's average: "best" here is the highest loss
    (--greater_is_better true), the first checkpoint of a run whose loss falls, so it is not the last one's."""
    best = ["--eval_strategy", "steps", "--eval_steps", "3", "--save_strategy", "steps", "--save_steps", "3",
            "--load_best_model_at_end", "true", "--metric_for_best_model", "eval_loss", "--greater_is_better", "true"]
    _run(tmp_path, "--max_steps", "9", "--ema_decay", "0.9", *best)
    state = json.loads((tmp_path / "trainer_state.json").read_text())
    assert state["best_model_checkpoint"].endswith("checkpoint-3")
    saved = dict(AutoModelForCausalLM.from_pretrained(tmp_path).named_parameters())

    def average(step: int) -> dict[str, torch.Tensor]:
        copy = AveragedModel(AutoModelForCausalLM.from_pretrained(tmp_path))
        load_model(copy, tmp_path / f"checkpoint-{step}" / FILE)
        return dict(copy.module.named_parameters())

    best, last = average(3), average(9)
    for name, value in saved.items():
        torch.testing.assert_close(value, best[name])
    assert any(not torch.allclose(value, last[name]) for name, value in saved.items())
    raw = dict(AutoModelForCausalLM.from_pretrained(tmp_path / "checkpoint-3").named_parameters())
    assert any(not torch.allclose(value, raw[name]) for name, value in saved.items())


@pytest.mark.parametrize("flags, match", [
    (["--ema_decay", "1"], "is not a decay: pass one in"),
    (["--ema_decay", "-0.5"], "is not a decay: pass one in"),
    (["--ema_decay", "0.9", "--save_only_model", "true", "--load_best_model_at_end", "true", "--eval_strategy",
      "steps", "--save_strategy", "steps"], "drop --save_only_model"),
    (["--ema_decay", "0.9", "--fsdp", "full_shard"], "which FSDP and DeepSpeed shard"),
])
def test_bad_decays_are_refused_before_any_work(tmp_path, flags, match):
    with pytest.raises(ValueError, match=match):
        _run(tmp_path / "run", "--max_steps", "2", *flags)
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_a_checkpoint_without_the_average_is_refused_before_any_work(tmp_path):
    _run(tmp_path / "plain", "--max_steps", "2", "--save_strategy", "steps", "--save_steps", "2")
    with pytest.raises(ValueError, match="holds no ema.safetensors"):
        _run(tmp_path / "plain", "--max_steps", "4", "--ema_decay", "0.9",
             "--resume_from_checkpoint", str(tmp_path / "plain" / "checkpoint-2"))
