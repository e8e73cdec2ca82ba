"""The prepared GPU check refuses a machine without CUDA clearly, before any work."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without CUDA")
def test_gpu_check_says_it_needs_cuda_and_exits_2(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "needs a CUDA GPU" in done.stderr and "torch.cuda.is_available() is False" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing was run or written


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without CUDA")
def test_gpu_check_module_refuses_too(capsys):
    from benchmarks.gpu_check import main

    assert main(["--output_dir", "unused"]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err


def test_nanogpt_reference_reads_val_losses_and_stops_at_the_budget(tmp_path):
    """The nanogpt stage runs a clone's prepare.py and train.py, reads 'step N: ... val loss X' lines as they come
    and kills train.py once the wall-clock budget is spent (here a stand-in that would print forever)."""
    from benchmarks.gpu_check import run_nanogpt

    clone, data = tmp_path / "nanoGPT", tmp_path / "data"
    (clone / "data" / "shakespeare_char").mkdir(parents=True)
    (data / "tinyshakespeare").mkdir(parents=True)
    (data / "tinyshakespeare" / "input.txt").write_text("First Citizen:\n")
    (clone / "data" / "shakespeare_char" / "prepare.py").write_text(
        "import pathlib; pathlib.Path('train.bin').write_text(pathlib.Path('input.txt').read_text())")
    (clone / "train.py").write_text(
        "import itertools, sys, time\nassert sys.argv[1] == 'config/train_shakespeare_char.py'\n"
        "for step in itertools.count(0, 250):\n"
        "    print(f'step {step}: train loss 9.0, val loss {4 - step / 1000:.4f}')\n"
        "    print(f'iter {step}: loss 2.0, time 1.0ms, mfu 10.00%')\n    time.sleep(0.2)\n")
    rows = run_nanogpt(clone, data, minutes=0.02, work=tmp_path)
    assert (clone / "data" / "shakespeare_char" / "train.bin").read_text() == "First Citizen:\n"
    (row,) = rows
    evals = row["evals"]
    assert 3 <= len(evals) <= 12  # 1.2 s at 0.2 s per evaluation, then killed: not run forever
    assert [e["step"] for e in evals] == list(range(0, 250 * len(evals), 250))
    assert row["value"] == evals[-1]["val"] == 4 - evals[-1]["step"] / 1000  # the best: the loss only falls here
    assert row["best_step"] == row["steps"] == evals[-1]["step"]


def test_nanogpt_stage_without_a_clone_is_a_row_error(tmp_path):
    from benchmarks.gpu_check import run_nanogpt

    (row,) = run_nanogpt(None, tmp_path, minutes=1, work=tmp_path)
    assert "no train.py in --nanogpt_dir None" in row["error"]


def test_unknown_stage_is_refused_before_any_work(capsys):
    from benchmarks.gpu_check import main

    with pytest.raises(SystemExit):
        main(["--stages", "recipes,nanogtp"])
    assert "unknown ['nanogtp']" in capsys.readouterr().err
