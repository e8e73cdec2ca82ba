"""An exponential moving average (EMA) of the weights, kept beside the training: ``--ema_decay d``.

    θ_ema ← d_n θ_ema + (1 - d_n) θ      after every optimizer step,   d_n = min(d, (1 + n) / (10 + n))

``n`` counts the updates so far. The warm-up of ``d_n`` (TensorFlow's ``ExponentialMovingAverage`` with
``num_updates``) keeps a short run's average from being mostly the random initial weights. The copy is a
``torch.optim.swa_utils.AveragedModel``; only parameters are averaged (the models' buffers are constants).

With ``--ema_decay`` the average is the run's model: the Trainer evaluates it (swapped in for the evaluation, so
``--load_best_model_at_end`` and early stopping judge it), every checkpoint holds it in ``ema.safetensors`` (a
resumed run continues it exactly), and when training ends it replaces the trained weights, the best
checkpoint's average with ``--load_best_model_at_end``. Measured in docs/training.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from safetensors.torch import load_model, save_model
from torch.optim.swa_utils import AveragedModel
from transformers import TrainerCallback

FILE = "ema.safetensors"


def ema_update(decay: float):
    """``AveragedModel``'s ``multi_avg_fn`` for ``decay``: ``θ_ema ← θ_ema + (1 - d_n)(θ - θ_ema)`` in place."""

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        n = int(num_averaged)
        weight = 1 - min(decay, (1 + n) / (10 + n))
        for average, value in zip(averaged, current):
            average.lerp_(value, weight)

    return update


class WeightAverageCallback(TrainerCallback):
    """Keeps the average (``self.average``) from the start of training to its end, then makes it the model."""

    def __init__(self, decay: float):
        self.decay = decay
        self.average: AveragedModel | None = None
        self.resume_from: Path | None = None  # the checkpoint a resumed run continues the average of

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.average = AveragedModel(model, multi_avg_fn=ema_update(self.decay))
        if self.resume_from is not None:
            path = self.resume_from / FILE
            if not path.is_file():
                raise FileNotFoundError(f"{self.resume_from} has no {FILE}: it was saved without --ema_decay; resume "
                                        "it without --ema_decay, or start the run again")
            load_model(self.average, path)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.average.update_parameters(model)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if args.load_best_model_at_end and state.best_model_checkpoint:
            load_model(self.average, Path(state.best_model_checkpoint) / FILE)
        with torch.no_grad():
            for trained, average in zip(model.parameters(), self.average.module.parameters()):
                trained.copy_(average)
        self.average = None

    @contextmanager
    def swapped_into(self, model: torch.nn.Module) -> Iterator[None]:
        """The average's weights in ``model`` while the block runs (an evaluation), the trained ones back after;
        nothing changes outside training."""
        if self.average is None:
            yield
            return
        pairs = list(zip(model.parameters(), self.average.module.parameters()))
        for trained, average in pairs:
            trained.data, average.data = average.data, trained.data
        try:
            yield
        finally:
            for trained, average in pairs:
                trained.data, average.data = average.data, trained.data


class WeightAverageMixin:
    """The Trainers' side of :class:`WeightAverageCallback`: evaluation with the average swapped in, and the average
    saved with (and resumed from) every checkpoint."""

    def _weight_average(self) -> WeightAverageCallback | None:
        return next((c for c in self.callback_handler.callbacks if isinstance(c, WeightAverageCallback)), None)

    def evaluate(self, *args, **kwargs) -> dict[str, float]:
        average = self._weight_average()
        with average.swapped_into(self.model) if average else nullcontext():
            return super().evaluate(*args, **kwargs)

    def _save_optimizer_and_scheduler(self, output_dir: str) -> None:
        # the Trainer's hook into the checkpoint folder before trainer_state.json, which it writes last (the mark
        # of a complete checkpoint): the average lands inside the checkpoint's atomic span, with the optimizer
        super()._save_optimizer_and_scheduler(output_dir)
        average = self._weight_average()
        if average is not None and average.average is not None and self.args.should_save:
            save_model(average.average, str(Path(output_dir) / FILE))

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        average = self._weight_average()
        if average is not None and checkpoint:
            average.resume_from = Path(checkpoint)
