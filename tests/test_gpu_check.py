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
