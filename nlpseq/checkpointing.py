"""Trainer checkpoints without pickles: optimizer, scheduler, scaler and RNG states in safetensors files.

The ``transformers.Trainer`` writes ``optimizer.pt``, ``scheduler.pt``, ``rng_state.pth``, ``scaler.pt`` and
``training_args.bin`` with ``torch.save``, i.e. pickles: loading one runs whatever code it names. With
:class:`SafetensorsCheckpointMixin` a checkpoint folder holds only safetensors and JSON files instead:

* ``optimizer.safetensors``, ``scheduler.safetensors``, ``scaler.safetensors`` (fp16 on GPU) and
  ``rng_state.safetensors`` (``rng_state_<process>.safetensors`` per process in a distributed run): the state's
  tensors are stored as tensors, named by their place in the state (``state.3.exp_avg``), and everything else
  (learning rates, betas, step counts, the Python and NumPy RNG states) as JSON in the file's header
  (``safetensors.safe_open(path, "pt").metadata()["state"]``);
* ``training_args.json`` (``TrainingArguments.to_json_string()``, tokens redacted) instead of ``training_args.bin``.

Resuming reads these files and falls back to the Trainer's own loading when they are absent, so checkpoints
written by a plain ``transformers.Trainer`` still resume. DeepSpeed, FSDP, XLA/TPU and SageMaker model
parallelism write their own checkpoint formats, and on NPU/HPU/MLU/MUSA devices the Trainer saves RNG states
nlpseq does not handle: there the Trainer's behaviour is kept unchanged.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers.trainer_pt_utils import set_rng_state_for_device
from transformers.training_args import ParallelMode
from transformers.utils import (
    is_sagemaker_mp_enabled,
    is_torch_hpu_available,
    is_torch_mlu_available,
    is_torch_musa_available,
    is_torch_npu_available,
    is_torch_xla_available,
)

from .errors import CheckpointError, CheckpointNotFoundError

logger = logging.getLogger(__name__)

OPTIMIZER_FILE = "optimizer.safetensors"
SCHEDULER_FILE = "scheduler.safetensors"
SCALER_FILE = "scaler.safetensors"
TRAINING_ARGS_FILE = "training_args.json"
#: what the transformers Trainer writes with torch.save; replaced by TRAINING_ARGS_FILE
PICKLED_TRAINING_ARGS_FILE = "training_args.bin"

# JSON markers for the values JSON has no type for; a tensor marker names the tensor in the safetensors file
_TENSOR, _NDARRAY, _TUPLE, _INT_KEYS = "__tensor__", "__ndarray__", "__tuple__", "__int_keys__"


def _join(name: str, key: object) -> str:
    """The dotted name of an item inside ``name`` (``state`` + ``3`` -> ``state.3``; at the top, just ``3``)."""
    return f"{name}.{key}" if name else str(key)


def _encode(value: Any, name: str, tensors: dict[str, torch.Tensor]) -> Any:
    """``value`` as JSON-ready data; its tensors go into ``tensors`` under dotted names starting at ``name``."""
    if isinstance(value, torch.Tensor):
        if name in tensors:  # e.g. the keys "a.b" and "a" -> "b" of one state
            raise CheckpointError(f"Two tensors of the state would both be stored as {name!r}")
        tensors[name] = value.detach().contiguous()
        return {_TENSOR: name}
    if isinstance(value, np.ndarray):  # the NumPy RNG key: 624 uint32 numbers
        return {_NDARRAY: value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [_encode(v, _join(name, i), tensors) for i, v in enumerate(value)]
        return {_TUPLE: items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        encoded = {str(k): _encode(v, _join(name, k), tensors) for k, v in value.items()}
        if all(isinstance(k, str) for k in value):
            return encoded
        if all(isinstance(k, int) for k in value):  # the optimizer's state is keyed by parameter index
            return {_INT_KEYS: encoded}
        raise TypeError(f"Cannot store the dict at {name!r} without pickle: its keys mix types")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"Cannot store a {type(value).__name__} (at {name!r}) in a checkpoint without pickle")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if _TENSOR in value:
        return tensors[value[_TENSOR]]
    if _NDARRAY in value:
        return np.array(value[_NDARRAY], dtype=value["dtype"])
    if _TUPLE in value:
        return tuple(_decode(v, tensors) for v in value[_TUPLE])
    if _INT_KEYS in value:
        return {int(k): _decode(v, tensors) for k, v in value[_INT_KEYS].items()}
    return {k: _decode(v, tensors) for k, v in value.items()}


def save_state(state: Any, path: str | Path) -> None:
    """Write a state (nested dicts, lists and tuples of tensors, NumPy arrays, numbers, strings and None: an
    optimizer's or scheduler's ``state_dict()``, RNG states) to one safetensors file, without pickle."""
    tensors: dict[str, torch.Tensor] = {}
    layout = _encode(state, "", tensors)
    save_file(tensors, str(path), metadata={"state": json.dumps(layout)})


def load_state(path: str | Path, device: str | torch.device = "cpu") -> Any:
    """Read back what :func:`save_state` wrote, with its tensors on ``device``."""
    with safe_open(str(path), framework="pt", device=str(device)) as f:
        tensors = {name: f.get_tensor(name) for name in f.keys()}
        layout = json.loads(f.metadata()["state"])
    return _decode(layout, tensors)


class SafetensorsCheckpointMixin:
    """Mix into a ``transformers.Trainer`` (first, before the Trainer class) for pickle-free checkpoints.

    Overrides the Trainer's save and load hooks for the optimizer and scheduler, the fp16 gradient scaler, the
    RNG states and the training arguments; see the module docstring for the files. A resumed run continues
    exactly as from the Trainer's own files.
    """

    def _writes_safetensors_state(self) -> bool:
        """False where another engine owns the checkpoint (DeepSpeed, FSDP, XLA, SageMaker MP) or the device's
        RNG is one the Trainer saves but nlpseq does not (NPU, HPU, MLU, MUSA): keep the Trainer's files there."""
        other_engine = (self.is_deepspeed_enabled or self.is_fsdp_enabled or is_torch_xla_available()
                        or is_sagemaker_mp_enabled())
        other_device = (is_torch_npu_available() or is_torch_hpu_available() or is_torch_mlu_available()
                        or is_torch_musa_available())
        return not (other_engine or other_device)

    def _rng_file(self, folder: str) -> Path:
        """One RNG file per process in a distributed run, as the Trainer names its ``rng_state_<i>.pth``."""
        suffix = "" if self.args.world_size <= 1 else f"_{self.args.process_index}"
        return Path(folder) / f"rng_state{suffix}.safetensors"

    def _save_optimizer_and_scheduler(self, output_dir: str) -> None:
        """``optimizer.safetensors`` and ``scheduler.safetensors`` in place of ``optimizer.pt``/``scheduler.pt``."""
        if not self._writes_safetensors_state():
            super()._save_optimizer_and_scheduler(output_dir)
        elif self.args.should_save:  # DDP replicas hold the same state: the writing process saves it once
            save_state(self.optimizer.state_dict(), Path(output_dir) / OPTIMIZER_FILE)
            save_state(self.lr_scheduler.state_dict(), Path(output_dir) / SCHEDULER_FILE)

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        """Restore the optimizer and scheduler from the safetensors files, else as the Trainer does."""
        folder = Path(checkpoint or "")
        if not (checkpoint and self._writes_safetensors_state() and (folder / OPTIMIZER_FILE).is_file()
                and (folder / SCHEDULER_FILE).is_file()):
            super()._load_optimizer_and_scheduler(checkpoint)  # a Trainer checkpoint with .pt files, or none
            return
        # as the Trainer does: CPU for one process (spares GPU memory), each process's own GPU in distributed runs
        device = self.args.device if self.args.world_size > 1 and self.args.device.type != "cpu" else "cpu"
        self.optimizer.load_state_dict(load_state(folder / OPTIMIZER_FILE, device))
        self.lr_scheduler.load_state_dict(load_state(folder / SCHEDULER_FILE))

    def _save_scaler(self, output_dir: str) -> None:
        """``scaler.safetensors`` (the fp16 loss scale) in place of ``scaler.pt``; nothing without a scaler."""
        scaler = getattr(self.accelerator, "scaler", None)
        if not self._writes_safetensors_state():
            super()._save_scaler(output_dir)
        elif scaler is not None and self.args.should_save:
            save_state(scaler.state_dict(), Path(output_dir) / SCALER_FILE)

    def _load_scaler(self, checkpoint: str | None) -> None:
        """Restore the gradient scaler from ``scaler.safetensors``, else as the Trainer does."""
        file = Path(checkpoint or "") / SCALER_FILE
        if checkpoint and self._writes_safetensors_state() and file.is_file():
            self.accelerator.scaler.load_state_dict(load_state(file))
        else:
            super()._load_scaler(checkpoint)

    def _save_rng_state(self, output_dir: str) -> None:
        """The Python, NumPy, torch CPU and CUDA generators' states, as the Trainer saves them, in safetensors."""
        if not self._writes_safetensors_state():
            super()._save_rng_state(output_dir)
            return
        states = {"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.random.get_rng_state()}
        if torch.cuda.is_available():  # every GPU's state in a distributed run, the current one's otherwise
            distributed = self.args.parallel_mode == ParallelMode.DISTRIBUTED
            states["cuda"] = torch.cuda.random.get_rng_state_all() if distributed else torch.cuda.get_rng_state()
        Path(output_dir).mkdir(parents=True, exist_ok=True)  # a process may get here before process 0 saved
        save_state(states, self._rng_file(output_dir))

    def _load_rng_state(self, checkpoint: str | None) -> None:
        """Set every generator back to its saved state, so the resumed run draws the same numbers."""
        if not (checkpoint and self._writes_safetensors_state() and self._rng_file(checkpoint).is_file()):
            super()._load_rng_state(checkpoint)  # a Trainer checkpoint with .pth files, or none
            return
        states = load_state(self._rng_file(checkpoint))
        random.setstate(states["python"])
        np.random.set_state(states["numpy"])
        torch.random.set_rng_state(states["cpu"])
        if torch.cuda.is_available():
            distributed = self.args.parallel_mode == ParallelMode.DISTRIBUTED
            set_rng_state_for_device("CUDA", torch.cuda, states, distributed)

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """The Trainer's save (weights, config, tokenizer), with the training arguments as JSON, not a pickle."""
        super()._save(output_dir, state_dict=state_dict)
        if self.args.should_save:
            folder = Path(output_dir or self.args.output_dir)
            (folder / PICKLED_TRAINING_ARGS_FILE).unlink(missing_ok=True)
            (folder / TRAINING_ARGS_FILE).write_text(self.args.to_json_string())


def safetensors_problem(path: str | Path) -> str | None:
    """Why a safetensors file cannot be complete, from its size and header alone (no tensor is read), else None.

    The format is an 8-byte little-endian header length, a JSON header with each tensor's ``data_offsets``, then
    the data: a file cut short by a crash or a full disk is shorter than its header says.
    """
    path = Path(path)
    size = path.stat().st_size
    if size < 8:
        return f"{path.name} has {size} bytes, fewer than a safetensors header's 8"
    with open(path, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
        if 8 + length > size:
            return f"{path.name} is truncated: its header alone should take {8 + length} bytes, the file has {size}"
        try:
            header = json.loads(f.read(length))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return f"{path.name} has a damaged header (not the JSON safetensors writes)"
    if 8 + length + end != size:
        return f"{path.name} is truncated: its header describes {8 + length + end} bytes, the file has {size}"
    return None


def checkpoint_problems(folder: str | Path) -> list[str]:
    """What makes a ``checkpoint-N`` folder unusable: no (or unreadable) ``trainer_state.json`` (the Trainer
    writes it last), a safetensors file shorter than its header says, a shard its index names but lacks."""
    folder = Path(folder)
    problems = []
    state = folder / "trainer_state.json"
    if not state.is_file():
        problems.append("trainer_state.json is missing (the run stopped while saving this checkpoint)")
    else:
        try:
            json.loads(state.read_text())
        except (ValueError, UnicodeDecodeError):
            problems.append("trainer_state.json is not valid JSON")
    problems += [p for p in map(safetensors_problem, sorted(folder.glob("*.safetensors"))) if p]
    for index in folder.glob("*.safetensors.index.json"):
        try:
            shards = set(json.loads(index.read_text())["weight_map"].values())
        except (ValueError, KeyError, AttributeError):
            problems.append(f"{index.name} is damaged")
            continue
        problems += [f"{index.name} names {s}, which is missing" for s in sorted(shards) if not (folder / s).is_file()]
    return problems


#: the ``--resume_from_checkpoint`` values that mean "the newest complete checkpoint in --output_dir"
NEWEST = ("True", "true", "last")


def explicit_checkpoint(resume: str | None) -> str | None:
    """The folder ``--resume_from_checkpoint`` names, or None when it names none (absent, or :data:`NEWEST`)."""
    return None if resume in (None, "", *NEWEST) else resume


def check_resume_checkpoint(resume: str | None) -> None:
    """An explicit ``--resume_from_checkpoint`` folder must exist and pass :func:`checkpoint_problems`."""
    if explicit_checkpoint(resume) is None:
        return
    if not Path(resume).is_dir():
        raise CheckpointNotFoundError(f"--resume_from_checkpoint {resume} does not exist; give a checkpoint-* folder "
                                      "of a previous run (or 'last' for the newest complete one in --output_dir)")
    problems = checkpoint_problems(resume)
    if problems:
        raise CheckpointError(f"Checkpoint {resume} cannot be resumed: {'; '.join(problems)}. Resume from an earlier "
                              "checkpoint, or pass 'last' for the newest complete one")


def last_complete_checkpoint(output_dir: str | Path) -> str | None:
    """The newest ``checkpoint-N`` of ``output_dir`` without :func:`checkpoint_problems`; each newer one that has
    some is skipped with a warning naming its files (``get_last_checkpoint`` would pick it and fail mid-load)."""
    folders = [p for p in Path(output_dir).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    for folder in sorted(folders, key=lambda p: int(p.name.split("-")[-1]), reverse=True):
        problems = checkpoint_problems(folder)
        if not problems:
            return str(folder)
        logger.warning("Skipping %s for --resume_from_checkpoint last: %s", folder, "; ".join(problems))
    return None


def resolve_resume(training_args) -> str | None:
    """``'last'`` / ``True`` -> the newest complete checkpoint in output_dir (None: start fresh); else the path."""
    resume = training_args.resume_from_checkpoint
    if resume in NEWEST:
        return last_complete_checkpoint(training_args.output_dir)
    return resume or None
