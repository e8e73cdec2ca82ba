"""Every nlpseq model family, registered with the transformers Auto classes on import.

Files in this folder are flat and self-contained: they import only torch, transformers, the standard
library and each other (``from .attention import MultiHeadAttention``), so ``save_pretrained`` can copy
them into a Hub repo for ``trust_remote_code=True``. This ``__init__`` is the one place that knows about
all of them; it is never copied.
"""

from __future__ import annotations

from transformers import AutoConfig, PretrainedConfig


def register(config_class: type[PretrainedConfig], *pairs: tuple[type, type]) -> None:
    """Register ``config_class`` with ``AutoConfig`` and each ``(AutoClass, ModelClass)`` pair."""
    AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    for auto_class, model_class in pairs:
        auto_class.register(config_class, model_class, exist_ok=True)


__all__ = ["register"]


# --- Transformer encoder (MLM) and decoder (next token), issue 6 ---------------------------------------------
from transformers import (  # noqa: E402
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
)

from .configuration_decoder import DecoderConfig  # noqa: E402
from .configuration_encoder import EncoderConfig  # noqa: E402
from .modeling_decoder import (  # noqa: E402
    DecoderForCausalLM,
    DecoderForSequenceClassification,
    DecoderModel,
)
from .modeling_encoder import (  # noqa: E402
    EncoderForMaskedLM,
    EncoderForSequenceClassification,
    EncoderForTokenClassification,
    EncoderModel,
)

register(EncoderConfig, (AutoModel, EncoderModel), (AutoModelForMaskedLM, EncoderForMaskedLM),
         (AutoModelForSequenceClassification, EncoderForSequenceClassification),
         (AutoModelForTokenClassification, EncoderForTokenClassification))
register(DecoderConfig, (AutoModel, DecoderModel), (AutoModelForCausalLM, DecoderForCausalLM),
         (AutoModelForSequenceClassification, DecoderForSequenceClassification))
__all__ += [
    "DecoderConfig", "DecoderForCausalLM", "DecoderForSequenceClassification", "DecoderModel",
    "EncoderConfig", "EncoderForMaskedLM", "EncoderForSequenceClassification", "EncoderForTokenClassification",
    "EncoderModel",
]


# --- RNN / LSTM / GRU, issue 4 ----------------------------------------------------------------------------------
from .configuration_recurrent import RecurrentConfig  # noqa: E402
from .modeling_recurrent import (  # noqa: E402
    RecurrentForCausalLM,
    RecurrentForSequenceClassification,
    RecurrentForTokenClassification,
    RecurrentModel,
)
from .recurrent import GRUCell, LSTMCell, Recurrent, RNNCell  # noqa: E402

register(RecurrentConfig, (AutoModel, RecurrentModel), (AutoModelForCausalLM, RecurrentForCausalLM),
         (AutoModelForSequenceClassification, RecurrentForSequenceClassification),
         (AutoModelForTokenClassification, RecurrentForTokenClassification))
__all__ += [
    "GRUCell", "LSTMCell", "RNNCell", "Recurrent", "RecurrentConfig", "RecurrentForCausalLM",
    "RecurrentForSequenceClassification", "RecurrentForTokenClassification", "RecurrentModel",
]


# --- Bag of words classifier and skip-gram embeddings, issue 3 --------------------------------------------------
from .configuration_bow import BowConfig  # noqa: E402
from .configuration_skipgram import SkipGramConfig  # noqa: E402
from .modeling_bow import BowForSequenceClassification  # noqa: E402
from .modeling_skipgram import SkipGramModel  # noqa: E402

register(BowConfig, (AutoModelForSequenceClassification, BowForSequenceClassification))
register(SkipGramConfig, (AutoModel, SkipGramModel))
__all__ += ["BowConfig", "BowForSequenceClassification", "SkipGramConfig", "SkipGramModel"]


# --- Recurrent encoder-decoder (LSTM seq2seq with attention), issue 5 --------------------------------------------
from transformers import AutoModelForSeq2SeqLM  # noqa: E402

from .configuration_recurrent_seq2seq import RecurrentSeq2SeqConfig  # noqa: E402
from .modeling_recurrent_seq2seq import RecurrentSeq2SeqForConditionalGeneration  # noqa: E402

register(RecurrentSeq2SeqConfig, (AutoModelForSeq2SeqLM, RecurrentSeq2SeqForConditionalGeneration))
__all__ += ["RecurrentSeq2SeqConfig", "RecurrentSeq2SeqForConditionalGeneration"]


# --- Transformer encoder-decoder (2017, cross-attention), issue 7 ------------------------------------------------
from .configuration_transformer_seq2seq import TransformerSeq2SeqConfig  # noqa: E402
from .modeling_transformer_seq2seq import (  # noqa: E402
    TransformerSeq2SeqForConditionalGeneration,
    TransformerSeq2SeqModel,
)

register(TransformerSeq2SeqConfig, (AutoModel, TransformerSeq2SeqModel),
         (AutoModelForSeq2SeqLM, TransformerSeq2SeqForConditionalGeneration))
__all__ += ["TransformerSeq2SeqConfig", "TransformerSeq2SeqForConditionalGeneration", "TransformerSeq2SeqModel"]
