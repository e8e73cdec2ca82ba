"""Under the Trainer, batch 4 x 2 accumulation steps must give the same update as batch 8 for every head.

A head whose ``forward`` takes ``**kwargs`` is assumed by the Trainer to normalise its loss by
``num_items_in_batch``; a mean-loss head must say ``accepts_loss_kwargs = False`` or its update is 2x too big.
"""

import pytest
import torch
from datasets import Dataset
from transformers import Trainer, TrainingArguments

from nlpseq import (
    BowConfig,
    BowForSequenceClassification,
    DecoderConfig,
    DecoderForCausalLM,
    DecoderForSequenceClassification,
    EncoderConfig,
    EncoderForSequenceClassification,
    EncoderForTokenClassification,
    RecurrentConfig,
    RecurrentForSequenceClassification,
    RecurrentForTokenClassification,
)

SMALL = dict(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
             max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0)
HEADS = {
    "bow": lambda: BowForSequenceClassification(BowConfig(vocab_size=40, weighting="count", norm=None, num_labels=3,
                                                          pad_token_id=0)),
    "recurrent-cls": lambda: RecurrentForSequenceClassification(RecurrentConfig(vocab_size=40, hidden_size=16,
                                                                                num_labels=3, pad_token_id=0)),
    "recurrent-tok": lambda: RecurrentForTokenClassification(RecurrentConfig(vocab_size=40, hidden_size=16,
                                                                             num_labels=3, pad_token_id=0)),
    "encoder-cls": lambda: EncoderForSequenceClassification(EncoderConfig(**SMALL, num_labels=3)),
    "encoder-tok": lambda: EncoderForTokenClassification(EncoderConfig(**SMALL, num_labels=3)),
    "decoder-cls": lambda: DecoderForSequenceClassification(DecoderConfig(**SMALL, num_labels=3)),
    "decoder-lm": lambda: DecoderForCausalLM(DecoderConfig(**SMALL)),
}


def _data(head: str) -> Dataset:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 40, (8, 12), generator=g)
    if head.endswith("-tok"):
        labels = torch.randint(3, (8, 12), generator=g)
    elif head.endswith("-lm"):
        labels = ids.clone()
    else:
        labels = torch.randint(3, (8,), generator=g)
    return Dataset.from_dict({"input_ids": ids.tolist(), "labels": labels.tolist()})


def _one_update(head: str, batch: int, accumulation: int, tmp_path) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = HEADS[head]()
    args = TrainingArguments(output_dir=str(tmp_path / f"{batch}x{accumulation}"), per_device_train_batch_size=batch,
                             gradient_accumulation_steps=accumulation, max_steps=1, learning_rate=0.5, optim="sgd",
                             max_grad_norm=0.0, lr_scheduler_type="constant", report_to=[], save_strategy="no",
                             disable_tqdm=True, use_cpu=True, seed=0)
    Trainer(model=model, args=args, train_dataset=_data(head)).train()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("head", sorted(HEADS))
def test_accumulation_equals_one_big_batch(head, tmp_path):
    big, accumulated = _one_update(head, 8, 1, tmp_path), _one_update(head, 4, 2, tmp_path)
    torch.manual_seed(0)
    start = HEADS[head]().state_dict()
    moved = max((big[k] - start[k]).abs().max().item() for k in big if big[k].is_floating_point())
    assert moved > 1e-4  # the step really changed the weights
    for name in big:
        torch.testing.assert_close(accumulated[name], big[name], atol=1e-6, rtol=1e-5, msg=name)
