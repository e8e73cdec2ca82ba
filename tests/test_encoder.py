"""EncoderForMaskedLM and the classification heads: padding invariance, pooling, tying, save/load, Auto classes."""

import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForTokenClassification

import nlpseq  # noqa: F401  (registers the Auto classes)
from nlpseq.models.modeling_encoder import (
    EncoderForMaskedLM,
    EncoderForSequenceClassification,
    EncoderForTokenClassification,
    EncoderModel,
)


def ids(batch=2, length=6):
    return torch.randint(1, 48, (batch, length), generator=torch.Generator().manual_seed(5))


@pytest.mark.parametrize("variant", [{}, {"norm_position": "pre", "position_embedding_type": "rotary"},
                                     {"position_embedding_type": "learned", "type_vocab_size": 2}])
def test_padding_does_not_change_real_tokens(variant, tiny_encoder_config):
    model = EncoderForMaskedLM(tiny_encoder_config(**variant)).eval()
    x = ids(1, 6)
    padded = torch.cat([x, torch.zeros(1, 3, dtype=torch.long)], dim=1)
    mask = torch.tensor([[1] * 6 + [0] * 3])
    with torch.no_grad():
        alone = model(x).logits
        batched = model(padded, attention_mask=mask).logits[:, :6]
    assert (alone - batched).abs().max() < 1e-5
    assert alone.shape == (1, 6, 48)


def test_bidirectional_every_token_sees_the_future(tiny_encoder_config):
    model = EncoderModel(tiny_encoder_config()).eval()
    x = ids(1, 6)
    changed = x.clone()
    changed[0, -1] = (x[0, -1] + 1) % 48
    with torch.no_grad():
        assert (model(x).last_hidden_state[0, 0] - model(changed).last_hidden_state[0, 0]).abs().max() > 1e-4


def test_mlm_head_is_tied_and_loss_ignores_unmasked(tiny_encoder_config):
    model = EncoderForMaskedLM(tiny_encoder_config()).eval()
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    x = ids()
    labels = torch.full_like(x, -100)
    labels[0, 2], labels[1, 4] = 7, 9
    out = model(x, labels=labels)
    expected = torch.nn.functional.cross_entropy(out.logits[[0, 1], [2, 4]], torch.tensor([7, 9]))
    torch.testing.assert_close(out.loss, expected)


def test_sparse_prediction_gives_the_dense_loss_and_gradients(tiny_encoder_config):
    """In training, the MLM head runs only at the selected positions: same loss and gradients as the full head."""
    x = ids(3, 8)
    labels = torch.where(torch.rand(3, 8, generator=torch.Generator().manual_seed(1)) < 0.3, x, -100)
    losses, grads, logits = [], [], []
    for sparse in (False, True):
        torch.manual_seed(0)
        model = EncoderForMaskedLM(tiny_encoder_config(sparse_prediction=sparse)).train()
        torch.manual_seed(1)  # the same dropout masks
        out = model(x, labels=labels)
        out.loss.backward()
        losses.append(out.loss.detach())
        grads.append(model.get_input_embeddings().weight.grad)
        logits.append(out.logits)
    torch.testing.assert_close(losses[1], losses[0])
    torch.testing.assert_close(grads[1], grads[0])
    assert logits[0].shape == (3, 8, 48) and logits[1].shape == (int((labels != -100).sum()), 48)
    torch.testing.assert_close(logits[1], logits[0][labels != -100])


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_sequence_classification_pooling(pooling, tiny_encoder_config):
    model = EncoderForSequenceClassification(tiny_encoder_config(num_labels=3, classifier_pooling=pooling)).eval()
    x = ids(1, 5)
    padded = torch.cat([x, torch.zeros(1, 2, dtype=torch.long)], dim=1)
    with torch.no_grad():
        alone = model(x).logits
        batched = model(padded, attention_mask=torch.tensor([[1] * 5 + [0] * 2])).logits
        hidden = model.model(x).last_hidden_state
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-5)
    pooled = hidden[:, 0] if pooling == "cls" else hidden.mean(dim=1)
    torch.testing.assert_close(alone, model.classifier(pooled))


def test_token_classification_and_bad_pooling(tiny_encoder_config):
    model = EncoderForTokenClassification(tiny_encoder_config(num_labels=5)).eval()
    x = ids()
    labels = torch.randint(0, 5, x.shape)
    labels[:, 0] = -100
    out = model(x, labels=labels)
    assert out.logits.shape == (2, 6, 5)
    expected = torch.nn.functional.cross_entropy(out.logits[:, 1:].reshape(-1, 5), labels[:, 1:].reshape(-1))
    torch.testing.assert_close(out.loss, expected)
    with pytest.raises(ValueError, match="classifier_pooling"):
        tiny_encoder_config(classifier_pooling="max")


def test_hidden_states_attentions_and_checkpointing(tiny_encoder_config):
    model = EncoderForMaskedLM(tiny_encoder_config(attn_implementation="eager"))
    x = ids()
    out = model(x, labels=x, output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == 3 and len(out.attentions) == 2
    assert out.attentions[0].shape == (2, 4, 6, 6)
    out.loss.backward()
    plain = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.gradient_checkpointing_enable()
    assert model.model.encoder.layers[0].gradient_checkpointing
    model(x, labels=x).loss.backward()
    for g, p in zip(plain, model.parameters()):
        torch.testing.assert_close(p.grad, g)


def test_save_load_and_auto_classes(tmp_path, tiny_encoder_config):
    model = EncoderForMaskedLM(tiny_encoder_config()).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForMaskedLM.from_pretrained(tmp_path).eval()
    assert type(loaded) is EncoderForMaskedLM
    assert loaded.get_output_embeddings().weight is loaded.get_input_embeddings().weight
    x = ids()
    assert torch.equal(loaded(x).logits, model(x).logits)
    assert type(AutoModel.from_pretrained(tmp_path)) is EncoderModel
    config = tiny_encoder_config(num_labels=4)
    assert type(AutoModelForTokenClassification.from_config(config)) is EncoderForTokenClassification


def test_trainer_mlm_on_stdlib_docs_beats_unigram_entropy(tmp_path, tiny_encoder_config):
    from datasets import DatasetDict
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    corpus = nlpseq.load_corpus("stdlib-docs")
    small = DatasetDict(train=corpus["train"].select(range(800)), validation=corpus["validation"].select(range(100)))
    tokenizer = nlpseq.train_tokenizer(list(small["train"]["text"]), kind="wordpiece", vocab_size=300, preset="mlm")
    blocks = nlpseq.group_texts(nlpseq.tokenize_dataset(small, tokenizer), block_size=64)
    counts = torch.bincount(torch.tensor(blocks["train"]["input_ids"]).flatten(), minlength=len(tokenizer))
    p = counts[counts > 0] / counts.sum()
    unigram_entropy = -(p * p.log()).sum().item()                                # nats per token

    # pre-norm + rotary leaves the unigram plateau fastest at this tiny budget (measured: learned/sinusoidal
    # positions need several hundred more steps before context helps)
    config = tiny_encoder_config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                 initializer_range=0.02, max_position_embeddings=64,
                                 pad_token_id=tokenizer.pad_token_id, norm_position="pre",
                                 position_embedding_type="rotary")
    model = EncoderForMaskedLM(config)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)   # 80/10/10 by default
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=200, per_device_train_batch_size=16,
                             learning_rate=5e-3, warmup_steps=10, lr_scheduler_type="constant_with_warmup",
                             logging_steps=50, save_strategy="no", report_to=[], use_cpu=True, seed=0,
                             disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=blocks["train"], processing_class=tokenizer,
                      data_collator=collator)
    trainer.train()
    eval_loss = trainer.evaluate(blocks["validation"])["eval_loss"]
    print(f"MLM eval loss {eval_loss:.3f} vs unigram entropy {unigram_entropy:.3f}")
    assert eval_loss < unigram_entropy - 0.25, (eval_loss, unigram_entropy)       # measured: 4.74 vs 5.12

    model.save_pretrained(tmp_path / "model")
    reloaded = AutoModelForMaskedLM.from_pretrained(tmp_path / "model").eval()
    x = torch.tensor([blocks["validation"][0]["input_ids"]])
    assert torch.equal(reloaded(x).logits, model.eval()(x).logits)


def test_cpu_dropout_keeps_with_probability_1_minus_p_and_rescales():
    """The models' CPU dropout (a uniform draw and a comparison) is dropout: kept elements scaled by 1/(1-p),
    dropped ones zero, about 1-p of them kept, the gradient through the same mask, identity in eval mode."""
    from nlpseq.models.speedups import Dropout

    torch.manual_seed(0)
    dropout = Dropout(0.25)
    x = torch.ones(200, 500, requires_grad=True)
    y = dropout(x)
    kept = y != 0
    assert torch.equal(y[kept], torch.full_like(y[kept], 1 / 0.75))
    assert abs(kept.float().mean().item() - 0.75) < 0.005                  # 100k draws: std 0.0014
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert torch.equal(grad, y.detach())                                    # d(x * mask / 0.75)/dx = mask / 0.75
    assert torch.equal(dropout.eval()(x), x)
    torch.manual_seed(1)
    first = Dropout(0.25)(x)
    torch.manual_seed(1)
    assert torch.equal(Dropout(0.25)(x), first)                            # seeded: reproducible masks
