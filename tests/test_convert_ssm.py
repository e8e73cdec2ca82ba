"""Parity oracle: transformers' MambaForCausalLM (small random configs, no downloads, its torch-only path on CPU)
<-> nlpseq's SelectiveSSMForCausalLM, both ways: same logits, same greedy generations."""

import pytest
import torch
from transformers import MambaConfig, MambaForCausalLM

from nlpseq.convert import from_hf, to_hf
from nlpseq.models.configuration_ssm import SelectiveSSMConfig
from nlpseq.models.modeling_ssm import SelectiveSSMForCausalLM

TOL = 1e-4
SPECIALS = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)
SIZES = dict(vocab_size=50, hidden_size=16, state_size=4, num_hidden_layers=2, initializer_range=0.5)
NEW_TOKENS = 8


@pytest.fixture(scope="module")
def mamba() -> MambaForCausalLM:
    torch.manual_seed(0)
    return MambaForCausalLM(MambaConfig(**SIZES, **SPECIALS)).eval()


@pytest.fixture(scope="module")
def ssm() -> SelectiveSSMForCausalLM:
    """Ours, with what the Mamba fixture leaves at its defaults changed: an untied head, a narrower convolution."""
    torch.manual_seed(0)
    config = SelectiveSSMConfig(**SIZES, **SPECIALS, tie_word_embeddings=False, conv_kernel=3)
    return SelectiveSSMForCausalLM(config).eval()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(3, 50, (3, 12), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[0, :4] = 0                                                               # left padding
    mask[1, -3:] = 0                                                              # right padding
    return ids, mask


def max_diff(ours: torch.nn.Module, theirs: torch.nn.Module, ids: torch.Tensor,
             mask: torch.Tensor | None = None) -> float:
    """Largest |logit difference| at the real positions."""
    with torch.no_grad():
        diff = ours(ids, attention_mask=mask).logits - theirs(ids, attention_mask=mask).logits
    return (diff if mask is None else diff * mask[..., None]).abs().max().item()


def assert_same_generations(ours: torch.nn.Module, theirs: torch.nn.Module) -> None:
    """Greedy, from an unpadded prompt and from a left-padded batch."""
    ids, mask = batch()
    mask[1] = 1                                                                   # generation pads on the left
    for kwargs in ({"input_ids": ids[:, :6]}, {"input_ids": ids, "attention_mask": mask}):
        expected = theirs.generate(**kwargs, max_new_tokens=NEW_TOKENS, do_sample=False)
        got = ours.generate(**kwargs, max_new_tokens=NEW_TOKENS, do_sample=False)
        assert torch.equal(got, expected), (got, expected)
        assert len(set(got[:, -NEW_TOKENS:].flatten().tolist())) > 3               # not a degenerate repeat


@pytest.mark.parametrize("implementation", ["sequential", "parallel"])
def test_from_mamba_logits_unpadded_and_padded(mamba, implementation):
    ours = from_hf(mamba)
    assert isinstance(ours, SelectiveSSMForCausalLM) and ours.config.model_type == "nlpseq-ssm"
    assert ours.config.time_step_rank == mamba.config.time_step_rank == 1        # "auto": ceil(16 / 16)
    ours.config.ssm_implementation = implementation
    ids, mask = batch()
    assert max_diff(ours, mamba, ids) < TOL
    assert max_diff(ours, mamba, ids, mask) < TOL          # left and right padding: same at the real positions


def test_from_mamba_greedy_generation_identical(mamba):
    assert_same_generations(from_hf(mamba), mamba)


def test_to_mamba_logits_and_greedy_generation(ssm):
    hf = to_hf(ssm)
    assert isinstance(hf, MambaForCausalLM)
    assert not hf.config.tie_word_embeddings and hf.config.conv_kernel == 3
    ids, mask = batch()
    assert max_diff(ssm, hf, ids) < TOL
    assert max_diff(ssm, hf, ids, mask) < TOL
    assert_same_generations(ssm, hf)


def test_round_trips_and_a_checkpoint_folder(mamba, ssm, tmp_path):
    ids, _ = batch()
    with torch.no_grad():
        assert torch.equal(to_hf(from_hf(mamba))(ids).logits, mamba(ids).logits)
        assert torch.equal(from_hf(to_hf(ssm))(ids).logits, ssm(ids).logits)
    mamba.save_pretrained(tmp_path)                                                # from a checkpoint on disk
    assert max_diff(from_hf(tmp_path), mamba, ids) < TOL


def test_an_adaptive_softmax_has_no_mamba_equivalent():
    config = SelectiveSSMConfig(**SIZES, **SPECIALS, adaptive_softmax_cutoffs=[10, 30])
    with pytest.raises(ValueError, match="adaptive_softmax_cutoffs"):
        to_hf(SelectiveSSMForCausalLM(config))


def test_in_and_out_projection_biases_map_both_ways():
    """``use_bias``: Mamba's ``in_proj`` bias reaches the convolution from a left pad (it zeroes the block's input,
    not ``in_proj``'s output), so this checks unpadded and right-padded rows only."""
    torch.manual_seed(0)
    ours = SelectiveSSMForCausalLM(SelectiveSSMConfig(**SIZES, **SPECIALS, use_bias=True)).eval()
    hf = to_hf(ours)
    assert hf.config.use_bias and hf.backbone.layers[1].mixer.out_proj.bias is not None
    ids, mask = batch()
    mask[0] = 1                                                                   # right padding only
    assert max_diff(ours, hf, ids) < TOL and max_diff(ours, hf, ids, mask) < TOL
    assert max_diff(from_hf(hf), hf, ids) < TOL
