"""RNN / LSTM / GRU cells and the Recurrent layer: equations, eager == fused == bare torch, state, padding, errors."""

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nlpseq.models.recurrent import CELLS, Recurrent

TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
TORCH_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
INPUT, HIDDEN, BATCH, SEQ = 5, 6, 3, 7
LENGTHS = torch.tensor([7, 3, 5])  # right padding, as torch's packed sequences need


def torch_twin(layer: Recurrent) -> nn.RNNBase:
    """A bare torch.nn.RNN/LSTM/GRU holding copies of ``layer``'s weights."""
    twin = TORCH_LAYERS[layer.cell](layer.input_size, layer.hidden_size, num_layers=layer.num_layers,
                                    bidirectional=layer.bidirectional, batch_first=True)
    state = twin.state_dict()
    for key in state:  # weight_ih_l1_reverse -> cells[1 * directions + 1].weight_ih
        name, layer_tag = key.rsplit("_l", 1)
        index = int(layer_tag.split("_")[0]) * layer.num_directions + layer_tag.endswith("reverse")
        state[key] = getattr(layer.cells[index], name).detach().clone()
    twin.load_state_dict(state)
    return twin


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_cell_equals_torch_cell(cell):
    ours = CELLS[cell](INPUT, HIDDEN)
    ref = TORCH_CELLS[cell](INPUT, HIDDEN)
    ref.load_state_dict(ours.state_dict())  # same parameter names and gate layout
    x = torch.randn(BATCH, INPUT)
    state = tuple(torch.randn(BATCH, HIDDEN) for _ in range(ours.state_size))
    expected = as_tuple(ref(x, state if cell == "lstm" else state[0]))
    for got, want in zip(ours(x, state), expected):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradcheck_cell_float64(cell):
    module = CELLS[cell](3, 4).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(2, 4, dtype=torch.float64, requires_grad=True) for _ in range(module.state_size))

    weights = {name: p.detach().clone().requires_grad_() for name, p in module.named_parameters()}

    def step(x, *tensors):  # gradients w.r.t. the input, the state and every weight
        state, params = tensors[: module.state_size], dict(zip(weights, tensors[module.state_size :]))
        return functional_call(module, params, (x, state))

    assert torch.autograd.gradcheck(step, (x, *state, *weights.values()))


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_cell_init_is_explicit(cell):
    module = CELLS[cell](INPUT, 64)
    bound = 64**-0.5
    for weight in (module.weight_ih, module.weight_hh):  # U(-1/sqrt(hidden), 1/sqrt(hidden))
        assert weight.abs().max() <= bound
        assert weight.std().item() == pytest.approx(bound / 3**0.5, rel=0.1)
    assert module.bias_ih.abs().sum() == 0
    remember = torch.zeros(module.bias_hh.shape)
    if cell != "rnn":  # LSTM forget gate / GRU update gate lean towards keeping the state
        remember[64:128] = 1.0
    torch.testing.assert_close(module.bias_hh.detach(), remember)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_eager_equals_fused_equals_bare_torch(cell, num_layers, bidirectional):
    layer = Recurrent(cell, INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional, dropout=0.3).eval()
    twin = torch_twin(layer).eval()
    x = torch.randn(BATCH, SEQ, INPUT)
    state0 = tuple(0.5 * torch.randn(num_layers * layer.num_directions, BATCH, HIDDEN)
                   for _ in range(layer.state_size))
    results = {}
    for name in ("eager", "fused", "torch"):
        inputs = x.clone().requires_grad_()
        if name == "torch":
            packed = pack_padded_sequence(inputs, LENGTHS, batch_first=True, enforce_sorted=False)
            out, state = twin(packed, state0 if cell == "lstm" else state0[0])
            out = pad_packed_sequence(out, batch_first=True, total_length=SEQ)[0]
            params = list(twin.parameters())
        else:
            result = layer(inputs, state0, lengths=LENGTHS, implementation=name)
            out, state, params = result.output, result.state, list(layer.parameters())
        state = as_tuple(state)
        loss = (out * torch.linspace(-1, 1, out.shape[-1])).sum() + sum(s.pow(2).sum() for s in state)
        grads = torch.autograd.grad(loss, [inputs, *params])
        results[name] = (out, state, grads)
    for name in ("fused", "torch"):
        out, state, grads = results[name]
        torch.testing.assert_close(out, results["eager"][0], atol=1e-5, rtol=1e-5)
        for got, want in zip(state, results["eager"][1]):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
        for got, want in zip(grads, results["eager"][2]):
            torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert results["eager"][0][1, 3:].abs().max() == 0  # outputs at padding are zero


@pytest.mark.parametrize("implementation", ["eager", "fused"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_padding_anywhere_gives_the_unpadded_result(cell, implementation):
    layer = Recurrent(cell, INPUT, HIDDEN, num_layers=2, bidirectional=True, implementation=implementation)
    x = torch.randn(1, 4, INPUT)
    alone = layer(x)
    pad = torch.randn(1, 2, INPUT)
    for padded, mask in [(torch.cat([pad, x], 1), [0, 0, 1, 1, 1, 1]),     # left padding
                         (torch.cat([x, pad], 1), [1, 1, 1, 1, 0, 0]),     # right padding
                         (torch.cat([x[:, :2], pad, x[:, 2:]], 1), [1, 1, 0, 0, 1, 1])]:  # a hole
        result = layer(padded, attention_mask=torch.tensor([mask]))
        real = torch.tensor(mask).bool()
        torch.testing.assert_close(result.output[:, real], alone.output, atol=1e-6, rtol=1e-5)
        assert result.output[:, ~real].abs().max() == 0
        for got, want in zip(result.state, alone.state):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("implementation", ["eager", "fused"])
def test_state_carries_over_between_calls(implementation):
    """Step-by-step use (generation, seq2seq decoders): chunks fed with the previous state == one call."""
    layer = Recurrent("lstm", INPUT, HIDDEN, num_layers=2, implementation=implementation)
    x = torch.randn(BATCH, SEQ, INPUT)
    whole = layer(x)
    state, outputs = None, []
    for t in range(SEQ):
        step = layer(x[:, t : t + 1], state)
        state = step.state
        outputs.append(step.output)
    torch.testing.assert_close(torch.cat(outputs, 1), whole.output, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(state[1], whole.state[1], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("implementation", ["eager", "fused"])
def test_layer_outputs_and_interlayer_dropout(implementation):
    layer = Recurrent("gru", INPUT, HIDDEN, num_layers=3, dropout=0.5, implementation=implementation)
    x = torch.randn(BATCH, SEQ, INPUT)
    layer.eval()
    result = layer(x, output_layer_outputs=True)
    assert [o.shape for o in result.layer_outputs] == [(BATCH, SEQ, HIDDEN)] * 3
    torch.testing.assert_close(result.layer_outputs[-1], result.output)
    torch.testing.assert_close(layer(x).output, result.output, atol=1e-6, rtol=1e-5)
    layer.train()
    torch.manual_seed(1)
    first = layer(x).output
    torch.manual_seed(2)
    assert not torch.allclose(first, layer(x).output)  # dropout between layers is active in training


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="Unknown recurrent cell 'transformer'"):
        Recurrent("transformer", INPUT, HIDDEN)
    with pytest.raises(ValueError, match="Unknown rnn_implementation"):
        Recurrent("lstm", INPUT, HIDDEN, implementation="cudnn")
    layer = Recurrent("lstm", INPUT, HIDDEN, num_layers=2)
    x = torch.randn(BATCH, SEQ, INPUT)
    wrong_hidden = tuple(torch.zeros(2, BATCH, HIDDEN + 1) for _ in range(2))
    with pytest.raises(ValueError, match=r"State tensor h has shape \(2, 3, 7\), expected .* \(2, 3, 6\)"):
        layer(x, wrong_hidden)
    with pytest.raises(ValueError, match="tuple \\('h', 'c'\\) of 2 tensor"):
        layer(x, torch.zeros(2, BATCH, HIDDEN))
    with pytest.raises(ValueError, match="length 0"):
        layer(torch.randn(BATCH, 0, INPUT))
    with pytest.raises(ValueError, match=r"Sequences \[1\] of the batch have length 0"):
        layer(x, attention_mask=torch.tensor([[1] * SEQ, [0] * SEQ, [1] * SEQ]))
    with pytest.raises(ValueError, match=r"inputs of shape \(batch, seq, 5\)"):
        layer(torch.randn(BATCH, SEQ, INPUT + 1))
    with pytest.raises(ValueError, match=r"lengths must be \(batch,\) = \(3,\) with values <= seq = 7"):
        layer(x, lengths=torch.tensor([7, 9, 2]))
    with pytest.raises(ValueError, match=r"lengths must be \(batch,\)"):
        layer(x, lengths=torch.tensor([7, 2]))
    with pytest.raises(ValueError, match=r"Sequences \[1\] of the batch have length 0"):
        layer(x, lengths=torch.tensor([7, 0, 2]))


def test_state_of_another_float_dtype_follows_the_inputs():
    """A float64 state (or a bf16 bridge output under autocast) is cast to the inputs' dtype."""
    layer = Recurrent("lstm", INPUT, HIDDEN)
    x = torch.randn(BATCH, SEQ, INPUT)
    state = tuple(torch.randn(1, BATCH, HIDDEN) for _ in range(2))
    expected = layer(x, state)
    got = layer(x, tuple(s.double() for s in state))
    assert got.output.dtype == torch.float32 and got.state[0].dtype == torch.float32
    torch.testing.assert_close(got.output, expected.output)
