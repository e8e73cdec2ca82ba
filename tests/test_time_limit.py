"""TimeLimitCallback stops the Trainer after the given training-time budget (evaluations excluded) and leaves a
checkpoint behind."""

import torch
from transformers import Trainer, TrainerControl, TrainingArguments

from nlpseq import DecoderConfig, DecoderForCausalLM
from nlpseq.training import TimeLimitCallback


def _trainer(tmp_path, minutes):
    torch.manual_seed(0)
    model = DecoderForCausalLM(DecoderConfig(vocab_size=16, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                             intermediate_size=16, max_position_embeddings=8))
    data = [{"input_ids": torch.arange(8) % 16, "labels": torch.arange(8) % 16} for _ in range(64)]
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=50, per_device_train_batch_size=2,
                             report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True)
    return Trainer(model=model, args=args, train_dataset=data, callbacks=[TimeLimitCallback(minutes)])


def test_zero_budget_stops_after_one_step_and_saves(tmp_path):
    trainer = _trainer(tmp_path, minutes=0)
    trainer.train()
    assert trainer.state.global_step == 1
    assert (tmp_path / "checkpoint-1" / "model.safetensors").is_file()


def test_generous_budget_does_not_interfere(tmp_path):
    trainer = _trainer(tmp_path, minutes=10)
    trainer.train()
    assert trainer.state.global_step == 50
    assert not list(tmp_path.glob("checkpoint-*"))


def test_evaluation_time_does_not_count():
    callback, control = TimeLimitCallback(minutes=1 / 60), TrainerControl()
    callback.on_train_begin(None, None, control)
    callback.start -= 5.0  # 5 s since train() began ...
    callback.on_evaluate(None, None, control, metrics={"eval_loss": 1.0, "eval_runtime": 4.5})  # ... 4.5 s of them
    assert not callback.on_step_end(None, None, control).should_training_stop  # 0.5 s of training < 1 s
    callback.start -= 1.0
    assert callback.on_step_end(None, None, control).should_training_stop  # 1.5 s of training >= 1 s
