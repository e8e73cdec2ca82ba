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
