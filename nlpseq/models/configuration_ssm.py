"""Configuration of the selective state-space family (Mamba-1 blocks: language models and classifiers).

Field names follow transformers' ``MambaConfig`` wherever the idea is the same, so a Mamba config converts by
renaming nothing but ``model_type``; ``ssm_implementation``, ``chunk_size``, ``hidden_dropout_prob`` and the
adaptive softmax are ours.
"""

from __future__ import annotations

import math

from transformers import PretrainedConfig

from .configuration_checks import check_activation, check_adaptive_softmax, check_choice
from .errors import ConfigurationError

SSM_IMPLEMENTATIONS = ("sequential", "parallel")
TIME_STEP_INIT_SCHEMES = ("random", "constant")


class SelectiveSSMConfig(PretrainedConfig):
    """Embeddings -> a stack of pre-norm residual Mamba-1 blocks -> RMSNorm -> a head.

    Args:
        vocab_size: size of the token embedding table.
        hidden_size: width of the residual stream (``d_model``).
        state_size: ``N``, the state width per channel (the SSM keeps a ``(d_inner, N)`` state per layer).
        num_hidden_layers: stacked blocks.
        expand: the mixer works on ``intermediate_size = expand * hidden_size`` channels (``d_inner``).
        conv_kernel: width of the causal depthwise convolution before the scan (a generation step keeps the last
            ``conv_kernel - 1`` inputs of every layer).
        use_bias: biases in ``in_proj`` and ``out_proj``.
        use_conv_bias: a bias in the depthwise convolution.
        hidden_act: activation after the convolution (transformers' ``ACT2FN`` name); the gate is always SiLU.
        initializer_range: std of the normal init of embeddings and linear layers (the mixer's ``A_log``, ``D``,
            ``dt_proj``, ``conv1d`` and ``out_proj`` have Mamba's own init, see ``modeling_ssm``).
        time_step_rank: width of the low-rank projection that produces the step size ``Δ``; ``"auto"`` is
            ``ceil(hidden_size / 16)``.
        time_step_scale: scales the init range of ``dt_proj.weight``, ``±time_step_scale / sqrt(time_step_rank)``.
        time_step_min, time_step_max: the initial ``Δ = softplus(dt_proj.bias)`` is drawn log-uniformly in
            ``[time_step_min, time_step_max]`` per channel ...
        time_step_floor: ... and raised to at least this value.
        time_step_init_scheme: ``"random"`` (``dt_proj.weight`` uniform in ``±time_step_scale / sqrt(rank)``) or
            ``"constant"`` (every entry at that bound).
        layer_norm_epsilon: epsilon of the RMSNorms (``norm`` in each block, ``norm_f`` at the end).
        rescale_prenorm_residual: divide each ``out_proj.weight`` by ``sqrt(num_hidden_layers)`` at init (GPT-2's
            rule for deep residual stacks).
        hidden_dropout_prob: dropout on each mixer's output before it joins the residual stream.
        ssm_implementation: ``"parallel"`` (the default: a chunked parallel scan, no Python loop inside a chunk) or
            ``"sequential"`` (the readable step-by-step loop). Both give the same outputs and gradients on the same
            weights, so the flag can be flipped on a trained model.
        chunk_size: time steps per chunk of the parallel scan; the state is carried from chunk to chunk, and the
            scan's temporaries grow with ``batch * intermediate_size * state_size * chunk_size``, and the scan
            lowers it for large batches and widths (``modeling_ssm.CHUNK_ELEMENTS``). 8: one training step of the
            tiny preset (batch 32 x 64, 1 thread) took 122-125 ms at 8 and 194-222 ms at 32 (chunks that outgrow the
            cache); wider models are capped near 8 anyway. Long sequences at small batches favour longer chunks
            (width 128, batch 8 x 512, 2 threads: 524-631 ms at 32, 698-711 ms at 8): set it per model.
        tie_word_embeddings: the language model's output layer is the embedding table.
        adaptive_softmax_cutoffs: token ids where the language model's adaptive softmax cuts the vocabulary (see
            ``RecurrentConfig``; ids ordered by frequency); it unties the output layer. ``None``: the full softmax.
        adaptive_softmax_div_value: each tail cluster's projection is this many times narrower than the last.
        classifier_pooling: how ``SelectiveSSMForSequenceClassification`` pools the sequence: ``"mean"`` over the
            real tokens (the default: on 200 rows of 7 topics, 100 steps of the tiny preset, it reached eval loss
            1.52 where the last token's vector overfitted to 2.60, above the uniform 1.95) or ``"last"`` (the last
            real token's vector, the decoder's choice).
        use_cache: return the state (``past_key_values``) so that ``generate()`` costs one step per new token.
        pad_token_id, bos_token_id, eos_token_id: special token ids.

    Example::

        config = SelectiveSSMConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=4)
        model = SelectiveSSMForCausalLM(config)
    """

    model_type = "nlpseq-ssm"
    keys_to_ignore_at_inference = ["past_key_values"]

    vocab_size: int = 1000
    hidden_size: int = 256
    state_size: int = 16
    num_hidden_layers: int = 4
    expand: int = 2
    conv_kernel: int = 4
    use_bias: bool = False
    use_conv_bias: bool = True
    hidden_act: str = "silu"
    initializer_range: float = 0.1
    time_step_rank: str | int = "auto"
    time_step_scale: float = 1.0
    time_step_min: float = 0.001
    time_step_max: float = 0.1
    time_step_init_scheme: str = "random"
    time_step_floor: float = 1e-4
    layer_norm_epsilon: float = 1e-5
    rescale_prenorm_residual: bool = False
    hidden_dropout_prob: float = 0.0
    ssm_implementation: str = "parallel"
    chunk_size: int = 8
    tie_word_embeddings: bool = True
    adaptive_softmax_cutoffs: list[int] | None = None
    adaptive_softmax_div_value: float = 4.0
    classifier_pooling: str = "mean"
    use_cache: bool = True
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | None = None

    def __post_init__(self, **kwargs):
        if self.time_step_rank == "auto":
            self.time_step_rank = math.ceil(self.hidden_size / 16)
        if self.ssm_implementation not in SSM_IMPLEMENTATIONS:
            raise ConfigurationError(f"Unknown ssm_implementation {self.ssm_implementation!r}; choose 'parallel' (the "
                                     "chunked parallel scan) or 'sequential' (the step-by-step loop, same weights).")
        if self.time_step_init_scheme not in TIME_STEP_INIT_SCHEMES:
            raise ConfigurationError(f"time_step_init_scheme={self.time_step_init_scheme!r}; choose one of "
                                     f"{TIME_STEP_INIT_SCHEMES}.")
        for name in ("vocab_size", "hidden_size", "state_size", "num_hidden_layers", "expand", "conv_kernel",
                     "time_step_rank", "chunk_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}.")
        if not 0.0 < self.time_step_min <= self.time_step_max:
            raise ConfigurationError(f"time_step_min ({self.time_step_min}) and time_step_max ({self.time_step_max}) "
                                     "must satisfy 0 < time_step_min <= time_step_max (Mamba: 0.001 and 0.1).")
        for name in ("time_step_scale", "layer_norm_epsilon"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be > 0, got {getattr(self, name)}.")
        if self.time_step_floor < 0:
            raise ConfigurationError(f"time_step_floor must be >= 0, got {self.time_step_floor}.")
        if not 0.0 <= self.hidden_dropout_prob < 1.0:
            raise ConfigurationError(f"hidden_dropout_prob must be in [0, 1), got {self.hidden_dropout_prob}.")
        check_activation(self.hidden_act)
        check_adaptive_softmax(self)
        check_choice(self, "classifier_pooling", ("mean", "last"))
        super().__post_init__(**kwargs)

    @property
    def intermediate_size(self) -> int:
        """``d_inner = expand * hidden_size``, the mixer's channel count (MambaConfig's name)."""
        return self.expand * self.hidden_size


__all__ = ["SSM_IMPLEMENTATIONS", "SelectiveSSMConfig", "TIME_STEP_INIT_SCHEMES"]
