"""One run per ``--output_dir``: a lock taken before any work, and the HF examples' rule for a non-empty folder.

Two runs writing into one folder both used to succeed, leaving checkpoints of both: a later
``--resume_from_checkpoint last`` would continue the other run. Now a recipe takes
``<output_dir>/.nlpseq-run.lock`` (``filelock``: an OS lock, released by the kernel when its process dies,
however it dies) before it reads any data, and writes who holds it into ``.nlpseq-run.json``:

* a second run on the folder is refused, naming the holder's PID, host and command;
* a lock left by a process that died (SIGKILL, power loss) is taken over, with a warning naming that PID;
* a non-empty folder is refused unless ``--resume_from_checkpoint`` continues its run or
  ``--overwrite_output_dir`` starts over in it (deleting its ``checkpoint-*`` folders and the files a run
  writes, so nothing of the old run is resumed or reused). The HF examples refuse a non-empty folder in the
  same way, but resume its last checkpoint silently when there is one; here that needs the flag.

In a distributed run only the process of global rank 0 takes the lock: the others share its run.
On a file system without OS locks ``filelock`` falls back to the lock file's existence; a file left by a
dead process there is reported with its PID, to be deleted by hand.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import ConfigurationError

logger = logging.getLogger(__name__)

LOCK_FILE, HOLDER_FILE = ".nlpseq-run.lock", ".nlpseq-run.json"
#: what a recipe run writes at the top of output_dir (with checkpoint-*): --overwrite_output_dir deletes these
RUN_FILES = ("config.json", "generation_config.json", "model.safetensors", "model-*-of-*.safetensors",
             "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
             "vocab.txt", "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja",
             "training_args.json", "training_args.bin", "trainer_state.json", "all_results.json",
             "train_results.json", "eval_results.json", "test_results.json", "predict_results.json",
             "predict_results.txt", "generated_predictions.txt", "predictions.txt", "README.md", "checkpoint-*")


@dataclass(frozen=True)
class Holder:
    """Who holds the lock: written beside it once taken, read by the runs it refuses."""

    pid: int
    host: str
    started: str
    command: str

    @classmethod
    def current(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%d %H:%M:%S"), " ".join(sys.argv))

    @classmethod
    def read(cls, folder: Path) -> Holder | None:
        try:
            return cls(**json.loads((folder / HOLDER_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def alive(self) -> bool | None:
        """Whether the process still runs (None: it ran on another host, which cannot be asked)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, under another user
            return True
        return True

    def __str__(self) -> str:
        return f"PID {self.pid} on host {self.host}, started {self.started}: {self.command}"


class OutputDirLock:
    """``with OutputDirLock(folder):`` holds the folder for one run; see the module docstring."""

    def __init__(self, output_dir: str | Path):
        self.folder = Path(output_dir)
        self._lock: FileLock | None = None

    def __enter__(self) -> OutputDirLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        previous = Holder.read(self.folder)
        lock = FileLock(str(self.folder / LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise ConfigurationError(self._refusal(Holder.read(self.folder))) from None
        self._lock = lock
        if previous is not None and previous.pid != os.getpid():
            logger.warning("--output_dir %s: took over the lock of %s, which ended without releasing it",
                           self.folder, previous)
        (self.folder / HOLDER_FILE).write_text(json.dumps(asdict(Holder.current())))
        return self

    def _refusal(self, holder: Holder | None) -> str:
        if holder is not None and holder.alive() is False:
            return (f"--output_dir {self.folder} is locked by {holder}, which no longer runs, and this file system "
                    f"keeps its lock file; delete {self.folder / LOCK_FILE} and run again")
        who = str(holder) if holder else "a process that has not written its name yet"
        return (f"--output_dir {self.folder} is in use by another run ({who}); wait for it to end or stop it, or "
                "pass another --output_dir")

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            (self.folder / HOLDER_FILE).unlink(missing_ok=True)
            self._lock.release()
            self._lock = None


def _previous_run(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name not in (LOCK_FILE, HOLDER_FILE))


def prepare_output_dir(folder: str | Path, resume: str | None, overwrite: bool) -> None:
    """A non-empty ``folder`` needs ``resume`` (continue its run) or ``overwrite`` (delete that run's files)."""
    folder = Path(folder)
    contents = _previous_run(folder) if folder.is_dir() else []
    if not contents:
        return
    if overwrite and resume:
        raise ConfigurationError("--overwrite_output_dir starts over and --resume_from_checkpoint continues the run in "
                                 f"{folder}: pass one of them")
    if resume:
        return
    if not overwrite:
        shown = ", ".join(p.name for p in contents[:5]) + (" ..." if len(contents) > 5 else "")
        raise ConfigurationError(f"--output_dir {folder} already holds a run ({shown}); pass --resume_from_checkpoint "
                                 "last to continue it, --overwrite_output_dir to start over in it, or another "
                                 "--output_dir")
    removed = sorted({p for pattern in RUN_FILES for p in folder.glob(pattern)})
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    logger.warning("--overwrite_output_dir: deleted %s from %s", [p.name for p in removed], folder)


@contextlib.contextmanager
def lock_output_dir(training_args, overwrite: bool = False) -> Iterator[None]:
    """Hold ``training_args.output_dir`` for this run (global rank 0 only) and apply the non-empty-folder rule."""
    if training_args.process_index != 0:
        yield
        return
    with OutputDirLock(training_args.output_dir):
        prepare_output_dir(training_args.output_dir, training_args.resume_from_checkpoint, overwrite)
        yield
