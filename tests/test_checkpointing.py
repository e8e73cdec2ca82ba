"""nlpseq's Trainer writes checkpoints without pickles, and reading them back restores every state exactly."""

import copy
import json
import random

import numpy as np
import pytest
import torch
import transformers
from datasets import Dataset
from transformers import TrainerCallback, TrainingArguments

from nlpseq import DecoderConfig, DecoderForCausalLM
from nlpseq.training import Trainer

PICKLE_SUFFIXES = {".pt", ".pth", ".bin", ".pkl"}


class RecordStates(TrainerCallback):
    """Keeps copies of the optimizer, scheduler and RNG states as they are when each checkpoint is saved."""

    def __init__(self):
        self.saved: dict[int, dict] = {}

    def on_save(self, args, state, control, optimizer=None, lr_scheduler=None, **kwargs):
        self.saved[state.global_step] = {
            "optimizer": copy.deepcopy(optimizer.state_dict()), "scheduler": lr_scheduler.state_dict(),
            "python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.random.get_rng_state()}


def _trainer(output_dir, trainer_class=Trainer, callbacks=()) -> transformers.Trainer:
    torch.manual_seed(0)
    model = DecoderForCausalLM(DecoderConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                             intermediate_size=32, max_position_embeddings=32, pad_token_id=0))
    ids = torch.randint(1, 40, (16, 12), generator=torch.Generator().manual_seed(0)).tolist()
    args = TrainingArguments(output_dir=str(output_dir), per_device_train_batch_size=4, max_steps=4,
                             learning_rate=1e-2, lr_scheduler_type="linear", warmup_steps=1, optim="adamw_torch",
                             save_strategy="steps", save_steps=2, report_to="none", disable_tqdm=True, use_cpu=True,
                             seed=0)
    return trainer_class(model=model, args=args, train_dataset=Dataset.from_dict({"input_ids": ids, "labels": ids}),
                         callbacks=list(callbacks))


def _assert_same_optimizer_state(loaded: dict, saved: dict) -> None:
    assert loaded["param_groups"] == saved["param_groups"]  # lr, betas (a tuple again), eps, parameter indices
    assert loaded["state"].keys() == saved["state"].keys()
    for index, values in saved["state"].items():
        assert loaded["state"][index].keys() == values.keys() == {"step", "exp_avg", "exp_avg_sq"}
        for name, value in values.items():
            torch.testing.assert_close(loaded["state"][index][name], value, rtol=0, atol=0)


def test_checkpoints_hold_no_pickles_and_restore_every_state(tmp_path):
    record = RecordStates()
    trainer = _trainer(tmp_path, callbacks=[record])
    trainer.train()
    trainer.save_model()  # the final save of a recipe
    checkpoint = tmp_path / "checkpoint-2"
    files = {p.name for p in checkpoint.iterdir()}
    assert {"model.safetensors", "optimizer.safetensors", "scheduler.safetensors", "rng_state.safetensors",
            "training_args.json", "trainer_state.json"} <= files
    assert not [p for p in tmp_path.rglob("*") if p.suffix in PICKLE_SUFFIXES]  # in no checkpoint, nor the final save
    assert (tmp_path / "training_args.json").is_file()
    assert json.loads((checkpoint / "training_args.json").read_text())["save_steps"] == 2

    fresh = _trainer(tmp_path / "fresh")
    fresh.create_optimizer_and_scheduler(num_training_steps=4)
    fresh._load_optimizer_and_scheduler(str(checkpoint))
    saved = record.saved[2]
    _assert_same_optimizer_state(fresh.optimizer.state_dict(), saved["optimizer"])
    assert fresh.optimizer.state_dict()["state"][0]["step"].item() == 2.0
    assert fresh.lr_scheduler.state_dict() == saved["scheduler"]
    assert fresh.lr_scheduler.get_last_lr() == pytest.approx([1e-2 * 2 / 3] * 2)  # 2 groups (no decay), warmup 1

    fresh._load_rng_state(str(checkpoint))
    restored = (torch.rand(4), random.random(), np.random.rand())
    torch.random.set_rng_state(saved["torch"])
    random.setstate(saved["python"])
    np.random.set_state(saved["numpy"])
    expected = (torch.rand(4), random.random(), np.random.rand())
    torch.testing.assert_close(restored[0], expected[0], rtol=0, atol=0)
    assert restored[1:] == expected[1:]


def test_a_checkpoint_of_the_plain_transformers_trainer_still_resumes(tmp_path):
    record = RecordStates()
    _trainer(tmp_path, trainer_class=transformers.Trainer, callbacks=[record]).train()
    assert (tmp_path / "checkpoint-2" / "optimizer.pt").is_file()  # the pickled format this falls back to

    fresh = _trainer(tmp_path / "fresh")
    fresh.create_optimizer_and_scheduler(num_training_steps=4)
    fresh._load_optimizer_and_scheduler(str(tmp_path / "checkpoint-2"))
    _assert_same_optimizer_state(fresh.optimizer.state_dict(), record.saved[2]["optimizer"])
    assert fresh.lr_scheduler.state_dict() == record.saved[2]["scheduler"]


def test_the_fp16_loss_scale_is_saved_and_restored(tmp_path):
    trainer = _trainer(tmp_path)  # a CPU GradScaler stands in for the one fp16 training on a GPU gets
    trainer.accelerator.scaler = torch.amp.GradScaler("cpu", init_scale=512.0, growth_interval=7)
    trainer._save_scaler(str(tmp_path))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("scaler")] == ["scaler.safetensors"]

    fresh = _trainer(tmp_path / "fresh")
    fresh.accelerator.scaler = torch.amp.GradScaler("cpu")
    fresh._load_scaler(str(tmp_path))
    assert fresh.accelerator.scaler.state_dict() == {"scale": 512.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                                     "growth_interval": 7, "_growth_tracker": 0}
