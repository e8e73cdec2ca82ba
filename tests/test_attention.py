"""Attention, masks and position encodings: the math against closed forms and against torch's SDPA."""

import math

import pytest
import torch
from transformers.cache_utils import DynamicCache, EncoderDecoderCache
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

import nlpseq.models.speedups as speedups
from nlpseq.models.attention import MultiHeadAttention, eager_attention_forward, make_attention_mask
from nlpseq.models.configuration_decoder import DecoderConfig
from nlpseq.models.configuration_encoder import EncoderConfig
from nlpseq.models.modeling_decoder import DecoderForCausalLM
from nlpseq.models.modeling_encoder import EncoderModel
from nlpseq.models.positions import RotaryEmbedding, apply_rotary_pos_emb, sinusoidal_position_encoding

#: this file's sizes on top of the families' tiny configs (tests/conftest.py): 40 tokens, 32 positions, init 0.2 and
#: no special tokens
SIZES = dict(vocab_size=40, max_position_embeddings=32, initializer_range=0.2, pad_token_id=None, bos_token_id=None,
             eos_token_id=None)


@pytest.fixture(scope="module")
def tiny(tiny_decoder_config, tiny_encoder_config):
    """``tiny(DecoderConfig or EncoderConfig, **overrides)``: that family's tiny config with :data:`SIZES`."""
    families = {DecoderConfig: tiny_decoder_config, EncoderConfig: tiny_encoder_config}

    def build(config_class, **overrides):
        return families[config_class](**{**SIZES, **overrides})

    return build


def test_eager_is_the_textbook_formula():
    q, k, v = torch.randn(3, 2, 4, 5, 8).unbind(0)
    out, weights = eager_attention_forward(torch.nn.Module(), q, k, v, None)
    expected_weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(8), dim=-1)
    torch.testing.assert_close(weights, expected_weights)
    torch.testing.assert_close(out, (expected_weights @ v).transpose(1, 2))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_eager_equals_sdpa(causal, padded):
    q, k, v = torch.randn(3, 2, 4, 7, 8).unbind(0)
    pad = torch.ones(2, 7, dtype=torch.long)
    if padded:
        pad[0, :3] = 0                                                          # left padding
        pad[1, -2:] = 0                                                         # right padding
    mask = make_attention_mask(pad, 7, is_causal=causal)
    module = torch.nn.Module()
    module.is_causal = causal
    eager, weights = eager_attention_forward(module, q, k, v, mask)
    sdpa, _ = ALL_ATTENTION_FUNCTIONS["sdpa"](module, q, k, v, mask)
    assert (eager - sdpa).abs().max() < 1e-5
    assert not eager.isnan().any()
    if causal:
        assert weights[1, :, 0, 1:].abs().max() == 0                                # first query sees only itself
    if padded:
        assert weights[1, :, :5, 5:].abs().max() == 0                             # nobody attends to right padding


def test_model_eager_equals_sdpa_with_padding(tiny):
    model = DecoderForCausalLM(tiny(DecoderConfig)).eval()
    ids = torch.randint(0, 40, (2, 9))
    mask = torch.ones_like(ids)
    mask[0, :4] = 0
    sdpa = model(ids, attention_mask=mask).logits
    model.set_attn_implementation("eager")
    eager = model(ids, attention_mask=mask, output_attentions=True)
    assert (eager.logits - sdpa).abs().max() < 1e-5
    assert len(eager.attentions) == 2 and eager.attentions[0].shape == (2, 4, 9, 9)
    torch.testing.assert_close(eager.attentions[0].sum(-1), torch.ones(2, 4, 9))


def test_mask_is_none_without_padding_and_never_empty():
    assert make_attention_mask(None, 5, is_causal=True) is None
    assert make_attention_mask(torch.ones(2, 5), 5, is_causal=False) is None
    assert make_attention_mask(torch.ones(2, 6), 1, past_length=5, is_causal=True) is None
    mask = make_attention_mask(torch.tensor([[0, 0, 1, 1]]), 4, is_causal=True)
    assert mask.shape == (1, 1, 4, 4)
    assert mask.any(-1).all()                                                     # no row without a key
    assert mask[0, 0, 3].tolist() == [False, False, True, True]


def test_output_attentions_with_sdpa_is_a_clear_error(tiny):
    model = EncoderModel(tiny(EncoderConfig))
    assert model.config._attn_implementation == "sdpa"
    with pytest.raises(ValueError, match="attn_implementation='eager'"):
        model(torch.randint(0, 40, (1, 5)), output_attentions=True)


def test_bad_sizes_are_clear_errors(tiny):
    with pytest.raises(ValueError, match="not divisible by num_attention_heads"):
        tiny(DecoderConfig, hidden_size=30)
    model = DecoderForCausalLM(tiny(DecoderConfig, max_position_embeddings=8))
    with pytest.raises(ValueError, match="exceeds max_position_embeddings=8"):
        model(torch.zeros(1, 9, dtype=torch.long))
    DecoderForCausalLM(tiny(DecoderConfig, position_embedding_type="sinusoidal", max_position_embeddings=8))(
        torch.zeros(1, 9, dtype=torch.long))                                       # sinusoidal has no limit
    with pytest.raises(ValueError, match="position_embedding_type"):
        tiny(EncoderConfig, position_embedding_type="alibi")


def test_sinusoidal_matches_the_paper_formula():
    d = 16
    table = sinusoidal_position_encoding(torch.arange(50)[None], d)[0]
    for pos in (0, 7, 49):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_rotary_scores_depend_only_on_distance():
    rotary = RotaryEmbedding(8)
    q, k = torch.randn(2, 1, 1, 1, 8).unbind(0)

    def score(pos_q, pos_k):
        cos, sin = rotary(torch.tensor([[pos_q, pos_k]]), torch.float32)
        rq, _ = apply_rotary_pos_emb(q, q, cos[:, :1], sin[:, :1])
        _, rk = apply_rotary_pos_emb(k, k, cos[:, 1:], sin[:, 1:])
        return (rq * rk).sum().item()

    assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-5)
    assert score(5, 2) != pytest.approx(score(5, 4), abs=1e-3)


@pytest.mark.parametrize("cross", [False, True], ids=["self", "cross"])
def test_fused_projection_equals_separate_products(monkeypatch, cross, tiny):
    """[Q K V] = X [W_Q W_K W_V] (one matmul, taken for mid-sized inputs) gives the three separate products'
    outputs and gradients; the size window decides only which path runs."""
    torch.manual_seed(0)
    config = tiny(EncoderConfig)
    attention = MultiHeadAttention(config, layer_idx=0, is_cross_attention=cross)
    x = torch.randn(4, 32, 32, requires_grad=True)                        # 128 rows: inside the fusing window
    memory = torch.randn(4, 16, 32, requires_grad=True) if cross else None
    calls = []
    original = torch.nn.functional.linear
    monkeypatch.setattr(torch.nn.functional, "linear",
                        lambda i, w, b=None: calls.append(w.shape[0]) or original(i, w, b))

    def run(min_rows, max_elements):
        monkeypatch.setattr(speedups, "FUSE_MIN_ROWS", min_rows)
        monkeypatch.setattr(speedups, "FUSE_MAX_ELEMENTS", max_elements)
        calls.clear()
        out = attention(x, key_value_states=memory)[0]
        grads = torch.autograd.grad(out.square().sum(), [x, *([memory] if cross else []), *attention.parameters()])
        return out, grads, list(calls)

    fused_out, fused_grads, fused_calls = run(64, 2**20)
    separate_out, separate_grads, separate_calls = run(10**9, 2**20)
    too_big_out, _, too_big_calls = run(64, 1000)                           # fused output would exceed the cap
    assert fused_calls == ([32, 64, 32] if cross else [96, 32])            # Q, [K V], O  or  [Q K V], O
    assert separate_calls == too_big_calls == [32, 32, 32, 32]
    torch.testing.assert_close(fused_out, separate_out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(too_big_out, separate_out, atol=0, rtol=0)
    for fused, separate in zip(fused_grads, separate_grads):
        torch.testing.assert_close(fused, separate, atol=1e-5, rtol=1e-5)


def test_cross_attention_keys_are_computed_once_and_cached(tiny):
    config = tiny(DecoderConfig)
    config._attn_implementation = "eager"
    cross = MultiHeadAttention(config, layer_idx=0, is_cross_attention=True).eval()
    source = torch.randn(2, 6, 32)
    cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    first, weights = cross(torch.randn(2, 1, 32), key_value_states=source, past_key_values=cache)
    assert weights.shape == (2, 4, 1, 6) and cache.is_updated[0]
    query = torch.randn(2, 1, 32)
    cached, _ = cross(query, key_value_states=torch.zeros_like(source), past_key_values=cache)
    fresh, _ = cross(query, key_value_states=source)
    torch.testing.assert_close(cached, fresh)                                       # K/V came from the cache
    pad = torch.ones(2, 6)
    pad[1, 4:] = 0
    _, masked = cross(query, make_attention_mask(pad, 1, past_length=5), key_value_states=source)
    assert masked[1, :, :, 4:].abs().max() == 0


def test_attention_and_position_plots(tiny):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from nlpseq.plotting import plot_attention_heads, plot_position_encoding

    model = EncoderModel(tiny(EncoderConfig, attn_implementation="eager")).eval()
    attentions = model(torch.randint(0, 40, (1, 6)), output_attentions=True).attentions
    figure = plot_attention_heads(attentions, ["The", "cat", "sat", "on", "the", "mat"], layer=1)
    images = [ax.images[0].get_array() for ax in figure.axes if ax.images]
    assert len(images) == 4                                                       # one panel per head
    torch.testing.assert_close(torch.tensor(images[2].data), attentions[1][0, 2])
    table = plot_position_encoding(length=10, hidden_size=8).axes[0].images[0].get_array()
    assert table.shape == (10, 8) and table[3, 0] == pytest.approx(math.sin(3), abs=1e-6)
