"""The end of every recipe, as transformers' ``examples/pytorch`` scripts do it.

``run_and_report`` trains if ``--do_train``, evaluates the validation split if ``--do_eval`` and predicts the test
split if ``--do_predict`` (no switch at all means all three: ``nlpseq.recipe_arguments``). It writes into
``output_dir``:

==============================  ============================================================================
``train_results.json``          the Trainer's train metrics and ``train_samples`` (examples trained on)
``eval_results.json``           ``eval_*`` metrics and ``eval_samples`` (``eval_perplexity`` for LMs)
``predict_results.json``        ``predict_*`` metrics of the test split and ``predict_samples``
``all_results.json``            all of the above in one file
the task's predictions file     ``predict_results.txt`` (classification), ``generated_predictions.txt``
                                (translation), ``predictions.txt`` (token classification)
model, tokenizer, card          only when it trained (``trainer_state.json`` too); ``--push_to_hub`` then
                                uploads the Hub export (``nlpseq.hub.export_run``)
==============================  ============================================================================
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

from datasets import DatasetDict
from transformers import PreTrainedTokenizerBase
from transformers.trainer_utils import PredictionOutput

from .checkpointing import resolve_resume
from .hub import model_card, save_tokenizer

logger = logging.getLogger(__name__)

#: writes a task's predictions file into the output folder
PredictionWriter = Callable[[PredictionOutput, Path], None]


def run_and_report(trainer, data: DatasetDict, tokenizer: PreTrainedTokenizerBase, data_args, description: str,
                   perplexity: bool = False, write_predictions: PredictionWriter | None = None) -> dict:
    """Train / evaluate / predict as ``trainer.args.do_*`` say; write the result files; return all the metrics.

    ``data`` holds the prepared splits (``test`` is predicted); ``perplexity=True`` (language models) adds
    ``*_perplexity = exp(*_loss)``; ``write_predictions(output, output_dir)`` writes the task's predictions file
    (without one, the test split is only scored, as ``trainer.evaluate`` does, holding no logits).
    """
    args = trainer.args
    results = {}
    if args.do_train:
        results.update(_train(trainer))
    if args.do_eval:
        results.update(_report(trainer, "eval", trainer.evaluate(), _size(trainer.eval_dataset), perplexity))
    if args.do_predict and "test" not in data:
        logger.warning("--do_predict: the data has no (labelled) test split, so nothing is predicted; pass "
                       "--test_file or a dataset with a test split")
    elif args.do_predict and write_predictions is None:  # metrics only: no logits held for the whole split
        metrics = trainer.evaluate(data["test"], metric_key_prefix="predict")
        results.update(_report(trainer, "predict", metrics, _size(data["test"]), perplexity))
    elif args.do_predict:
        output = trainer.predict(data["test"], metric_key_prefix="predict")
        results.update(_report(trainer, "predict", output.metrics, _size(data["test"]), perplexity))
        if trainer.is_world_process_zero():
            write_predictions(output, Path(args.output_dir))
    if args.do_train:
        _save_run(trainer, tokenizer, data_args, description, results)
        if args.push_to_hub:
            trainer.push_to_hub()
    return results


def _train(trainer) -> dict:
    """Train (resuming as ``--resume_from_checkpoint`` says), save the model, ``train_results.json`` and the state."""
    result = trainer.train(resume_from_checkpoint=resolve_resume(trainer.args))
    trainer.save_model(_internal_call=True)  # not pushed from here: --push_to_hub uploads the export, at the end
    metrics = {**result.metrics, "train_samples": _size(trainer.train_dataset) or _seen(trainer)}
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)  # train_results.json, and into all_results.json
    trainer.save_state()  # trainer_state.json: the loss history
    return metrics


def _size(dataset) -> int | None:
    """Rows of a dataset; None for a stream (``--streaming``), whose length is unknown."""
    return len(dataset) if hasattr(dataset, "__len__") else None


def _seen(trainer) -> int:
    """Examples a streamed run trained on: steps x per-device batch x accumulation x processes."""
    args = trainer.args
    return trainer.state.global_step * args.per_device_train_batch_size * args.gradient_accumulation_steps * \
        args.world_size


def _report(trainer, split: str, metrics: dict, samples: int | None, perplexity: bool) -> dict:
    """Add ``<split>_samples`` (and the perplexity), log, and write ``<split>_results.json``."""
    metrics = {**metrics, **({f"{split}_samples": samples} if samples is not None else {})}
    if perplexity and f"{split}_loss" in metrics:
        metrics[f"{split}_perplexity"] = math.exp(min(metrics[f"{split}_loss"], 50))
    trainer.log_metrics(split, metrics)
    trainer.save_metrics(split, metrics)
    return metrics


def _save_run(trainer, tokenizer: PreTrainedTokenizerBase, data_args, description: str, results: dict) -> None:
    """The tokenizer and the model card (with every result) beside the trained model."""
    if not trainer.is_world_process_zero():
        return
    save_tokenizer(tokenizer, trainer.args.output_dir)
    model = trainer.accelerator.unwrap_model(trainer.model)
    dataset = str(data_args.train_file or data_args.dataset_name)
    if Path(dataset).exists():  # a local path is no Hub dataset id (and would leak the machine's layout)
        dataset, description = None, f"{description} Trained on local data `{Path(dataset).name}`."
    card = model_card(model, Path(trainer.args.output_dir).name, results=results,
                      datasets=[dataset] if dataset else None, description=description)
    card.save(Path(trainer.args.output_dir) / "README.md")


def write_lines(path: Path, lines: list[str]) -> None:
    """One prediction per line (the examples' plain-text predictions files)."""
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
