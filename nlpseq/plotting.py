"""Matplotlib figures for ``nlpseq.diagnostics`` (matplotlib is the optional ``plot`` extra, imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .errors import ConfigurationError, InputError


def plot_gradient_through_time(norms: Mapping[str, torch.Tensor], ax=None, title: str | None = None):
    """Plot ``||dL/dx_t||`` against the distance ``T - t`` (log scale), one line per model.

    Args:
        norms: label -> ``(seq,)`` tensor from :func:`nlpseq.diagnostics.gradient_through_time`.
        ax: a matplotlib ``Axes`` to draw on (a new figure if None).
        title: the axes title.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, values in norms.items():
        values = torch.as_tensor(values).detach().cpu().flip(0)   # index 0 = the last step
        ax.semilogy(range(len(values)), values.clamp_min(torch.finfo(values.dtype).tiny).numpy(), label=label)
    ax.set_xlabel("steps back from the output (T - t)")
    ax.set_ylabel("||dL / dx_t||")
    ax.set_title(title or "Gradient flow through time")
    ax.legend()
    return ax.figure


def plot_loss_curves(histories: Mapping[str, list[tuple[int, float]]], ax=None, title: str | None = None):
    """Training loss against step, one line per run (log scale: the runs' losses differ by orders).

    Args:
        histories: run name -> ``[(step, loss), ...]`` (e.g. from ``trainer_state.json``'s ``log_history``).
        ax: a matplotlib ``Axes`` to draw on (a new figure if None).
        title: the axes title.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for name, points in histories.items():
        if points:
            steps, losses = zip(*points)
            ax.semilogy(steps, losses, label=name)
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss")
    ax.set_title(title or "Loss curves")
    ax.legend()
    return ax.figure


def plot_alignment(weights: torch.Tensor, source_tokens: list[str], target_tokens: list[str], ax=None,
                   title: str | None = None):
    """Heat map of attention weights: source tokens on x, generated (target) tokens on y.

    Works for any cross-attention: an RNN decoder's ``cross_attentions[0][i]`` or one Transformer head.

    Args:
        weights: ``(target, source)`` attention weights (rows sum to 1); extra leading dims of size 1 are dropped.
        source_tokens: labels for the ``source`` columns.
        target_tokens: labels for the ``target`` rows.
        ax: a matplotlib ``Axes`` to draw on (a new figure if None).
        title: the axes title.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    weights = torch.as_tensor(weights).detach().float().cpu()
    while weights.dim() > 2 and weights.shape[0] == 1:
        weights = weights[0]
    if weights.dim() != 2 or tuple(weights.shape) != (len(target_tokens), len(source_tokens)):
        raise InputError(f"weights must be (target, source) = ({len(target_tokens)}, {len(source_tokens)}) to match "
                         f"the token lists, got {tuple(weights.shape)}; slice one example (and one head).")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(source_tokens)), max(3.0, 0.35 * len(target_tokens))))
    image = ax.imshow(weights.numpy(), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=90)
    ax.set_yticks(range(len(target_tokens)), target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("generated")
    ax.set_title(title or "Attention alignment")
    ax.figure.colorbar(image, ax=ax)
    return ax.figure


def plot_attention_heads(attentions: tuple[torch.Tensor, ...] | torch.Tensor, tokens: list[str], layer: int = 0,
                         example: int = 0, title: str | None = None, axes=None):
    """Self-attention heat maps of every head in one layer ("The cat sat on the mat"), one panel per head.

    Args:
        attentions: ``outputs.attentions`` of a model run with ``attn_implementation="eager"`` and
            ``output_attentions=True`` (a tuple of ``(batch, heads, seq, seq)``), or one such tensor.
        tokens: the ``seq`` token strings (e.g. ``tokenizer.convert_ids_to_tokens(ids)``).
        layer: which layer of the tuple to draw.
        example: which batch row to draw.
        title: the figure title (with ``axes``: a prefix of each panel's title).
        axes: one matplotlib ``Axes`` per head to draw into (e.g. a row of a larger grid); a new figure if None.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    weights = attentions[layer] if isinstance(attentions, (tuple, list)) else attentions
    weights = torch.as_tensor(weights).detach().float().cpu()[example]         # (heads, seq, seq)
    heads = weights.shape[0]
    if axes is None:
        columns = min(heads, 4)
        rows = -(-heads // columns)
        size = max(3.0, 0.3 * len(tokens))
        figure, grid = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
        for ax in grid.flat[heads:]:
            ax.axis("off")
        figure.suptitle(title or f"Self-attention, layer {layer}")
        axes, prefix = list(grid.flat[:heads]), ""
    else:
        axes = list(axes)
        if len(axes) != heads:
            raise ConfigurationError(f"axes has {len(axes)} panels but layer {layer} has {heads} heads; pass one "
                                     "per head.")
        prefix = f"{title}, " if title else f"layer {layer}, "
    for head, ax in enumerate(axes):
        plot_alignment(weights[head], tokens, tokens, ax=ax, title=f"{prefix}head {head}")
        ax.set_xlabel("attends to")
        ax.set_ylabel("query")
    return axes[0].figure


def plot_position_encoding(length: int = 64, hidden_size: int = 128, ax=None, title: str | None = None):
    """The sinusoidal table of 2017: ``PE(pos, 2i) = sin(pos / 10000^(2i/d))``, ``PE(pos, 2i+1) = cos(...)``.

    Returns:
        The matplotlib ``Figure`` (positions on y, channels on x).
    """
    import matplotlib.pyplot as plt

    from .models.positions import sinusoidal_position_encoding

    table = sinusoidal_position_encoding(torch.arange(length)[None], hidden_size)[0]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    image = ax.imshow(table.numpy(), cmap="RdBu", vmin=-1.0, vmax=1.0, aspect="auto")
    ax.set_xlabel("channel (even: sin, odd: cos)")
    ax.set_ylabel("position")
    ax.set_title(title or "Sinusoidal position encoding")
    ax.figure.colorbar(image, ax=ax)
    return ax.figure
