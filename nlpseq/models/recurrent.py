"""Recurrent cells written from their equations, and a multi-layer ``Recurrent`` layer that runs them.

A recurrent network reads a sequence one step at a time and carries a state from step to step, with the
*same* weights at every step; training unrolls the loop and backpropagates through time (BPTT), which autograd
does for us. Shapes are batch-first: inputs ``(batch, seq, input_size)``, outputs
``(batch, seq, num_directions * hidden_size)``.

Parameters use torch's names and layout (``weight_ih (gates * hidden, input)``, ``weight_hh (gates * hidden,
hidden)``, ``bias_ih``, ``bias_hh``; gate order LSTM ``i, f, g, o`` and GRU ``r, z, n``), so the ``"fused"``
implementation runs ``torch.nn.RNN/LSTM/GRU`` kernels (cuDNN on GPU, oneDNN/ATen on CPU) on exactly the same
tensors as the ``"eager"`` step-by-step loop of our cells, and a bare ``torch.nn.LSTM`` can load them.

State layout (what goes in and out of ``Recurrent`` and what the language model keeps as its cache): a tuple
with one tensor for ``rnn`` / ``gru`` ``(h,)`` and two for ``lstm`` ``(h, c)``; each tensor has torch's shape
``(num_layers * num_directions, batch, hidden_size)``, index ``layer * num_directions + direction``
(direction 0 reads left to right, 1 right to left). A single cell works on one slice: ``(batch, hidden_size)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.cache_utils import Cache
from transformers.utils import ModelOutput

from .configuration_recurrent import RNN_IMPLEMENTATIONS, check_cell, check_implementation
from .errors import ConfigurationError, InputError
from .heads import init_normal
from .speedups import Dropout

State = tuple[torch.Tensor, ...]


class RecurrentCell(nn.Module):
    """One step of a recurrence: ``state_t = cell(x_t, state_{t-1})``; subclasses write the equations.

    ``forward`` = ``step(input_projection(x_t), state)``: the input half ``x_t W_ih^T + b_ih`` of every gate does
    not depend on the state, so a layer computes it for all steps at once and only loops over ``step``.
    """

    num_gates: int = 1
    state_size: int = 1  # tensors in the state: (h,) or (h, c)
    remember_gate: int | None = None  # the gate block whose bias_hh starts at 1 (the one that keeps the old state)

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        gates = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gates, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gates))
        self.bias_hh = nn.Parameter(torch.empty(gates))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Explicit init: every weight ``U(-1/sqrt(hidden), 1/sqrt(hidden))`` (torch's and Keras' classic scheme),
        zero biases except the gate that keeps the old state (LSTM forget gate, GRU update gate) at 1, so a fresh
        gated cell leans towards remembering. Uses ``transformers.initialization``, which leaves weights loaded by
        ``from_pretrained`` untouched."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        init.uniform_(self.weight_ih, -bound, bound)
        init.uniform_(self.weight_hh, -bound, bound)
        init.zeros_(self.bias_ih)
        bias = torch.zeros_like(self.bias_hh)
        if self.remember_gate is not None:
            bias[self.remember_gate * self.hidden_size : (self.remember_gate + 1) * self.hidden_size] = 1.0
        init.copy_(self.bias_hh, bias)

    def input_projection(self, x: torch.Tensor) -> torch.Tensor:
        """``x W_ih^T + b_ih``: ``(..., input_size)`` -> ``(..., num_gates * hidden_size)``."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def step(self, projected: torch.Tensor, state: State) -> State:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, state: State | None = None) -> State:
        """``x (batch, input_size)``, ``state`` a tuple of ``(batch, hidden_size)`` (zeros if None)."""
        if state is None:
            state = (x.new_zeros(x.shape[0], self.hidden_size),) * self.state_size
        return self.step(self.input_projection(x), state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(RecurrentCell):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Textbooks write it ``h_t = tanh(U x_t + W h_{t-1} + b)`` (``U = W_ih``, ``W = W_hh``, ``b = b_ih + b_hh``)
    with the output ``y_t = V h_t + c`` left to the model's head. State: ``(h,)``.
    """

    def step(self, projected: torch.Tensor, state: State) -> State:
        (h,) = state
        return (torch.tanh(projected + F.linear(h, self.weight_hh, self.bias_hh)),)


class LSTMCell(RecurrentCell):
    """Long short-term memory. With ``a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh`` split into four blocks::

        i_t = sigmoid(a_i)                input gate
        f_t = sigmoid(a_f)                forget gate
        C~_t = tanh(a_g)                  candidate cell
        o_t = sigmoid(a_o)                output gate
        C_t = f_t * C_{t-1} + i_t * C~_t  (the additive path that lets gradients survive many steps)
        h_t = o_t * tanh(C_t)

    State: ``(h, c)``. The forget-gate bias starts at 1 (remember by default).
    """

    num_gates = 4
    state_size = 2
    remember_gate = 1  # f, the forget gate

    def step(self, projected: torch.Tensor, state: State) -> State:
        h, c = state
        i, f, g, o = (projected + F.linear(h, self.weight_hh, self.bias_hh)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class GRUCell(RecurrentCell):
    """Gated recurrent unit, in torch's convention::

        r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)          reset gate
        z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)          update gate
        h~_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))    candidate
        h_t = z_t * h_{t-1} + (1 - z_t) * h~_t

    Many textbooks write ``h_t = (1 - z_t) * h_{t-1} + z_t * h~_t``: the same cell with ``z_textbook = 1 - z_torch``.
    We keep torch's sign so ``torch.nn.GRU`` runs on our weights. State: ``(h,)``.
    """

    num_gates = 3
    remember_gate = 1  # z, the update gate: z = 1 keeps h_{t-1}

    def step(self, projected: torch.Tensor, state: State) -> State:
        (h,) = state
        x_r, x_z, x_n = projected.chunk(3, dim=-1)
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        candidate = torch.tanh(x_n + r * h_n)
        return (z * h + (1 - z) * candidate,)


CELLS: dict[str, type[RecurrentCell]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
TORCH_KERNELS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass
class RecurrentOutput(ModelOutput):
    """``output (batch, seq, num_directions * hidden)`` (zeros at padding), ``state`` (see the module docstring),
    ``layer_outputs``: every layer's output when asked for (the last one is ``output``)."""

    output: torch.Tensor | None = None
    state: State | None = None
    layer_outputs: tuple[torch.Tensor, ...] | None = None


class Recurrent(nn.Module):
    """A stack of ``num_layers`` recurrent layers, optionally bidirectional, with dropout between layers.

    Layer ``l`` reads layer ``l - 1``'s output (the concatenation of both directions). Padding is skipped:
    where ``attention_mask`` is 0 the state is carried over unchanged (``h_t = h_{t-1}``) and the output is 0,
    so the final state is the one after the last real token (left, right or any padding), in both directions.
    Feeding a sequence in pieces, each with the previous piece's final state, gives the same result as one call
    (how generation and step-by-step decoders use it).

    ``implementation="eager"`` loops our cells over time; ``"fused"`` hands the same parameters to
    ``torch.nn.RNN/LSTM/GRU`` (via ``torch.func.functional_call``) with packed sequences for padding.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, implementation: str = "fused"):
        super().__init__()
        check_cell(cell)
        check_implementation(implementation)
        if min(input_size, hidden_size, num_layers) < 1:
            raise ConfigurationError(f"input_size, hidden_size and num_layers must be >= 1, got {input_size}, "
                                     f"{hidden_size}, {num_layers}.")
        self.cell, self.input_size, self.hidden_size = cell, input_size, hidden_size
        self.num_layers, self.bidirectional, self.dropout = num_layers, bidirectional, dropout
        self.num_directions = 2 if bidirectional else 1
        self.implementation = implementation
        self.output_size = self.num_directions * hidden_size
        self.cells = nn.ModuleList(
            CELLS[cell](input_size if layer == 0 else self.output_size, hidden_size)
            for layer in range(num_layers) for _ in range(self.num_directions)
        )
        self.state_size = self.cells[0].state_size
        self.layer_dropout = Dropout(dropout)  # between layers; a fused multi-layer kernel applies torch's own
        self._kernels: dict[tuple[int, int], nn.RNNBase] = {}

    def extra_repr(self) -> str:
        return (f"{self.cell}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dropout={self.dropout}, implementation={self.implementation}")

    def initial_state(self, batch_size: int, device: torch.device | None = None,
                      dtype: torch.dtype | None = None) -> State:
        """Zeros: ``state_size`` tensors of ``(num_layers * num_directions, batch, hidden_size)``."""
        shape = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        return tuple(torch.zeros(shape, device=device, dtype=dtype) for _ in range(self.state_size))

    def forward(self, inputs: torch.Tensor, state: State | torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, lengths: torch.Tensor | None = None,
                output_layer_outputs: bool = False, implementation: str | None = None) -> RecurrentOutput:
        """Run the stack over ``inputs (batch, seq, input_size)``.

        Args:
            state: initial state (see the module docstring; a bare tensor is accepted for rnn/gru); zeros if None.
            attention_mask: ``(batch, seq)``, 1 for real tokens, 0 for padding. Or give ``lengths (batch,)`` for
                right padding.
            output_layer_outputs: also return every layer's output.
            implementation: ``"eager"`` or ``"fused"``; defaults to ``self.implementation``.
        """
        implementation = implementation or self.implementation
        check_implementation(implementation)
        mask = self._check_inputs(inputs, attention_mask, lengths)
        state = self._check_state(state, inputs)
        run = self._eager if implementation == "eager" else self._fused
        output, state, layer_outputs = run(inputs, state, mask, output_layer_outputs)
        return RecurrentOutput(output=output, state=state, layer_outputs=layer_outputs)

    def _check_inputs(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None,
                      lengths: torch.Tensor | None) -> torch.Tensor | None:
        """Validate shapes; return a bool mask ``(batch, seq)``, or None when every position is real."""
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_size:
            raise InputError(f"Recurrent expects inputs of shape (batch, seq, {self.input_size}), got "
                             f"{tuple(inputs.shape)}.")
        batch_size, length = inputs.shape[:2]
        if length == 0:
            raise InputError("Got a sequence of length 0; a recurrent layer needs at least one time step "
                             "(drop empty examples before batching).")
        if attention_mask is not None and lengths is not None:
            raise InputError("Pass attention_mask or lengths, not both.")
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=inputs.device)
            if lengths.shape != (batch_size,) or bool((lengths > length).any()):
                raise InputError(f"lengths must be (batch,) = ({batch_size},) with values <= seq = {length}, got "
                                 f"{lengths.tolist()}; pass one length per sequence, at most the padded length.")
            attention_mask = torch.arange(length, device=inputs.device) < lengths[:, None]
        if attention_mask is None:
            return None
        if attention_mask.shape != (batch_size, length):
            raise InputError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected (batch, seq) = "
                             f"{(batch_size, length)}.")
        mask = attention_mask.to(inputs.device).bool()
        empty = (~mask.any(dim=1)).nonzero().flatten().tolist()
        if empty:
            raise InputError(f"Sequences {empty} of the batch have length 0 (no real token in attention_mask); "
                             "drop empty examples before batching.")
        return None if bool(mask.all()) else mask

    def _check_state(self, state: State | torch.Tensor | None, inputs: torch.Tensor) -> State:
        batch_size = inputs.shape[0]
        if state is None:
            return self.initial_state(batch_size, inputs.device, inputs.dtype)
        if isinstance(state, torch.Tensor):
            state = (state,)
        expected = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        names = ("h", "c")[: self.state_size]
        if len(state) != self.state_size:
            raise InputError(f"A {self.cell} state is a tuple {names} of {self.state_size} tensor(s), got "
                             f"{len(state)}.")
        for name, tensor in zip(names, state):
            if tuple(tensor.shape) != expected:
                raise InputError(
                    f"State tensor {name} has shape {tuple(tensor.shape)}, expected (num_layers * num_directions, "
                    f"batch, hidden_size) = {expected}; check hidden_size, num_layers and bidirectional match the "
                    "state's producer, and that the state's batch matches the inputs."
                )
            if tensor.device != inputs.device:
                raise InputError(f"State tensor {name} is on {tensor.device} but the inputs are on {inputs.device}; "
                                 "move the state with .to(inputs.device).")
        # A state of another float dtype (a bridge run under autocast, a float64 state) follows the inputs.
        return tuple(tensor.to(inputs.dtype) for tensor in state)

    def _eager(self, inputs: torch.Tensor, state: State, mask: torch.Tensor | None,
               output_layer_outputs: bool) -> tuple[torch.Tensor, State, tuple[torch.Tensor, ...] | None]:
        layer_input, layer_outputs, final = inputs, [], []
        for layer in range(self.num_layers):
            directions = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                out, last = self._scan(self.cells[index], layer_input, tuple(s[index] for s in state), mask,
                                       reverse=direction == 1)
                directions.append(out)
                final.append(last)
            output = torch.cat(directions, dim=-1)
            layer_outputs.append(output)
            layer_input = self.layer_dropout(output) if layer < self.num_layers - 1 else output
        new_state = tuple(torch.stack([last[i] for last in final]) for i in range(self.state_size))
        return output, new_state, tuple(layer_outputs) if output_layer_outputs else None

    @staticmethod
    def _scan(cell: RecurrentCell, inputs: torch.Tensor, state: State, mask: torch.Tensor | None,
              reverse: bool) -> tuple[torch.Tensor, State]:
        """Unroll ``cell`` over time: ``(batch, seq, input)`` -> outputs ``(batch, seq, hidden)``, final state."""
        projected = cell.input_projection(inputs)  # (batch, seq, gates * hidden), every step in one matmul
        length = inputs.shape[1]
        outputs: list[torch.Tensor | None] = [None] * length
        for t in reversed(range(length)) if reverse else range(length):
            new_state = cell.step(projected[:, t], state)
            if mask is None:
                state, outputs[t] = new_state, new_state[0]
            else:
                real = mask[:, t, None]  # (batch, 1): keep the old state at padding
                state = tuple(torch.where(real, new, old) for new, old in zip(new_state, state))
                outputs[t] = torch.where(real, new_state[0], 0.0)
        return torch.stack(outputs, dim=1), state

    def _kernel(self, input_size: int, num_layers: int) -> nn.RNNBase:
        """A parameter-less (meta) ``torch.nn.RNN/LSTM/GRU`` of the right shape; our tensors are swapped in."""
        key = (input_size, num_layers)
        if key not in self._kernels:
            self._kernels[key] = TORCH_KERNELS[self.cell](
                input_size, self.hidden_size, num_layers=num_layers, bidirectional=self.bidirectional,
                dropout=self.dropout if num_layers > 1 else 0.0, batch_first=True, device="meta",
            )
        kernel = self._kernels[key]
        kernel.train(self.training)
        return kernel

    def _kernel_parameters(self, first: int, last: int) -> dict[str, torch.Tensor]:
        """Our layers ``first .. last - 1`` under torch's names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...)."""
        params = {}
        for layer in range(first, last):
            for direction in range(self.num_directions):
                cell = self.cells[layer * self.num_directions + direction]
                suffix = f"_l{layer - first}" + ("_reverse" if direction else "")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    params[name + suffix] = getattr(cell, name)
        return params

    def _fused(self, inputs: torch.Tensor, state: State, mask: torch.Tensor | None,
               output_layer_outputs: bool) -> tuple[torch.Tensor, State, tuple[torch.Tensor, ...] | None]:
        length = inputs.shape[1]
        if mask is not None:
            # Move each row's real tokens to the front (stable), so any padding becomes right padding, then pack.
            order = torch.sort((~mask).to(torch.uint8), dim=1, stable=True).indices  # (batch, seq)
            restore = order.argsort(dim=1)
            inputs = inputs.gather(1, order[..., None].expand_as(inputs))
            sequence: torch.Tensor | PackedSequence = pack_padded_sequence(
                inputs, mask.sum(1).cpu(), batch_first=True, enforce_sorted=False)
        else:
            sequence = inputs
        # One kernel call for the whole stack, or one per layer when every layer's output is wanted.
        spans = [(layer, layer + 1) for layer in range(self.num_layers)] if output_layer_outputs \
            else [(0, self.num_layers)]
        per_span_states, span_outputs = [], []
        for first, last in spans:
            if first > 0:                                    # dropout between layers (on a packed sequence's data)
                sequence = (sequence._replace(data=self.layer_dropout(sequence.data))
                            if isinstance(sequence, PackedSequence) else self.layer_dropout(sequence))
            rows = slice(first * self.num_directions, last * self.num_directions)
            hx = tuple(s[rows] for s in state)
            kernel = self._kernel(self.input_size if first == 0 else self.output_size, last - first)
            sequence, new = functional_call(kernel, self._kernel_parameters(first, last),
                                            (sequence, hx if self.state_size == 2 else hx[0]))
            per_span_states.append(new if isinstance(new, tuple) else (new,))
            span_outputs.append(sequence)
        outputs = tuple(self._unpack(out, length, restore if mask is not None else None) for out in span_outputs)
        new_state = tuple(torch.cat([s[i] for s in per_span_states]) for i in range(self.state_size))
        return outputs[-1], new_state, outputs if output_layer_outputs else None

    @staticmethod
    def _unpack(sequence: torch.Tensor | PackedSequence, length: int, restore: torch.Tensor | None) -> torch.Tensor:
        if restore is None:
            return sequence
        padded, _ = pad_packed_sequence(sequence, batch_first=True, total_length=length)  # zeros after the end
        return padded.gather(1, restore[..., None].expand_as(padded))


def state_from_cache(past_key_values: State | Cache | None) -> State | None:
    """The state a recurrent model resumes from, out of ``past_key_values``.

    The recurrent state *is* the generation cache; ``generate()`` opens with an empty ``Cache`` object, which here
    means "no state yet" (``None``). A state tuple passes through; a filled ``Cache`` is a mistake and says so.
    """
    if isinstance(past_key_values, Cache):
        if past_key_values.get_seq_length() > 0:
            raise InputError("Recurrent models keep their state as past_key_values (a tuple of tensors), "
                             f"not a filled {type(past_key_values).__name__}.")
        return None
    return past_key_values


def reorder_state(past_key_values: State, beam_idx: torch.LongTensor) -> State:
    """Beam search (a model's ``_reorder_cache``): keep the states of the surviving beams. The batch is dim 1 of
    every state tensor (``(layers * directions, batch, hidden)``, or a decoder's extra ``(1, batch, hidden)``);
    ``beam_idx`` is ``(batch * beams,)``."""
    return tuple(state.index_select(1, beam_idx.to(state.device)) for state in past_key_values)


class RecurrentPreTrainedBase(PreTrainedModel):
    """What every recurrent model shares: ``_init_weights`` (``init_normal``; recurrent cells keep their explicit
    init, ``RecurrentCell.reset_parameters``) and the recurrent state as the generation cache (no key/value
    ``cache_implementation`` applies; beam search keeps the surviving beams' states, ``reorder_state``)."""

    base_model_prefix = "model"
    has_key_value_cache = False
    _reorder_cache = staticmethod(reorder_state)

    def _init_weights(self, module: nn.Module) -> None:
        init_normal(module, self.config.initializer_range)
        if isinstance(module, RecurrentCell):
            module.reset_parameters()


__all__ = [
    "CELLS", "GRUCell", "LSTMCell", "RNNCell", "RNN_IMPLEMENTATIONS", "Recurrent", "RecurrentCell",
    "RecurrentOutput", "check_cell", "check_implementation", "reorder_state", "state_from_cache",
]
