"""The measuring parts of ``experiments/attention_maps.py`` (no training) and ``plot_attention_heads(axes=...)``."""

import pytest
import torch

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.attention_maps import head_patterns, position_checks, role, rotation, word_starts  # noqa: E402
from nlpseq.models.positions import sinusoidal_position_encoding  # noqa: E402
from nlpseq.plotting import plot_attention_heads  # noqa: E402


def test_word_starts_point_at_the_first_token_after_a_space():
    ids = torch.tensor([[5, 6, 0, 7, 8, 9, 0, 4]])                    # 0 = space: words 5 6 _ | 7 8 9 _ | 4
    assert word_starts(ids, space_id=0).tolist() == [[0, 0, 0, 3, 3, 3, 3, 7]]


def test_head_patterns_find_self_previous_first_and_word_start_heads():
    seq = 5
    diagonal = torch.eye(seq)
    previous = torch.diag(torch.ones(seq - 1), -1)
    previous[0, 0] = 1.0
    first = torch.zeros(seq, seq)
    first[:, 0] = 1.0
    word_start = torch.tensor([[0, 0, 2, 2, 2]])
    word = torch.zeros(seq, seq)
    word[torch.arange(seq), word_start[0]] = 1.0
    layer = torch.stack([diagonal, previous, first, word])[None]       # (batch 1, 4 heads, seq, seq)
    scores = head_patterns((layer,), word_start)
    assert scores.shape == (1, 4, 4)
    torch.testing.assert_close(scores[0], torch.tensor([[1.0, 0.0, 0.0, 0.25], [0.0, 1.0, 0.25, 0.5],
                                                        [0.0, 0.25, 1.0, 0.25], [0.25, 0.5, 0.25, 1.0]]))
    assert [role(s) for s in scores[0]] == ["self", "previous", "first", "word start"]
    assert role(torch.tensor([0.2, 0.2, 0.2, 0.2])) == "mixed"


def test_sinusoidal_shift_is_a_rotation_and_similarity_depends_only_on_offset():
    table = sinusoidal_position_encoding(torch.arange(40)[None], 16)[0].double()
    r = rotation(3, 16)
    torch.testing.assert_close(r @ r.T, torch.eye(16, dtype=torch.float64))
    assert (table[3:] - table[:-3] @ r.T).abs().max() < 1e-5
    checks = position_checks()
    assert max(checks["rotation_max_error"].values()) < 1e-4
    assert checks["dot"][0] == pytest.approx(64.0)                     # d/2 sin^2 + cos^2 pairs, d = 128
    assert checks["dot_spread_over_pos"] < 1e-3
    assert checks["envelope"][100] < checks["envelope"][10] < checks["dot"][0]


def test_plot_attention_heads_draws_into_given_axes():
    weights = torch.softmax(torch.randn(1, 2, 3, 3, generator=torch.Generator().manual_seed(0)), -1)
    figure, axes = plt.subplots(2, 2)
    plot_attention_heads((weights,), ["a", "b", "c"], axes=axes[1])
    torch.testing.assert_close(torch.tensor(axes[1][1].images[0].get_array().data), weights[0, 1])
    assert not axes[0][0].images
    with pytest.raises(ValueError, match="one per head"):
        plot_attention_heads((weights,), ["a", "b", "c"], axes=axes.flat)
    plt.close(figure)
