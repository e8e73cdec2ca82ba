"""The benchmark helpers that turn timings into reported numbers (no timing is asserted anywhere)."""

import json

from benchmarks.common import interleaved, row
from benchmarks.transformer import decoder_mfu, model_flops_per_token


def test_model_flops_follow_the_palm_formula():
    # GPT-2 small at context 1024: 6 N + 12 L T d, as in nanoGPT's estimate_mfu
    assert model_flops_per_token(124_000_000, 12, 1024, 768) == 6 * 124_000_000 + 12 * 12 * 1024 * 768
    assert model_flops_per_token(10, 0, 1024, 768) == 60


def test_mfu_is_skipped_for_a_gpu_without_a_known_peak():
    assert decoder_mfu("Some Unknown Accelerator") is None


def test_interleaved_runs_every_contender_each_round_in_rotating_order():
    calls = []
    times = interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=3, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]
    assert set(times) == {"a", "b"} and all(t["best"] <= t["median"] for t in times.values())


def test_row_ratio_and_target():
    r = row("x", "tokens/s", 150.0, 100.0, target=1.0)
    assert r["ratio"] == 1.5 and r["meets_target"] is True
    assert row("x", "tokens/s", 90.0, 100.0, target=1.0)["meets_target"] is False


def test_every_benchmark_module_runs_under_run_all_and_every_result_renders(tmp_path, monkeypatch):
    """`make bench` imports every module in benchmarks/ (less run_all's SKIP) and calls run(quick=...); the
    markdown then renders every stored results file. A module without run(), or a results file in another format,
    breaks the whole `make bench` (both happened: metrics.py and streaming_memory.py)."""
    import importlib
    import inspect
    import pkgutil
    import shutil

    import benchmarks
    from benchmarks import common, run_all

    names = [m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name not in run_all.SKIP and not m.ispkg]
    assert {"featurizers", "metrics", "streaming_memory", "transformer"} <= set(names)
    for name in names:
        run = getattr(importlib.import_module(f"benchmarks.{name}"), "run", None)
        assert callable(run) and "quick" in inspect.signature(run).parameters, name
    results = tmp_path / "results"
    shutil.copytree(common.RESULTS_DIR, results)
    monkeypatch.setattr(common, "RESULTS_DIR", results)
    monkeypatch.setattr(common, "RESULTS_MD", tmp_path / "RESULTS.md")
    common.write_markdown()
    rendered = (tmp_path / "RESULTS.md").read_text()
    for path in results.glob("*.json"):
        assert f"## {json.loads(path.read_text())['module']}" in rendered, path.name


def test_save_records_the_command_wall_time_and_load_before_and_after(tmp_path, monkeypatch):
    from benchmarks import common

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(common, "RESULTS_MD", tmp_path / "RESULTS.md")
    monkeypatch.setattr(common, "STARTED", (common.time.time() - 12.0, (0.5, 0.25, 0.125)))
    monkeypatch.setattr(common.sys, "argv", ["/x/benchmarks/ssm.py", "--quick"])
    common.save("ssm", [row("x", "tokens/s", 150.0, 100.0)], quick=True)
    run = json.loads((tmp_path / "results" / "ssm.json").read_text())["run"]
    assert run["command"] == "python -m benchmarks.ssm --quick" and 12.0 <= run["wall_s"] < 60
    assert run["load_before"] == [0.5, 0.25, 0.125] and len(run["load_after"]) == 3
    assert "12 s wall · load average (1 / 5 / 15 min) 0.50 -> " in (tmp_path / "RESULTS.md").read_text()
    assert common.STARTED[0] > common.time.time() - 5  # the next module's clock starts at this save
