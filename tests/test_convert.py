"""Parity oracles: real GPT-2 / BERT (small random configs, no downloads) -> nlpseq -> same numbers."""

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel

from nlpseq.convert import from_hf, to_hf
from nlpseq.models.configuration_decoder import DecoderConfig
from nlpseq.models.modeling_decoder import DecoderForCausalLM
from nlpseq.models.modeling_encoder import EncoderForMaskedLM

TOL = 1e-4


@pytest.fixture(scope="module")
def gpt2():
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=64, n_embd=32, n_layer=2, n_head=4, n_positions=48, initializer_range=0.2,
                        bos_token_id=1, eos_token_id=2, pad_token_id=0)
    return GPT2LMHeadModel(config).eval()


@pytest.fixture(scope="module")
def bert():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=48, initializer_range=0.2)
    return BertForMaskedLM(config).eval()


def batch():
    ids = torch.randint(3, 64, (3, 12), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[0, :4] = 0                                                               # left padding
    mask[1, -3:] = 0                                                              # right padding
    return ids, mask


def test_gpt2_logits_unpadded_and_padded(gpt2):
    ours = from_hf(gpt2)
    assert isinstance(ours, DecoderForCausalLM) and ours.config.norm_position == "pre"
    ids, mask = batch()
    with torch.no_grad():
        assert (ours(ids).logits - gpt2(ids).logits).abs().max() < TOL
        positions = (mask.cumsum(-1) - 1).clamp(min=0)                            # GPT-2 needs them spelled out
        diff = ours(ids, attention_mask=mask).logits - gpt2(ids, attention_mask=mask, position_ids=positions).logits
    assert (diff * mask[..., None]).abs().max() < TOL


def test_gpt2_greedy_generation_identical(gpt2):
    ours = from_hf(gpt2)
    ids, mask = batch()
    mask[1] = 1                                                                   # generation uses left padding
    for kwargs in ({"input_ids": ids[:, :6]}, {"input_ids": ids, "attention_mask": mask}):
        expected = gpt2.generate(**kwargs, max_new_tokens=12, do_sample=False)
        got = ours.generate(**kwargs, max_new_tokens=12, do_sample=False)
        assert torch.equal(got, expected)
        assert len(set(got[:, -12:].flatten().tolist())) > 3                      # not a degenerate repeat


def test_bert_mlm_logits_with_and_without_mask(bert):
    ours = from_hf(bert)
    assert isinstance(ours, EncoderForMaskedLM) and ours.config.norm_position == "post"
    ids, mask = batch()
    mask[0] = 1                                                                   # BERT pads on the right
    with torch.no_grad():
        assert (ours(ids).logits - bert(ids).logits).abs().max() < TOL
        diff = ours(ids, attention_mask=mask).logits - bert(ids, attention_mask=mask).logits
    assert (diff * mask[..., None]).abs().max() < TOL


def test_to_hf_round_trip(gpt2, bert, tmp_path):
    ids, _ = batch()
    with torch.no_grad():
        assert torch.equal(to_hf(from_hf(gpt2))(ids).logits, gpt2(ids).logits)
        assert torch.equal(to_hf(from_hf(bert))(ids).logits, bert(ids).logits)
    gpt2.save_pretrained(tmp_path)                                                 # from a checkpoint on disk
    with torch.no_grad():
        assert (from_hf(tmp_path)(ids).logits - gpt2(ids).logits).abs().max() < TOL


def test_unconvertible_models_are_clear_errors():
    rotary = DecoderForCausalLM(DecoderConfig(vocab_size=16, hidden_size=16, num_hidden_layers=1,
                                              num_attention_heads=2, position_embedding_type="rotary"))
    with pytest.raises(ValueError, match="position_embedding_type"):
        to_hf(rotary)
    with pytest.raises(ValueError, match="from_hf converts GPT2LMHeadModel"):
        from_hf(rotary)
