"""Diagnostics that make the textbook claims measurable: gradient flow through time, attention, embeddings.

Each function takes a model (any nlpseq model, and most transformers models) and returns plain tensors;
``nlpseq.plotting`` draws them.
"""

from __future__ import annotations

import torch
from transformers import PreTrainedModel

from .errors import InputError


def gradient_through_time(model: PreTrainedModel, input_ids: torch.LongTensor,
                          attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """``||dL/dx_t||`` for every step ``t``: how much the input at step ``t`` can still move the last output.

    ``x_t`` is the input embedding of token ``t`` and ``L = sum(h_T)``, the sum of the top layer's output at
    the last step ``T`` (``hidden_states[-1]`` at each row's last real token when ``attention_mask`` is given,
    so right padding does not zero the picture). Backpropagation through time multiplies one Jacobian
    ``dh_t / dh_{t-1}`` per step, so in a plain RNN the norm shrinks geometrically with ``T - t`` (vanishing
    gradients) while the LSTM's additive cell path keeps it alive. The model runs in eval mode (no dropout);
    cuDNN is switched off for the call, since its RNN kernels only differentiate in training mode.

    Args:
        model: a model whose forward takes ``inputs_embeds`` and ``output_hidden_states``.
        input_ids: ``(batch, seq)`` token ids.
        attention_mask: optional ``(batch, seq)`` mask (1 = real token); padded positions get norm 0.

    Returns:
        ``(seq,)`` float tensor: the gradient norm at each step, averaged over the batch.
    """
    if input_ids.dim() != 2 or input_ids.shape[1] == 0:
        raise InputError(f"input_ids must be (batch, seq) with seq >= 1, got shape {tuple(input_ids.shape)}.")
    if attention_mask is not None and tuple(attention_mask.shape) != tuple(input_ids.shape):
        raise InputError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected input_ids' shape "
                         f"{tuple(input_ids.shape)}.")
    was_training = model.training
    model.eval()
    try:
        embeds = model.get_input_embeddings()(input_ids).detach().requires_grad_()
        with torch.backends.cudnn.flags(enabled=False):
            outputs = model(inputs_embeds=embeds, attention_mask=attention_mask, output_hidden_states=True,
                            return_dict=True)
            top = outputs.hidden_states[-1]                    # (batch, seq, hidden)
            if attention_mask is None:
                last = top[:, -1]                              # (batch, hidden): h_T of the top layer
            else:                                              # each row's last real position
                positions = torch.arange(top.shape[1], device=top.device)
                index = (attention_mask.to(top.device).bool() * positions).argmax(dim=1)
                last = top[torch.arange(top.shape[0], device=top.device), index]
            (grad,) = torch.autograd.grad(last.sum(), embeds)  # (batch, seq, embedding)
    finally:
        model.train(was_training)
    return grad.norm(dim=-1).mean(dim=0).detach()
