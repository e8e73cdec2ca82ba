"""The benchmark helpers that turn timings into reported numbers (no timing is asserted anywhere)."""

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
    import json
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
