"""Selective state-space models (Mamba-1, Gu & Dao 2023) on the Hugging Face stack.

Read it as an RNN. The Elman cell computes ``h_t = tanh(U x_t + W h_{t−1} + b)``: a fixed transition, squashed at
every step, so the steps can only be taken one after another. A selective SSM keeps, for each of ``d_inner``
channels, a state of ``N`` numbers and updates it *linearly*::

    Δ_t = softplus(W_Δ x_t + b_Δ)                  step size per channel, chosen by the input
    A   = −exp(A_log)                              (d_inner, N), negative: every mode decays
    h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t x_t       B_t = W_B x_t  (N,): what to write
    y_t = C_t h_t + D x_t                          C_t = W_C x_t  (N,): what to read; D a skip connection

The decay ``exp(Δ_t A) ∈ (0, 1]`` is chosen by the input (a large ``Δ_t`` forgets the past and writes ``x_t``, a
small one keeps the state and ignores ``x_t``), and there is no tanh between steps. Hence: O(T) time; O(1) memory
and work per generated token (the state is the whole cache); and, because ``h_t = a_t h_{t−1} + b_t`` is an
associative recurrence, a parallel scan for training (``selective_scan_parallel``) instead of T dependent steps.

A Mamba block (``SelectiveSSMMixer``) wraps the SSM in a gated MLP: ``in_proj`` splits the input into ``x`` and a
gate ``z`` (``d_inner = expand * hidden_size`` each), ``x`` goes through a causal depthwise convolution and SiLU,
``x_proj`` gives ``(Δ before dt_proj, B, C)``, the scan gives ``y``, and ``out_proj(y ⊙ SiLU(z))`` returns to the
residual stream: ``x = x + Mixer(RMSNorm(x))``. Parameter names and shapes are transformers' ``MambaMixer``'s, so
weights map by name (``backbone.`` -> ``model.``, ``backbone.embeddings`` -> ``model.embed_tokens``).

State layout (``past_key_values``): ``(conv_state (layers, batch, d_inner, conv_kernel − 1), ssm_state (layers,
batch, d_inner, N))``, the batch at dim 1 as the recurrent family's (``recurrent.reorder_state``). Padding: an
``attention_mask`` zeroes ``x`` at padded positions before and after the convolution and sets ``Δ = 0`` there, so
the state passes padding unchanged and a left-padded prompt gives the same outputs as the prompt alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    SequenceClassifierOutputWithPast,
)
from transformers.utils import can_return_tuple

from .adaptive_softmax import causal_lm_output, output_layer
from .configuration_ssm import SelectiveSSMConfig
from .errors import InputError
from .generation_checks import CheckedGenerationMixin
from .heads import init_normal, last_token_vectors, mean_vectors, sequence_classifier_output
from .recurrent import reorder_state, state_from_cache
from .speedups import Dropout

SSMState = tuple[torch.Tensor, torch.Tensor]


def selective_scan_sequential(x: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
                              C: torch.Tensor, D: torch.Tensor, state: torch.Tensor | None = None
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The selective scan, one step at a time (the readable reference).

    x, delta ``(batch, d_inner, seq)``; A ``(d_inner, N)``; B, C ``(batch, seq, N)``; D ``(d_inner,)``; state
    ``(batch, d_inner, N)`` or None (zeros). Returns ``y (batch, d_inner, seq)`` and the final state.
    """
    h = x.new_zeros(x.shape[0], x.shape[1], A.shape[1]) if state is None else state
    outputs = []
    for t in range(x.shape[2]):
        decay = torch.exp(delta[:, :, t, None] * A)                                      # exp(Δ_t A)
        h = decay * h + (delta[:, :, t] * x[:, :, t])[..., None] * B[:, None, t]         # + Δ_t B_t x_t
        outputs.append((h * C[:, None, t]).sum(-1))                                       # C_t h_t
    return torch.stack(outputs, dim=-1) + D[:, None] * x, h


def scan_linear_recurrence(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Every ``h_t = a_t ⊙ h_{t−1} + b_t`` from ``h_{−1} = 0``, along dim 0: a, b ``(T, ...)`` -> h ``(T, ...)``.

    Odd-even reduction, the work-efficient parallel scan written recursively: two neighbouring steps compose into
    one, ``(a_{2i}, b_{2i}) then (a_{2i+1}, b_{2i+1}) = (a_{2i+1} a_{2i}, a_{2i+1} b_{2i} + b_{2i+1})``, so scanning
    the ``T/2`` pairs gives the states at the odd steps, and each even step is one step on from the odd one before.
    ``log2 T`` levels of whole-tensor operations, O(T) work; every factor is a product of ``a_t ∈ (0, 1]``, so
    nothing overflows. It fills one preallocated ``h`` in place (about 1.5x faster than concatenating the levels),
    so it is not differentiable itself: ``LinearRecurrence`` carries the gradient, with a scan of its own.
    """
    length = a.shape[0]
    if length == 1:
        return b
    pairs = 2 * (length // 2)
    a_even, a_odd, b_even, b_odd = a[0:pairs:2], a[1:pairs:2], b[0:pairs:2], b[1:pairs:2]
    h = torch.empty_like(b)
    h[1:pairs:2] = scan_linear_recurrence(a_odd * a_even, torch.addcmul(b_odd, a_odd, b_even))  # h_1, h_3, ...
    h[0] = b[0]
    h[2:pairs:2] = torch.addcmul(b_even[1:], a_even[1:], h[1:pairs - 2:2])              # h_2, h_4, ...
    if length > pairs:                                                                   # odd T: the last step
        h[-1] = torch.addcmul(b[-1], a[-1], h[-2])
    return h


class LinearRecurrence(torch.autograd.Function):
    """``scan_linear_recurrence`` from a carried state ``h0``, whose backward is a scan too, so that autograd keeps
    only ``a`` and ``h`` (not the intermediates of every level): ``a, b (T, ...)``, ``h0 (...)`` -> every state
    ``h (T, ...)`` and the last one, ``h[-1]``, as a separate output (so that its gradient does not cost a
    ``(T, ...)`` tensor of zeros). The adjoint of ``h_t = a_t h_{t−1} + b_t`` runs backwards in time,
    ``λ_t = ∂L/∂h_t + a_{t+1} λ_{t+1}``, and gives ``∂L/∂b_t = λ_t``, ``∂L/∂a_t = λ_t h_{t−1}`` and
    ``∂L/∂h0 = a_0 λ_0`` (``h_{−1} = h0``)."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = torch.cat([torch.addcmul(b[:1], a[:1], h0[None]), b[1:]])                 # h_0 = a_0 h0 + b_0
        h = scan_linear_recurrence(a, b)
        ctx.save_for_backward(a, h, h0)
        return h, h[-1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h: torch.Tensor, grad_last: torch.Tensor | None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a, h, h0 = ctx.saved_tensors
        if grad_last is not None:
            grad_h = torch.cat([grad_h[:-1], grad_h[-1:] + grad_last[None]])
        a_next = torch.cat([a[1:], torch.zeros_like(a[:1])])                      # a_{t+1}; none after the last
        adjoint = scan_linear_recurrence(a_next.flip(0), grad_h.flip(0)).flip(0)   # λ_t, last step first
        h_before = torch.cat([h0[None], h[:-1]])                                   # h_{t−1}
        return adjoint * h_before, adjoint, a[0] * adjoint[0]


#: At most this many numbers per chunk intermediate (8 MiB in float32): the chunk shrinks for large batches and
#: widths. Measured (2026-11-30, SSM 4 x 256, batch 32 x 129, one train step on 2 CPU threads): chunks of 32 steps
#: (32 MiB tensors, which the allocator maps and unmaps at every call) 6.1-7.0 s; of 8 steps (8 MiB) 2.3-2.4 s.
CHUNK_ELEMENTS = 2**21


def selective_scan_parallel(x: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
                            C: torch.Tensor, D: torch.Tensor, state: torch.Tensor | None = None, *,
                            chunk_size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """The selective scan of ``selective_scan_sequential`` (same arguments, same result), ``chunk_size`` steps at a
    time: within a chunk every state comes from ``scan_linear_recurrence`` (time first, vectorised over batch,
    channels and state; ``LinearRecurrence`` for the backward), and the last state of a chunk starts the next one.
    Memory per chunk: ``chunk_size * batch * d_inner * N`` per intermediate (training keeps two per chunk), and
    ``chunk_size`` is lowered so that this stays within ``CHUNK_ELEMENTS``."""
    h = x.new_zeros(x.shape[0], x.shape[1], A.shape[1]) if state is None else state
    chunk_size = max(1, min(chunk_size, CHUNK_ELEMENTS // h.numel()))
    outputs = []
    for start in range(0, x.shape[2], chunk_size):
        steps = slice(start, start + chunk_size)
        dt = delta[:, :, steps].permute(2, 0, 1)                                          # (T, batch, d_inner)
        a = torch.exp(dt[..., None] * A)                                                  # (T, batch, d_inner, N)
        b = (dt * x[:, :, steps].permute(2, 0, 1))[..., None] * B[:, steps, None].transpose(0, 1)
        states, h = LinearRecurrence.apply(a, b, h)                          # (T, batch, d_inner, N), the last
        outputs.append((states * C[:, steps, None].transpose(0, 1)).sum(-1).permute(1, 2, 0))   # C_t h_t
    return torch.cat(outputs, dim=-1) + D[:, None] * x, h


def masked(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x (batch, channels, seq)`` with padded positions (``mask (batch, 1, seq)`` = 0) set to 0."""
    return x if mask is None else x * mask


class SelectiveSSMMixer(nn.Module):
    """The Mamba-1 mixer: ``(batch, seq, hidden)`` -> ``(batch, seq, hidden)`` and the layer's new state."""

    def __init__(self, config: SelectiveSSMConfig):
        super().__init__()
        self.config = config                          # read at every call: ssm_implementation can be flipped
        d_inner, rank, n = config.intermediate_size, config.time_step_rank, config.state_size
        self.in_proj = nn.Linear(config.hidden_size, 2 * d_inner, bias=config.use_bias)
        # causal: forward pads on the left with the carried inputs (zeros at the start), i.e. padding
        # conv_kernel - 1 and keeping the first seq outputs
        self.conv1d = nn.Conv1d(d_inner, d_inner, config.conv_kernel, groups=d_inner, bias=config.use_conv_bias)
        self.act = ACT2FN[config.hidden_act]
        self.x_proj = nn.Linear(d_inner, rank + 2 * n, bias=False)
        self.dt_proj = nn.Linear(rank, d_inner, bias=True)
        self.A_log = nn.Parameter(torch.empty(d_inner, n))
        self.D = nn.Parameter(torch.empty(d_inner))
        self.out_proj = nn.Linear(d_inner, config.hidden_size, bias=config.use_bias)

    def convolve(self, x: torch.Tensor, conv_state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Causal depthwise convolution: x ``(batch, d_inner, seq)`` after the ``conv_kernel − 1`` inputs kept in
        ``conv_state (batch, d_inner, conv_kernel − 1)`` (zeros at the start) -> ``(batch, d_inner, seq)`` and the
        new conv state (the last ``conv_kernel − 1`` inputs)."""
        kept = self.conv1d.kernel_size[0] - 1
        if conv_state is None:
            conv_state = x.new_zeros(x.shape[0], x.shape[1], kept)
        window = torch.cat([conv_state.to(x.dtype), x], dim=-1)
        return self.conv1d(window), window[:, :, window.shape[-1] - kept:]

    def forward(self, hidden_states: torch.Tensor, state: SSMState | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, SSMState]:
        """hidden_states ``(batch, seq, hidden)``; state ``(conv_state, ssm_state)`` of this layer or None;
        attention_mask ``(batch, seq)``, 1 for real tokens."""
        config = self.config
        x, z = self.in_proj(hidden_states).transpose(1, 2).chunk(2, dim=1)                  # (batch, d_inner, seq)
        mask = None if attention_mask is None else attention_mask[:, None, :].to(x.dtype)
        conv_state, ssm_state = (None, None) if state is None else state
        x, conv_state = self.convolve(masked(x, mask), conv_state)
        x = masked(self.act(x), mask)
        time_step, B, C = self.x_proj(x.transpose(1, 2)).split(
            [config.time_step_rank, config.state_size, config.state_size], dim=-1)          # B, C (batch, seq, N)
        delta = masked(F.softplus(self.dt_proj(time_step)).transpose(1, 2), mask)          # Δ = 0 on padding
        dtype = torch.promote_types(hidden_states.dtype, torch.float32)                     # scan in >= float32
        A = -torch.exp(self.A_log.to(dtype))
        scan_inputs = (x.to(dtype), delta.to(dtype), A, B.to(dtype), C.to(dtype), self.D.to(dtype), ssm_state)
        if config.ssm_implementation == "parallel":
            y, ssm_state = selective_scan_parallel(*scan_inputs, chunk_size=config.chunk_size)
        else:
            y, ssm_state = selective_scan_sequential(*scan_inputs)
        y = y.to(hidden_states.dtype) * F.silu(z)
        return self.out_proj(y.transpose(1, 2)), (conv_state, ssm_state)


class SelectiveSSMBlock(nn.Module):
    """Pre-norm residual block: ``x + dropout(Mixer(RMSNorm(x)))``, with ``RMSNorm(x) = x / sqrt(mean(x²) + ε) ⊙ g``."""

    def __init__(self, config: SelectiveSSMConfig):
        super().__init__()
        self.norm = nn.RMSNorm(config.hidden_size, eps=config.layer_norm_epsilon)
        self.mixer = SelectiveSSMMixer(config)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, state: SSMState | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, SSMState]:
        mixed, state = self.mixer(self.norm(hidden_states), state, attention_mask)
        return hidden_states + self.dropout(mixed), state


def init_mixer(mixer: SelectiveSSMMixer, config: SelectiveSSMConfig) -> None:
    """Mamba's init of the mixer (after ``init_normal`` did its linear layers): ``A_log = log(1..N)`` per channel
    (S4D-real), ``D = 1``, ``dt_proj`` so that the initial ``Δ = softplus(bias)`` is log-uniform in
    ``[time_step_min, time_step_max]`` (floored), ``conv1d`` and ``out_proj`` as torch's default (Kaiming uniform).
    ``transformers.initialization`` skips tensors loaded from a checkpoint."""
    d_inner, n = mixer.A_log.shape
    init.copy_(mixer.A_log, torch.log(torch.arange(1, n + 1, dtype=torch.float32)).expand(d_inner, n))
    init.ones_(mixer.D)
    bound = config.time_step_rank ** -0.5 * config.time_step_scale
    if config.time_step_init_scheme == "constant":
        init.constant_(mixer.dt_proj.weight, bound)
    else:
        init.uniform_(mixer.dt_proj.weight, -bound, bound)
    low, high = math.log(config.time_step_min), math.log(config.time_step_max)
    dt = torch.exp(torch.rand(d_inner) * (high - low) + low).clamp(min=config.time_step_floor)
    init.copy_(mixer.dt_proj.bias, dt + torch.log(-torch.expm1(-dt)))                       # softplus⁻¹(dt)
    init.kaiming_uniform_(mixer.conv1d.weight, a=math.sqrt(5))
    if mixer.conv1d.bias is not None:
        init.zeros_(mixer.conv1d.bias)
    init.kaiming_uniform_(mixer.out_proj.weight, a=math.sqrt(5))
    if config.rescale_prenorm_residual:
        init.copy_(mixer.out_proj.weight, mixer.out_proj.weight / math.sqrt(config.num_hidden_layers))


class SelectiveSSMPreTrainedModel(PreTrainedModel):
    config_class = SelectiveSSMConfig
    base_model_prefix = "model"
    _no_split_modules = ["SelectiveSSMBlock"]

    def _init_weights(self, module: nn.Module) -> None:
        init_normal(module, self.config.initializer_range)
        if isinstance(module, nn.RMSNorm):
            init.ones_(module.weight)
        elif isinstance(module, SelectiveSSMMixer):
            init_mixer(module, self.config)


def layer_states(past: SSMState | None, config: SelectiveSSMConfig, batch: int) -> list[SSMState | None]:
    """Split the model state into one ``(conv_state, ssm_state)`` per layer, after checking its shapes."""
    if past is None:
        return [None] * config.num_hidden_layers
    layers, d_inner = config.num_hidden_layers, config.intermediate_size
    expected = ((layers, batch, d_inner, config.conv_kernel - 1), (layers, batch, d_inner, config.state_size))
    got = tuple(tuple(tensor.shape) for tensor in past)
    if got != expected:
        raise InputError(f"past_key_values has shapes {got}; expected (conv_state, ssm_state) = {expected} "
                         "(layers, batch, d_inner, ...): pass the state this model returned for the same batch.")
    return list(zip(past[0].unbind(0), past[1].unbind(0)))


class SelectiveSSMModel(SelectiveSSMPreTrainedModel):
    """Token embeddings -> ``SelectiveSSMBlock`` stack -> RMSNorm (``norm_f``). Returns ``BaseModelOutputWithPast``
    whose ``past_key_values`` is the state ``(conv_state, ssm_state)`` when ``use_cache`` (layout in the module
    docstring)."""

    def __init__(self, config: SelectiveSSMConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([SelectiveSSMBlock(config) for _ in range(config.num_hidden_layers)])
        self.norm_f = nn.RMSNorm(config.hidden_size, eps=config.layer_norm_epsilon)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values: SSMState | Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPast | tuple:
        """input_ids ``(batch, seq)``; attention_mask ``(batch, seq)`` or ``(batch, past + seq)`` during generation
        (only its last ``seq`` columns matter: the past is summarised by the state). ``hidden_states``: the input
        of each block, then the output of ``norm_f``."""
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        output_hidden_states = (output_hidden_states if output_hidden_states is not None
                                else self.config.output_hidden_states)
        if (input_ids is None) == (inputs_embeds is None):
            raise InputError("Pass exactly one of input_ids or inputs_embeds.")
        hidden_states = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        if hidden_states.shape[1] == 0:
            raise InputError("The input has length 0: pass at least one token per row.")
        if attention_mask is not None:
            attention_mask = attention_mask[:, -hidden_states.shape[1]:]
        states = layer_states(state_from_cache(past_key_values), self.config, hidden_states.shape[0])
        all_hidden, new_states = [], []
        for block, state in zip(self.layers, states):
            all_hidden.append(hidden_states)
            hidden_states, state = block(hidden_states, state, attention_mask)
            new_states.append(state)
        hidden_states = self.norm_f(hidden_states)
        past = tuple(torch.stack(parts) for parts in zip(*new_states)) if use_cache else None
        return BaseModelOutputWithPast(last_hidden_state=hidden_states, past_key_values=past,
                                       hidden_states=(*all_hidden, hidden_states) if output_hidden_states else None)


class SelectiveSSMForCausalLM(SelectiveSSMPreTrainedModel, CheckedGenerationMixin):
    """Next-token LM: ``logits_t = h_t E^T`` (the tied embedding ``E``, or the adaptive softmax). Loss: cross-entropy
    of ``logits[:, :-1]`` vs ``labels[:, 1:]``, -100 ignored; a sum over ``num_items_in_batch`` under the Trainer.
    ``generate()`` carries the state: each new token is one convolution step and one scan step per layer."""

    has_key_value_cache = False  # the cache is a state: no cache_implementation applies

    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: SelectiveSSMConfig):
        super().__init__(config)
        self.model = SelectiveSSMModel(config)
        self.lm_head = output_layer(config.hidden_size, config)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values: SSMState | Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        logits_to_keep: int = 0,
        **kwargs,
    ) -> CausalLMOutputWithPast | tuple:
        """Returns logits ``(batch, seq, vocab)`` (only the last ``logits_to_keep`` positions if > 0); with
        ``config.adaptive_softmax_cutoffs`` and ``labels``, only the loss."""
        outputs = self.model(input_ids, attention_mask=attention_mask, past_key_values=past_key_values,
                             inputs_embeds=inputs_embeds, use_cache=use_cache,
                             output_hidden_states=output_hidden_states, return_dict=True)
        hidden_states = outputs.last_hidden_state
        if logits_to_keep:
            hidden_states = hidden_states[:, -logits_to_keep:]
        return causal_lm_output(self, hidden_states, labels, outputs, kwargs.get("num_items_in_batch"))

    _reorder_cache = staticmethod(reorder_state)   # beam search: keep the surviving beams' states


class SelectiveSSMForSequenceClassification(SelectiveSSMPreTrainedModel):
    """Classifies a sequence from the mean of its real tokens' hidden states (``classifier_pooling="mean"``) or the
    hidden state of its last real token (``"last"``, the only one that read everything)."""

    accepts_loss_kwargs = False  # the loss is a plain mean over the batch: let the Trainer scale it

    def __init__(self, config: SelectiveSSMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = SelectiveSSMModel(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutputWithPast | tuple:
        """Returns logits ``(batch, num_labels)``; the loss follows ``config.problem_type``."""
        outputs = self.model(input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds, use_cache=False,
                             output_hidden_states=output_hidden_states, return_dict=True)
        hidden_states = outputs.last_hidden_state                                       # (batch, seq, hidden)
        if self.config.classifier_pooling == "mean":
            pooled = mean_vectors(hidden_states, attention_mask)
        else:
            pooled = last_token_vectors(hidden_states, input_ids, attention_mask, self.config.pad_token_id)
        logits = self.score(pooled)
        return sequence_classifier_output(self, logits, labels, outputs.hidden_states,
                                          output_class=SequenceClassifierOutputWithPast)


__all__ = [
    "SelectiveSSMBlock", "SelectiveSSMForCausalLM", "SelectiveSSMForSequenceClassification", "SelectiveSSMMixer",
    "SelectiveSSMModel", "SelectiveSSMPreTrainedModel", "selective_scan_parallel", "selective_scan_sequential",
]
