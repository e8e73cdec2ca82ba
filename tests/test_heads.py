"""What every model class inherits from transformers 5 instead of writing it out: the input embeddings reached
through the base model (``base_model_prefix = "model"``), the output embeddings on ``lm_head``, and a tuple for
``return_dict=False`` (passed, or set in the config) through ``@can_return_tuple``; plus ``heads.py``'s rules."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import ModelOutput

from nlpseq.models import (
    BowConfig,
    BowForSequenceClassification,
    DecoderConfig,
    DecoderForCausalLM,
    DecoderForSequenceClassification,
    DecoderModel,
    EncoderConfig,
    EncoderForMaskedLM,
    EncoderForSequenceClassification,
    EncoderForTokenClassification,
    EncoderModel,
    RecurrentConfig,
    RecurrentForCausalLM,
    RecurrentForSequenceClassification,
    RecurrentForTokenClassification,
    RecurrentModel,
    RecurrentSeq2SeqConfig,
    RecurrentSeq2SeqForConditionalGeneration,
    SelectiveSSMConfig,
    SelectiveSSMForCausalLM,
    SelectiveSSMForSequenceClassification,
    SelectiveSSMModel,
    SkipGramConfig,
    SkipGramModel,
    TransformerSeq2SeqConfig,
    TransformerSeq2SeqForConditionalGeneration,
    TransformerSeq2SeqModel,
)
from nlpseq.models.heads import classifier_dropout, init_normal
from nlpseq.models.speedups import Dropout

TOKENS = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2, num_labels=3)
TRANSFORMER = dict(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                   hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **TOKENS)
RECURRENT = dict(vocab_size=40, embedding_size=12, hidden_size=16, **TOKENS)
SSM = dict(vocab_size=40, hidden_size=16, state_size=4, num_hidden_layers=1, hidden_dropout_prob=0.1, **TOKENS)
IDS = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 0]])
MASK = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
SEQUENCES = dict(input_ids=IDS, attention_mask=MASK)
PAIRS = dict(input_ids=IDS, attention_mask=MASK, decoder_input_ids=IDS[:, :3])

#: (model class, config, forward inputs)
CASES = [
    *[(cls, lambda: EncoderConfig(**TRANSFORMER), SEQUENCES) for cls in (
        EncoderModel, EncoderForMaskedLM, EncoderForSequenceClassification, EncoderForTokenClassification)],
    *[(cls, lambda: DecoderConfig(**TRANSFORMER), SEQUENCES) for cls in (
        DecoderModel, DecoderForCausalLM, DecoderForSequenceClassification)],
    *[(cls, lambda: RecurrentConfig(**RECURRENT), SEQUENCES) for cls in (
        RecurrentModel, RecurrentForCausalLM, RecurrentForSequenceClassification, RecurrentForTokenClassification)],
    *[(cls, lambda: SelectiveSSMConfig(**SSM), SEQUENCES) for cls in (
        SelectiveSSMModel, SelectiveSSMForCausalLM, SelectiveSSMForSequenceClassification)],
    *[(cls, lambda: TransformerSeq2SeqConfig(**TRANSFORMER, decoder_start_token_id=1), PAIRS) for cls in (
        TransformerSeq2SeqModel, TransformerSeq2SeqForConditionalGeneration)],
    (RecurrentSeq2SeqForConditionalGeneration,
     lambda: RecurrentSeq2SeqConfig(**RECURRENT, decoder_start_token_id=1), PAIRS),
    (BowForSequenceClassification, lambda: BowConfig(vocab_size=40, num_labels=3), SEQUENCES),
    (SkipGramModel, lambda: SkipGramConfig(vocab_size=40, hidden_size=8),
     dict(input_ids=torch.tensor([5, 6]), context_ids=torch.tensor([7, 8]))),
]
#: classes that own their input embeddings (the rest are heads on a base model at ``self.model``)
OWNERS = (EncoderModel, DecoderModel, RecurrentModel, SelectiveSSMModel, TransformerSeq2SeqModel,
          RecurrentSeq2SeqForConditionalGeneration, SkipGramModel)
HEADS = [case for case in CASES if case[0] not in OWNERS and case[0] is not BowForSequenceClassification]
LM_HEADS = [case for case in CASES if case[0] in (DecoderForCausalLM, RecurrentForCausalLM, SelectiveSSMForCausalLM,
                                                  TransformerSeq2SeqForConditionalGeneration,
                                                  RecurrentSeq2SeqForConditionalGeneration)]


def name(case) -> str:
    return case[0].__name__


def case_of(model_class: type) -> tuple:
    return next(case for case in CASES if case[0] is model_class)


def build(case) -> nn.Module:
    model_class, config, _ = case
    torch.manual_seed(0)
    return model_class(config()).eval()


@pytest.mark.parametrize("case", CASES, ids=name)
def test_return_dict_false_passed_or_configured_gives_the_output_as_a_tuple(case):
    model, inputs = build(case), case[2]

    def run(**kwargs):
        torch.manual_seed(1)                   # the skip-gram draws its negatives in forward
        with torch.no_grad():
            return model(**inputs, **kwargs)

    output = run()
    assert isinstance(output, ModelOutput)
    as_tuple = run(return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == len(output.to_tuple())
    torch.testing.assert_close(as_tuple[0], output.to_tuple()[0])
    model.config.return_dict = False
    assert isinstance(run(), tuple)
    assert isinstance(run(return_dict=True), ModelOutput)  # an explicit argument beats the config


@pytest.mark.parametrize("case", [case for case in CASES if case[0] in OWNERS], ids=name)
def test_models_that_own_the_embedding_table_return_it(case):
    model = build(case)
    table = model.get_input_embeddings()
    assert isinstance(table, nn.Embedding) and table.num_embeddings == 40
    new = nn.Embedding(40, table.embedding_dim)
    model.set_input_embeddings(new)
    assert model.get_input_embeddings() is new


@pytest.mark.parametrize("case", HEADS, ids=name)
def test_heads_reach_the_input_embeddings_through_the_base_model(case):
    model = build(case)
    assert model.base_model_prefix == "model" and model.base_model is model.model
    assert model.get_input_embeddings() is model.model.get_input_embeddings()
    new = nn.Embedding(40, model.get_input_embeddings().embedding_dim)
    model.set_input_embeddings(new)
    assert model.model.get_input_embeddings() is new and model.get_input_embeddings() is new
    if isinstance(model, TransformerSeq2SeqForConditionalGeneration):  # one table for source and target
        assert model.model.decoder.embeddings.token_embeddings is new


@pytest.mark.parametrize("case", LM_HEADS, ids=name)
def test_lm_heads_output_embeddings_are_the_tied_lm_head(case):
    model = build(case)
    assert model.get_output_embeddings() is model.lm_head
    assert model.lm_head.weight is model.get_input_embeddings().weight
    new = nn.Linear(model.lm_head.in_features, 40, bias=False)
    model.set_output_embeddings(new)
    assert model.lm_head is new and model.get_output_embeddings() is new


def test_classifier_dropout_is_its_own_rate_or_the_hidden_one():
    config = EncoderConfig(**{**TRANSFORMER, "hidden_dropout_prob": 0.2})
    assert classifier_dropout(config).p == 0.2
    assert EncoderForSequenceClassification(config).dropout.p == 0.2
    assert EncoderForTokenClassification(config).dropout.p == 0.2
    config = DecoderConfig(**{**TRANSFORMER, "hidden_dropout_prob": 0.2, "classifier_dropout": 0.3})
    assert classifier_dropout(config).p == 0.3
    assert DecoderForSequenceClassification(config).dropout.p == 0.3


def test_token_losses_keep_their_reductions():
    """Recurrent tagger: a mean over labelled tokens, or a sum over the Trainer's count; encoder tagger
    (``accepts_loss_kwargs = False``): always the mean."""
    labels = torch.tensor([[0, 1, 2, 1], [2, 1, 0, -100]])
    for model_class, counted in ((RecurrentForTokenClassification, True), (EncoderForTokenClassification, False)):
        model = build(case_of(model_class))
        with torch.no_grad():
            out = model(**SEQUENCES, labels=labels)
            with_count = model(**SEQUENCES, labels=labels, num_items_in_batch=torch.tensor(14)).loss
        mean = F.cross_entropy(out.logits.reshape(-1, 3), labels.reshape(-1), ignore_index=-100)
        torch.testing.assert_close(out.loss, mean)
        torch.testing.assert_close(with_count, mean * 7 / 14 if counted else mean)


@pytest.mark.parametrize("case", CASES, ids=name)
def test_every_family_uses_the_one_dropout_class(case):
    """``speedups.Dropout`` (the faster CPU mask) is the only dropout module any family builds."""
    dropouts = [module for module in build(case).modules() if isinstance(module, nn.Dropout)]
    assert all(type(module) is Dropout for module in dropouts)
    assert dropouts or case[0] is SkipGramModel                                 # every other family has some


def test_init_normal_is_the_shared_rule_and_spares_loaded_tensors():
    """Normal(0, std) weights, zero biases, unit LayerNorm; a tensor ``from_pretrained`` loaded (flagged
    ``_is_hf_initialized``) keeps its values, as ``transformers.initialization`` promises."""
    torch.manual_seed(0)
    linear, table, norm = nn.Linear(64, 64), nn.Embedding(64, 64), nn.LayerNorm(8)
    nn.init.constant_(norm.weight, 2.0)
    table.weight._is_hf_initialized = True
    loaded = table.weight.detach().clone()
    for module in (linear, table, norm):
        init_normal(module, 0.02)
    assert abs(linear.weight.std().item() - 0.02) < 0.002 and torch.equal(linear.bias, torch.zeros(64))
    assert torch.equal(table.weight, loaded)
    assert torch.equal(norm.weight, torch.ones(8)) and torch.equal(norm.bias, torch.zeros(8))
