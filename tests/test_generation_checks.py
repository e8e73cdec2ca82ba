"""generate() refuses an empty prompt and a run past a learned position table before producing a token."""

import pytest
import torch

from nlpseq.errors import InputError
from nlpseq.hub import export_for_hub
from nlpseq.models import (
    DecoderConfig,
    DecoderForCausalLM,
    RecurrentConfig,
    RecurrentForCausalLM,
    RecurrentSeq2SeqConfig,
    RecurrentSeq2SeqForConditionalGeneration,
    TransformerSeq2SeqConfig,
    TransformerSeq2SeqForConditionalGeneration,
)

SPECIALS = {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
SMALL = {"vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
         "intermediate_size": 32, **SPECIALS}


def _model(name: str, **config):
    torch.manual_seed(0)
    if name == "decoder":
        return DecoderForCausalLM(DecoderConfig(**SMALL, **config)).eval()
    if name == "recurrent":
        return RecurrentForCausalLM(RecurrentConfig(vocab_size=40, hidden_size=16, embedding_size=16,
                                                    **SPECIALS)).eval()
    if name == "recurrent-seq2seq":
        return RecurrentSeq2SeqForConditionalGeneration(RecurrentSeq2SeqConfig(
            vocab_size=40, hidden_size=16, embedding_size=16, decoder_start_token_id=1, **SPECIALS)).eval()
    return TransformerSeq2SeqForConditionalGeneration(TransformerSeq2SeqConfig(
        **SMALL, decoder_start_token_id=1, **config)).eval()


@pytest.mark.parametrize("name", ["decoder", "recurrent", "recurrent-seq2seq", "transformer-seq2seq"])
def test_an_empty_prompt_is_refused_before_generation(name):
    model = _model(name)
    what = "source input_ids of shape \\(2, 0\\): nothing to translate" if "seq2seq" in name else \
        "a prompt of shape \\(2, 0\\): no token to continue from"
    with pytest.raises(InputError, match=what):
        model.generate(input_ids=torch.zeros(2, 0, dtype=torch.long), max_new_tokens=3)
    with pytest.raises(InputError, match="shape \\(2, 0\\)"):
        model.generate(torch.zeros(2, 0, dtype=torch.long), max_new_tokens=3)  # positional `inputs` too
    with pytest.raises(InputError, match="shape \\(1, 0, 16\\)"):
        model.generate(input_ids=None, inputs_embeds=torch.zeros(1, 0, 16), max_new_tokens=3)
    assert model.generate(input_ids=torch.tensor([[5, 6]]), max_new_tokens=3, do_sample=False).shape[0] == 1


def test_a_prompt_plus_new_tokens_past_learned_positions_is_refused_up_front():
    """The probe: a 250-token prompt + 20 new tokens on a 256-position decoder failed at token 257."""
    model = _model("decoder", max_position_embeddings=256)
    prompt = torch.randint(3, 40, (1, 250))
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    with pytest.raises(InputError, match=r"run to 270 tokens \(250 of prompt \+ up to 20 new\), beyond the 256 "
                                         r"positions .*pass max_new_tokens <= 6"):
        model.generate(input_ids=prompt, max_new_tokens=20, do_sample=False)
    assert not calls  # refused before the first forward pass
    out = model.generate(input_ids=prompt, max_new_tokens=6, do_sample=False, eos_token_id=None)
    assert out.shape == (1, 256)
    with pytest.raises(InputError, match="cut the prompt to its last 255 tokens"):
        model.generate(input_ids=torch.randint(3, 40, (1, 256)), max_new_tokens=1)


def test_only_learned_position_tables_limit_generation():
    for kind in ("rotary", "sinusoidal"):  # computed for any position
        model = _model("decoder", max_position_embeddings=8, position_embedding_type=kind)
        out = model.generate(input_ids=torch.tensor([[5, 6, 7]]), max_new_tokens=10, do_sample=False,
                             eos_token_id=None)
        assert out.shape == (1, 13)
    seq2seq = _model("transformer-seq2seq", max_position_embeddings=8, position_embedding_type="learned")
    with pytest.raises(InputError, match=r"\(1 of decoder input \+ up to 9 new\).*pass max_new_tokens <= 7"):
        seq2seq.generate(input_ids=torch.tensor([[5, 6, 7]]), max_new_tokens=9)
    assert seq2seq.generate(input_ids=torch.tensor([[5, 6, 7]]), max_new_tokens=7, eos_token_id=None).shape == (1, 8)


def test_exported_models_carry_the_checks(tmp_path):
    folder = export_for_hub(_model("decoder"), tmp_path / "hub")
    assert {"generation_checks.py", "errors.py"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("name", ["recurrent", "recurrent-seq2seq"])
def test_a_recurrent_model_refuses_a_key_value_cache_layout(name):
    model, prompt = _model(name), torch.tensor([[5, 6, 7]])
    with pytest.raises(InputError, match="cache_implementation='static' cannot apply"):
        model.generate(prompt, max_new_tokens=3, cache_implementation="static")
    model.generation_config.cache_implementation = "offloaded"
    with pytest.raises(InputError, match="cache_implementation='offloaded' cannot apply"):
        model.generate(prompt, max_new_tokens=3)
    model.generation_config.cache_implementation = None
    assert model.generate(prompt, max_new_tokens=3, do_sample=False).shape[1] >= 3


def test_a_transformer_takes_the_static_cache():
    model, prompt = _model("decoder"), torch.tensor([[5, 6, 7]])
    expected = model.generate(prompt, max_new_tokens=4, do_sample=False)
    torch.testing.assert_close(model.generate(prompt, max_new_tokens=4, do_sample=False,
                                              cache_implementation="static"), expected)
