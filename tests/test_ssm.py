"""Selective SSM (Mamba-1): the scans agree, the mixer is its equations, padding and the state cache change nothing,
generate(), save/load, a real learning check, and parity with transformers' Mamba on the same weights."""

import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

import nlpseq  # noqa: F401  (registers the Auto classes)
from nlpseq.hub import export_for_hub
from nlpseq.models import (
    SelectiveSSMConfig,
    SelectiveSSMForCausalLM,
    SelectiveSSMForSequenceClassification,
    SelectiveSSMModel,
    selective_scan_parallel,
    selective_scan_sequential,
)
from nlpseq.models.errors import ConfigurationError, InputError
from nlpseq.models.modeling_ssm import SelectiveSSMMixer

PAD = 0  # the pad id of tiny_ssm_config (tests/conftest.py)


def scan_inputs(batch=2, d_inner=5, seq=11, n=3, with_state=False):
    """Random scan inputs with Mamba's ranges: Δ > 0 (softplus), A < 0; all leaves that require grad."""
    torch.manual_seed(0)
    inputs = dict(x=torch.randn(batch, d_inner, seq), delta=F.softplus(torch.randn(batch, d_inner, seq)),
                  A=-torch.exp(torch.randn(d_inner, n)), B=torch.randn(batch, seq, n), C=torch.randn(batch, seq, n),
                  D=torch.randn(d_inner), state=torch.randn(batch, d_inner, n) if with_state else None)
    return {k: v.requires_grad_() if v is not None else None for k, v in inputs.items()}


def outputs_and_grads(scan, inputs, **kwargs):
    """``(y, final state, gradients of a random linear function of both w.r.t. every input)``."""
    y, h = scan(**inputs, **kwargs)
    weights = torch.Generator().manual_seed(1)
    loss = (y * torch.randn(y.shape, generator=weights)).sum() + (h * torch.randn(h.shape, generator=weights)).sum()
    leaves = [v for v in inputs.values() if v is not None]
    return y, h, torch.autograd.grad(loss, leaves)


@pytest.mark.parametrize("seq, chunk_size, with_state", [
    (11, 4, False),   # not a multiple of the chunk
    (11, 4, True),    # from a given state
    (8, 1, True),     # one step per chunk
    (16, 16, False),  # one chunk, a power of two
    (13, 64, True),   # one chunk, odd length
    (1, 64, True),    # a generation step
])
def test_parallel_scan_matches_the_sequential_loop_in_outputs_and_gradients(seq, chunk_size, with_state):
    inputs = scan_inputs(seq=seq, with_state=with_state)
    y_seq, h_seq, grads_seq = outputs_and_grads(selective_scan_sequential, inputs)
    y_par, h_par, grads_par = outputs_and_grads(selective_scan_parallel, inputs, chunk_size=chunk_size)
    assert y_par.shape == (2, 5, seq) and h_par.shape == (2, 5, 3)
    torch.testing.assert_close(y_par, y_seq, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h_par, h_seq, atol=1e-5, rtol=1e-5)
    for grad_par, grad_seq in zip(grads_par, grads_seq):
        torch.testing.assert_close(grad_par, grad_seq, atol=1e-5, rtol=1e-5)


def test_sequential_scan_is_the_recurrence_written_out():
    """One channel, one state entry, by hand: h_t = exp(Δ_t a) h_{t-1} + Δ_t b_t x_t, y_t = c_t h_t + d x_t."""
    x, delta = torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[0.5, 0.25]]])
    A, B, C, D = torch.tensor([[-2.0]]), torch.tensor([[[3.0], [1.0]]]), torch.tensor([[[1.0], [2.0]]]), torch.ones(1)
    h0 = 0.5 * 3.0 * 1.0
    h1 = math.exp(-0.5) * h0 + 0.25 * 1.0 * 2.0
    for scan in (selective_scan_sequential, selective_scan_parallel):
        y, h = scan(x, delta, A, B, C, D)
        torch.testing.assert_close(y, torch.tensor([[[h0 + 1.0, 2 * h1 + 2.0]]]))
        torch.testing.assert_close(h, torch.tensor([[[h1]]]))


def reference_mixer(mixer: SelectiveSSMMixer, hidden: torch.Tensor) -> torch.Tensor:
    """The Mamba-1 mixer step by step from its equations: ``(batch, seq, hidden) -> (batch, seq, hidden)``."""
    config = mixer.config
    d, rank, n, k = config.intermediate_size, config.time_step_rank, config.state_size, config.conv_kernel
    xz = hidden @ mixer.in_proj.weight.T
    x, z = xz[..., :d], xz[..., d:]
    kernel = mixer.conv1d.weight[:, 0]                                                  # (d, k)
    A = -torch.exp(mixer.A_log)
    h = torch.zeros(hidden.shape[0], d, n)
    outputs = []
    for t in range(hidden.shape[1]):
        u = mixer.conv1d.bias + sum(kernel[:, j] * x[:, t - k + 1 + j] for j in range(k) if t - k + 1 + j >= 0)
        u = F.silu(u)                                                                    # (batch, d)
        dbc = u @ mixer.x_proj.weight.T
        dt = F.softplus(dbc[:, :rank] @ mixer.dt_proj.weight.T + mixer.dt_proj.bias)
        b, c = dbc[:, rank:rank + n], dbc[:, rank + n:]
        h = torch.exp(dt[..., None] * A) * h + (dt * u)[..., None] * b[:, None]
        y = (h * c[:, None]).sum(-1) + mixer.D * u
        outputs.append((y * F.silu(z[:, t])) @ mixer.out_proj.weight.T)
    return torch.stack(outputs, dim=1)


def randomize(model: torch.nn.Module, scale: float = 0.3) -> torch.nn.Module:
    """Move every weight off its init, so that tests see a trained-looking model."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn_like(parameter))
    return model.eval()


@pytest.mark.parametrize("implementation", ["parallel", "sequential"])
def test_mixer_is_its_equations_step_by_step(implementation, tiny_ssm_config):
    mixer = randomize(SelectiveSSMModel(tiny_ssm_config(ssm_implementation=implementation))).layers[0].mixer
    hidden = torch.randn(2, 9, 16)
    with torch.no_grad():
        out, (conv_state, ssm_state) = mixer(hidden)
        torch.testing.assert_close(out, reference_mixer(mixer, hidden), atol=1e-5, rtol=1e-5)
    assert conv_state.shape == (2, 32, 2) and ssm_state.shape == (2, 32, 4)


def test_init_is_mambas(tiny_ssm_config):
    config = tiny_ssm_config()
    model = SelectiveSSMForCausalLM(config)
    mixer = model.model.layers[1].mixer
    torch.testing.assert_close(mixer.A_log, torch.log(torch.arange(1.0, 5.0)).expand(32, 4))
    assert torch.equal(mixer.D, torch.ones(32))
    dt = F.softplus(mixer.dt_proj.bias)
    assert dt.min() >= config.time_step_min * 0.999 and dt.max() <= config.time_step_max * 1.001
    assert mixer.dt_proj.weight.abs().max() <= config.time_step_rank ** -0.5
    assert torch.equal(model.model.norm_f.weight, torch.ones(16))
    assert model.lm_head.weight is model.model.embed_tokens.weight


def test_flipping_the_implementation_keeps_logits(tiny_ssm_config):
    model = randomize(SelectiveSSMForCausalLM(tiny_ssm_config()))
    ids = torch.randint(3, 40, (3, 10))
    mask = torch.tensor([[1] * 10, [0, 0, 0] + [1] * 7, [1] * 8 + [0, 0]])
    with torch.no_grad():
        parallel = model(ids, attention_mask=mask).logits
        model.config.ssm_implementation = "sequential"
        torch.testing.assert_close(model(ids, attention_mask=mask).logits, parallel, atol=1e-5, rtol=1e-5)


def left_padded(prompts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.stack([torch.cat([torch.full((width - len(p),), PAD), p]) for p in prompts])
    mask = torch.stack([torch.cat([torch.zeros(width - len(p)), torch.ones(len(p))]) for p in prompts]).long()
    return ids, mask


def test_left_padded_batch_gives_each_prompts_logits(tiny_ssm_config):
    model = randomize(SelectiveSSMForCausalLM(tiny_ssm_config()))
    prompts = [torch.randint(3, 40, (n,)) for n in (7, 3, 5)]
    ids, mask = left_padded(prompts)
    with torch.no_grad():
        batch = model(ids, attention_mask=mask).logits
        for row, prompt in zip(batch, prompts):
            torch.testing.assert_close(row[7 - len(prompt):], model(prompt[None]).logits[0], atol=1e-5, rtol=1e-5)


def test_the_ssm_state_passes_padding_unchanged(tiny_ssm_config):
    """Δ = 0 on padding: after right padding the scan state is the prompt's own (the conv state holds the pads)."""
    model = randomize(SelectiveSSMModel(tiny_ssm_config()))
    ids = torch.randint(3, 40, (1, 6))
    padded, mask = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], 1), torch.tensor([[1] * 6 + [0] * 3])
    with torch.no_grad():
        _, ssm_padded = model(padded, attention_mask=mask).past_key_values
        _, ssm_alone = model(ids).past_key_values
    torch.testing.assert_close(ssm_padded, ssm_alone, atol=1e-6, rtol=1e-5)


def test_left_padded_generation_continues_like_single_prompts(tiny_ssm_config):
    model = randomize(SelectiveSSMForCausalLM(tiny_ssm_config()))
    prompts = [torch.randint(3, 40, (n,)) for n in (6, 3, 4)]
    ids, mask = left_padded(prompts)
    for kwargs in ({"do_sample": False}, {"num_beams": 3}):
        batch = model.generate(ids, attention_mask=mask, max_new_tokens=6, min_new_tokens=6, **kwargs)
        for row, prompt in zip(batch, prompts):
            single = model.generate(prompt[None], max_new_tokens=6, min_new_tokens=6, **kwargs)[0]
            assert torch.equal(row[6:], single[len(prompt):]), kwargs


def test_the_state_is_a_cache_step_by_step_and_in_chunks(tiny_ssm_config):
    model = randomize(SelectiveSSMForCausalLM(tiny_ssm_config()))
    ids = torch.randint(3, 40, (2, 12))
    with torch.no_grad():
        full = model(ids, use_cache=False)
        assert full.past_key_values is None
        out = model(ids[:, :4])
        logits, past = [out.logits], out.past_key_values
        assert [tuple(t.shape) for t in past] == [(2, 2, 32, 2), (2, 2, 32, 4)]   # (layers, batch, d_inner, ...)
        out = model(ids[:, 4:9], past_key_values=past)                             # a second chunk of prompt
        logits.append(out.logits)
        for t in range(9, 12):                                                     # then one token at a time
            out = model(ids[:, t:t + 1], past_key_values=out.past_key_values)
            logits.append(out.logits)
    assert [tuple(t.shape) for t in out.past_key_values] == [tuple(t.shape) for t in past]  # O(1) in the length
    torch.testing.assert_close(torch.cat(logits, dim=1), full.logits, atol=1e-5, rtol=1e-5)


def test_generate_same_tokens_with_and_without_cache(tiny_ssm_config):
    model = randomize(SelectiveSSMForCausalLM(tiny_ssm_config()))
    prompt = torch.randint(3, 40, (2, 5))
    for kwargs in ({"do_sample": False}, {"num_beams": 3, "num_return_sequences": 2}):
        cached = model.generate(prompt, max_new_tokens=8, use_cache=True, **kwargs)
        uncached = model.generate(prompt, max_new_tokens=8, use_cache=False, **kwargs)
        assert cached.shape[1] > 5
        assert torch.equal(cached, uncached), kwargs


def test_save_and_load_with_the_auto_classes(tiny_ssm_config, tmp_path):
    ids = torch.randint(3, 40, (2, 7))
    for model_class, auto_class in ((SelectiveSSMForCausalLM, AutoModelForCausalLM),
                                    (SelectiveSSMForSequenceClassification, AutoModelForSequenceClassification)):
        model = randomize(model_class(tiny_ssm_config(num_labels=3)))
        folder = tmp_path / model_class.__name__
        model.save_pretrained(folder)
        assert (folder / "model.safetensors").is_file()
        loaded = auto_class.from_pretrained(folder).eval()
        assert type(loaded) is model_class
        for name, tensor in model.state_dict().items():                  # A_log, D, dt_proj: loaded, not re-drawn
            assert torch.equal(loaded.state_dict()[name], tensor), name
        with torch.no_grad():
            assert torch.equal(loaded(ids).logits, model(ids).logits)


FRESH_GENERATE = """
import sys
sys.modules["nlpseq"] = None                      # any `import nlpseq` now raises ImportError
import torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
ids, mask = torch.load(sys.argv[1] + "/inputs.pt")
torch.save(model.generate(ids, attention_mask=mask, max_new_tokens=6, num_beams=3), sys.argv[1] + "/out.pt")
"""


def test_exported_folder_generates_identically_without_nlpseq(tiny_ssm_config, tmp_path):
    model = randomize(SelectiveSSMForCausalLM(tiny_ssm_config()))
    folder = export_for_hub(model, tmp_path / "export")
    assert {"modeling_ssm.py", "configuration_ssm.py", "recurrent.py"} <= {p.name for p in folder.iterdir()}
    ids, mask = left_padded([torch.randint(3, 40, (n,)) for n in (5, 3)])
    torch.save((ids, mask), folder / "inputs.pt")
    script = tmp_path / "elsewhere" / "load.py"
    script.parent.mkdir()
    script.write_text(FRESH_GENERATE)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": "",
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(script), str(folder)], cwd=script.parent, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = model.generate(ids, attention_mask=mask, max_new_tokens=6, num_beams=3)
    assert torch.equal(torch.load(folder / "out.pt"), expected)


def test_a_tiny_language_model_learns_a_repeated_sequence(tiny_ssm_config):
    model = SelectiveSSMForCausalLM(tiny_ssm_config(hidden_size=32, chunk_size=16))
    pattern = torch.tensor([5, 9, 3, 17, 22, 8, 31, 12])
    ids = torch.stack([pattern.roll(-shift).repeat(4) for shift in range(4)])   # (4, 32): rotations of one cycle
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(100):
        loss = model(ids, labels=ids).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1 * math.log(40), loss.item()               # ln 40 = 3.69 at chance


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_sequence_classification_pools_the_real_tokens(pooling, tiny_ssm_config):
    model = randomize(SelectiveSSMForSequenceClassification(tiny_ssm_config(num_labels=3,
                                                                            classifier_pooling=pooling)))
    ids = torch.randint(3, 40, (1, 6))
    with torch.no_grad():
        alone = model(ids).logits
        hidden = model.model(ids).last_hidden_state[0]                                     # (seq, hidden)
        pooled = hidden.mean(0) if pooling == "mean" else hidden[-1]
        torch.testing.assert_close(alone[0], model.score(pooled), atol=1e-6, rtol=1e-6)
        for padded, mask in [(torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], 1), [0, 0, 0] + [1] * 6),
                             (torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], 1), [1] * 6 + [0, 0, 0])]:
            torch.testing.assert_close(model(padded, attention_mask=torch.tensor([mask])).logits, alone,
                                       atol=1e-5, rtol=1e-5)
    model.train()
    batch, labels = torch.randint(3, 40, (4, 6)), torch.tensor([0, 2, 1, 2])
    out = model(batch, labels=labels)
    assert out.logits.shape == (4, 3) and out.loss.shape == ()
    torch.testing.assert_close(out.loss, F.cross_entropy(out.logits, labels))
    out.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("field, value, match", [
    ("ssm_implementation", "cuda", "ssm_implementation"),
    ("time_step_init_scheme", "zeros", "time_step_init_scheme"),
    ("state_size", 0, "state_size"),
    ("chunk_size", 0, "chunk_size"),
    ("conv_kernel", 0, "conv_kernel"),
    ("time_step_rank", "half", "time_step_rank"),
    ("time_step_min", 0.5, "time_step_min"),
    ("layer_norm_epsilon", 0.0, "layer_norm_epsilon"),
    ("hidden_dropout_prob", 1.0, "hidden_dropout_prob"),
    ("hidden_act", "nope", "hidden_act"),
])
def test_bad_config_values_name_the_field(field, value, match):
    with pytest.raises(ConfigurationError, match=match):
        SelectiveSSMConfig(**{field: value})


def test_bad_inputs_raise_clear_errors(tiny_ssm_config):
    model = SelectiveSSMModel(tiny_ssm_config())
    with pytest.raises(InputError, match="length 0"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(InputError, match=r"expected \(conv_state, ssm_state\)"):
        model(torch.ones(2, 3, dtype=torch.long), past_key_values=(torch.zeros(2, 3, 32, 2), torch.zeros(2, 3, 32, 4)))
    assert SelectiveSSMConfig(hidden_size=40).time_step_rank == 3                      # "auto": ceil(40 / 16)
    assert SelectiveSSMConfig(expand=3).intermediate_size == 768


def test_matches_transformers_mamba_with_mapped_weights():
    """transformers' MambaForCausalLM (its torch path, no CUDA kernels) and ours on the same weights, renamed
    ``backbone.embeddings`` -> ``model.embed_tokens`` and ``backbone.`` -> ``model.``."""
    from transformers import MambaConfig, MambaForCausalLM

    sizes = dict(vocab_size=40, hidden_size=16, state_size=4, num_hidden_layers=2, conv_kernel=3, expand=2,
                 pad_token_id=0, bos_token_id=1, eos_token_id=2)
    theirs = randomize(MambaForCausalLM(MambaConfig(**sizes, use_mambapy=False)))
    ours = SelectiveSSMForCausalLM(SelectiveSSMConfig(**sizes, chunk_size=4)).eval()
    renamed = {key.replace("backbone.embeddings.", "model.embed_tokens.").replace("backbone.", "model."): value
               for key, value in theirs.state_dict().items()}
    assert set(renamed) == set(ours.state_dict())
    ours.load_state_dict(renamed)
    ids = torch.randint(3, 40, (2, 11))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, theirs(ids).logits, atol=1e-4, rtol=1e-4)
    expected = theirs.generate(ids, max_new_tokens=5, do_sample=False)          # their cache path against ours
    assert torch.equal(ours.generate(ids, max_new_tokens=5, do_sample=False), expected)
