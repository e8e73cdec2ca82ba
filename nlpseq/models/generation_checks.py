"""Checks every nlpseq generating head runs before ``generate()`` produces its first token.

``CheckedGenerationMixin`` replaces ``GenerationMixin`` in the decoder, the recurrent LM and both encoder-decoder
models. It refuses, with a message that says what to do:

* a prompt (or, for encoder-decoder models, a source) with no tokens: otherwise a reshape error deep inside
  attention, or the recurrent layer's own error;
* a generation whose prompt plus ``max_new_tokens`` (the resolved ``max_length``) runs past a learned position
  table (``position_embedding_type="learned"``, ``max_position_embeddings`` rows): otherwise it fails at the first
  token beyond the table, half-way through. Sinusoidal and rotary positions are computed for any position and
  recurrent models have none, so no limit applies to them (transformers warns past ``max_position_embeddings``);
* a ``cache_implementation`` (``"static"``, ``"offloaded"``, ...) on a recurrent model, whose state is one
  fixed-size vector per layer and no key/value cache: otherwise a mask-shape error from the cache it cannot use.
"""

from __future__ import annotations

import torch
from transformers import GenerationMixin

from .errors import InputError


def learned_position_limit(config) -> int | None:
    """How many positions a learned table holds; None where any position can be computed."""
    if getattr(config, "position_embedding_type", None) == "learned":
        return int(config.max_position_embeddings)
    return None


def check_prompt(tensor: torch.Tensor | None, is_encoder_decoder: bool) -> None:
    """Refuse a batch of no rows or of rows without a token (``(batch, 0)``)."""
    if not isinstance(tensor, torch.Tensor) or tensor.dim() < 2 or (tensor.shape[0] and tensor.shape[1]):
        return
    if is_encoder_decoder:
        raise InputError(f"generate() got source input_ids of shape {tuple(tensor.shape)}: nothing to translate. "
                         "Pass at least one source token per row (the tokenizer adds </s> even to an empty text).")
    raise InputError(f"generate() got a prompt of shape {tuple(tensor.shape)}: no token to continue from. Pass at "
                     "least one token per row, e.g. the BOS token (tokenizer('', return_tensors='pt') gives it with "
                     "the clm preset), or leave input_ids out to start from bos_token_id.")


def check_generated_length(config, prompt_length: int, max_length: int) -> None:
    """Refuse a ``max_length`` (prompt + new tokens) beyond a learned position table."""
    limit = learned_position_limit(config)
    if limit is None or max_length <= limit:
        return
    what = "decoder input" if config.is_encoder_decoder else "prompt"
    fix = (f"pass max_new_tokens <= {limit - prompt_length}" if prompt_length < limit
           else f"cut the {what} to its last {limit - 1} tokens or fewer")
    raise InputError(f"generate() would run to {max_length} tokens ({prompt_length} of {what} + up to "
                     f"{max_length - prompt_length} new), beyond the {limit} positions of the model's learned "
                     f"position table (max_position_embeddings={limit}); {fix}, or shorten the {what}.")


def check_cache_implementation(model_name: str, cache_implementation: str | None) -> None:
    """Refuse a key/value cache layout for a model whose generation state is a recurrent state."""
    if cache_implementation is not None:
        raise InputError(f"{model_name} carries a recurrent state (one fixed-size vector per layer), not a key/value "
                         f"cache, so cache_implementation={cache_implementation!r} cannot apply; drop it (generation "
                         "already takes constant memory per token)")


class CheckedGenerationMixin(GenerationMixin):
    """``GenerationMixin`` whose ``generate()`` checks the prompt and the length before it starts."""

    #: False for recurrent models: their cache is a recurrent state, so no ``cache_implementation`` applies
    has_key_value_cache = True

    def generate(self, inputs: torch.Tensor | None = None, *args, **kwargs):
        given = (inputs, kwargs.get("input_ids"), kwargs.get("inputs_embeds"))
        check_prompt(next((x for x in given if x is not None), None), bool(self.config.is_encoder_decoder))
        if not self.has_key_value_cache:
            config = kwargs.get("generation_config") or self.generation_config
            check_cache_implementation(type(self).__name__, kwargs.get("cache_implementation",
                                                                       config.cache_implementation))
        return super().generate(inputs, *args, **kwargs)

    def _validate_generated_length(self, generation_config, input_ids_length, has_default_max_length):
        super()._validate_generated_length(generation_config, input_ids_length, has_default_max_length)
        check_generated_length(self.config, input_ids_length, generation_config.max_length)
