"""Every nlpseq model family, registered with the transformers Auto classes on import.

Files in this folder are flat and self-contained: they import only torch, transformers, the standard
library and each other (``from .attention import MultiHeadAttention``), so ``save_pretrained`` can copy
them into a Hub repo for ``trust_remote_code=True``. This ``__init__`` is the one place that knows about
all of them; it is never copied.
"""

from __future__ import annotations

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    PretrainedConfig,
)

from .configuration_bow import BowConfig
from .configuration_decoder import DecoderConfig
from .configuration_encoder import EncoderConfig
from .configuration_recurrent import RecurrentConfig
from .configuration_recurrent_seq2seq import RecurrentSeq2SeqConfig
from .configuration_skipgram import SkipGramConfig
from .configuration_ssm import SelectiveSSMConfig
from .configuration_transformer_seq2seq import TransformerSeq2SeqConfig
from .modeling_bow import BowForSequenceClassification
from .modeling_decoder import DecoderForCausalLM, DecoderForSequenceClassification, DecoderModel
from .modeling_encoder import (
    EncoderForMaskedLM,
    EncoderForSequenceClassification,
    EncoderForTokenClassification,
    EncoderModel,
)
from .modeling_recurrent import (
    RecurrentForCausalLM,
    RecurrentForSequenceClassification,
    RecurrentForTokenClassification,
    RecurrentModel,
)
from .modeling_recurrent_seq2seq import RecurrentSeq2SeqForConditionalGeneration
from .modeling_skipgram import SkipGramModel
from .modeling_ssm import (
    SelectiveSSMForCausalLM,
    SelectiveSSMForSequenceClassification,
    SelectiveSSMModel,
    selective_scan_parallel,
    selective_scan_sequential,
)
from .modeling_transformer_seq2seq import TransformerSeq2SeqForConditionalGeneration, TransformerSeq2SeqModel
from .recurrent import GRUCell, LSTMCell, Recurrent, RNNCell


def register(config_class: type[PretrainedConfig], *pairs: tuple[type, type]) -> None:
    """Register ``config_class`` with ``AutoConfig`` and each ``(AutoClass, ModelClass)`` pair."""
    AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    for auto_class, model_class in pairs:
        auto_class.register(config_class, model_class, exist_ok=True)


# Counts: bag of words (issue 3) and skip-gram embeddings.
register(BowConfig, (AutoModelForSequenceClassification, BowForSequenceClassification))
register(SkipGramConfig, (AutoModel, SkipGramModel))

# Recurrent: RNN / LSTM / GRU language models and classifiers (issue 4), the encoder-decoder with attention (issue 5).
register(RecurrentConfig, (AutoModel, RecurrentModel), (AutoModelForCausalLM, RecurrentForCausalLM),
         (AutoModelForSequenceClassification, RecurrentForSequenceClassification),
         (AutoModelForTokenClassification, RecurrentForTokenClassification))
register(RecurrentSeq2SeqConfig, (AutoModelForSeq2SeqLM, RecurrentSeq2SeqForConditionalGeneration))

# Transformer: encoder (MLM) and decoder (next token) (issue 6), the encoder-decoder with cross-attention (issue 7).
register(EncoderConfig, (AutoModel, EncoderModel), (AutoModelForMaskedLM, EncoderForMaskedLM),
         (AutoModelForSequenceClassification, EncoderForSequenceClassification),
         (AutoModelForTokenClassification, EncoderForTokenClassification))
register(DecoderConfig, (AutoModel, DecoderModel), (AutoModelForCausalLM, DecoderForCausalLM),
         (AutoModelForSequenceClassification, DecoderForSequenceClassification))
register(TransformerSeq2SeqConfig, (AutoModel, TransformerSeq2SeqModel),
         (AutoModelForSeq2SeqLM, TransformerSeq2SeqForConditionalGeneration))

# State space: the selective SSM (Mamba-1) language model and classifier (issue 17).
register(SelectiveSSMConfig, (AutoModel, SelectiveSSMModel), (AutoModelForCausalLM, SelectiveSSMForCausalLM),
         (AutoModelForSequenceClassification, SelectiveSSMForSequenceClassification))


__all__ = [
    "register",
    # counts
    "BowConfig", "BowForSequenceClassification", "SkipGramConfig", "SkipGramModel",
    # recurrent
    "GRUCell", "LSTMCell", "RNNCell", "Recurrent", "RecurrentConfig", "RecurrentForCausalLM",
    "RecurrentForSequenceClassification", "RecurrentForTokenClassification", "RecurrentModel",
    "RecurrentSeq2SeqConfig", "RecurrentSeq2SeqForConditionalGeneration",
    # transformer
    "DecoderConfig", "DecoderForCausalLM", "DecoderForSequenceClassification", "DecoderModel",
    "EncoderConfig", "EncoderForMaskedLM", "EncoderForSequenceClassification", "EncoderForTokenClassification",
    "EncoderModel",
    "TransformerSeq2SeqConfig", "TransformerSeq2SeqForConditionalGeneration", "TransformerSeq2SeqModel",
    # state space
    "SelectiveSSMConfig", "SelectiveSSMForCausalLM", "SelectiveSSMForSequenceClassification", "SelectiveSSMModel",
    "selective_scan_parallel", "selective_scan_sequential",
]
