"""The renaming machinery every converter shares: rules ``(hf name, nlpseq name, transpose)`` -> tensor-name
pairs, the copy in either direction, and the checks that a conversion is possible and complete."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel

from ..errors import ConfigurationError

#: converted weights: tensor name (in the target layout) -> tensor
Converted = dict[str, torch.Tensor]

#: a rule whose name ends so names one tensor; any other rule names a module: its weight and its bias
TENSOR_NAMES = (".weight", ".A_log", ".D")


def name_pairs(global_rules: list, layer_rules: list, num_layers: int) -> list[tuple[str, str, bool]]:
    """Expand the rules into concrete (hf, ours, transpose) tensor names (a bias the model lacks is skipped by
    ``copy_renamed``)."""
    rules = global_rules + [(h.format(i=i), o.format(i=i), t) for i in range(num_layers) for h, o, t in layer_rules]
    pairs = []
    for hf_name, our_name, transpose in rules:
        if hf_name.endswith(TENSOR_NAMES):
            pairs.append((hf_name, our_name, transpose))
        else:
            pairs.append((f"{hf_name}.weight", f"{our_name}.weight", transpose))
            pairs.append((f"{hf_name}.bias", f"{our_name}.bias", False))
    return pairs


def copy_renamed(source: dict[str, torch.Tensor], pairs: list, reverse: bool) -> dict[str, torch.Tensor]:
    """Rename (and transpose) tensors hf -> ours, or ours -> hf when ``reverse``."""
    out = {}
    for hf_name, our_name, transpose in pairs:
        src, dst = (our_name, hf_name) if reverse else (hf_name, our_name)
        if src in source:
            out[dst] = source[src].t().contiguous() if transpose else source[src].clone()
    return out


def require(config, family: str, **expected) -> None:
    """Refuse a model whose ``config`` differs from ``expected`` where ``family`` cannot express it."""
    wrong = {k: getattr(config, k) for k, v in expected.items() if getattr(config, k) != v}
    if wrong:
        raise ConfigurationError(f"to_hf: {family} needs {expected}; this model has {wrong}, which {family} cannot "
                                 "express.")


def load_complete(model: PreTrainedModel, state_dict: dict[str, torch.Tensor]) -> PreTrainedModel:
    """Load ``state_dict`` into ``model``; anything missing (tied weights aside) or left over is an error."""
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    tied = set(getattr(model, "_tied_weights_keys", None) or {}) if model.config.tie_word_embeddings else set()
    missing = [k for k in missing if k not in tied]
    if missing or unexpected:
        raise RuntimeError(f"Weight conversion incomplete: missing {missing}, unexpected {unexpected}.")
    return model.eval()
