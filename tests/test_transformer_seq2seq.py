"""TransformerSeq2SeqForConditionalGeneration: Marian parity, caches, padding, attention maps, loss, save/load."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM, MarianConfig, MarianMTModel

import nlpseq  # noqa: F401  (registers the Auto classes)
from nlpseq.convert import from_hf, to_hf
from nlpseq.models.configuration_transformer_seq2seq import TransformerSeq2SeqConfig
from nlpseq.models.modeling_transformer_seq2seq import (
    TransformerSeq2SeqForConditionalGeneration,
    TransformerSeq2SeqModel,
)

TOL = 1e-4
VARIANTS = [
    {"norm_position": "post"},                                                    # the 2017 paper: post-norm
    {"norm_position": "pre", "position_embedding_type": "rotary", "hidden_act": "gelu"},
    {"share_encoder_decoder_embeddings": False, "decoder_vocab_size": 37, "position_embedding_type": "learned"},
]
VARIANT_IDS = ["paper", "prenorm-rotary", "separate-vocab"]


def train_briefly(model, steps: int = 25):
    """A few Adam steps on reversing random sequences, then eval mode: a random Transformer decodes one token
    over and over, and a cache or conversion bug would hide behind such output."""
    src = torch.randint(3, 30, (16, 8), generator=torch.Generator().manual_seed(7))
    labels = torch.cat([src.flip(1), torch.full((16, 1), 2)], dim=1)               # reversed + </s>
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        model(input_ids=src, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


@pytest.fixture(scope="module")
def tiny_model(tiny_transformer_seq2seq_config):
    """``tiny_model(steps=25, **overrides)``: the tiny config's model from seed 0, after ``train_briefly``."""

    def build(steps: int = 25, **overrides) -> TransformerSeq2SeqForConditionalGeneration:
        torch.manual_seed(0)
        config = tiny_transformer_seq2seq_config(**overrides)
        return train_briefly(TransformerSeq2SeqForConditionalGeneration(config), steps)

    return build


def source(batch=3, length=9, vocab=30):
    """Right-padded source ids and mask (the way seq2seq tokenizers pad): row i has i * 2 pads."""
    ids = torch.randint(3, vocab, (batch, length), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    for i in range(batch):
        if i:
            mask[i, -2 * i:] = 0
    return ids.masked_fill(mask == 0, 0), mask


# --- parity oracle: transformers' MarianMTModel ----------------------------------------------------------------


def marian(**overrides) -> MarianMTModel:
    torch.manual_seed(0)
    fields = dict(vocab_size=64, d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
                  decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
                  pad_token_id=0, eos_token_id=2, decoder_start_token_id=0, scale_embedding=True, init_std=0.2,
                  activation_function="swish")
    model = train_briefly(MarianMTModel(MarianConfig(**{**fields, **overrides})))
    with torch.no_grad():                                          # Marian keeps it as a buffer: never trained
        model.final_logits_bias.normal_(0, 0.1, generator=torch.Generator().manual_seed(2))
    return model


MARIANS = {"shared-tied": {}, "separate-vocab": {"share_encoder_decoder_embeddings": False, "decoder_vocab_size": 40,
                                                  "tie_word_embeddings": False}}


@pytest.mark.parametrize("overrides", MARIANS.values(), ids=MARIANS.keys())
def test_from_marian_logits_greedy_and_beam_identical(overrides):
    hf = marian(**overrides)
    ours = from_hf(hf)
    assert isinstance(ours, TransformerSeq2SeqForConditionalGeneration)
    assert ours.config.share_encoder_decoder_embeddings == hf.config.share_encoder_decoder_embeddings
    ids, mask = source(vocab=30)
    decoder_ids = torch.randint(3, ours.config.target_vocab_size, (3, 7), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = hf(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
        got = ours(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
    assert (got - expected).abs().max() < TOL
    for kwargs in ({"do_sample": False}, {"num_beams": 4, "num_return_sequences": 2}):
        expected = hf.generate(ids, attention_mask=mask, max_new_tokens=10, **kwargs)
        got = ours.generate(ids, attention_mask=mask, max_new_tokens=10, **kwargs)
        assert torch.equal(got, expected), kwargs
    assert len(set(got[:, 1:].flatten().tolist())) > 3                               # not a degenerate repeat


def test_to_marian_round_trip_and_checkpoint_on_disk(tmp_path, tiny_model):
    hf = marian()
    ids, mask = source(vocab=30)
    decoder_ids = torch.randint(3, 64, (3, 5), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = hf(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
        back = to_hf(from_hf(hf))
        assert isinstance(back, MarianMTModel)
        assert torch.equal(back(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits, expected)
        hf.save_pretrained(tmp_path)
        loaded = from_hf(tmp_path)
        assert (loaded(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
                - expected).abs().max() < TOL
    with pytest.raises(ValueError, match="Marian needs"):
        to_hf(tiny_model(steps=0, norm_position="pre"))


# --- our own model: caches, padding, attention maps ------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_cache_equals_no_cache_for_greedy_and_beam(variant, tiny_model):
    model = tiny_model(**variant)
    ids, mask = source()
    for kwargs in ({"do_sample": False}, {"num_beams": 3, "num_return_sequences": 2}):
        cached = model.generate(ids, attention_mask=mask, max_new_tokens=8, use_cache=True, **kwargs)
        uncached = model.generate(ids, attention_mask=mask, max_new_tokens=8, use_cache=False, **kwargs)
        assert torch.equal(cached, uncached), kwargs
    assert len(set(cached[:, 1:].flatten().tolist())) > 3


def test_incremental_decoding_matches_full_forward(tiny_model):
    model = tiny_model()
    ids, mask = source()
    decoder_ids = torch.randint(3, 48, (3, 6), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        full = model(ids, attention_mask=mask, decoder_input_ids=decoder_ids, use_cache=False).logits
        out = model(ids, attention_mask=mask, decoder_input_ids=decoder_ids[:, :4], use_cache=True)
        cache = out.past_key_values
        steps = [out.logits]
        for t in range(4, 6):
            out = model(attention_mask=mask, decoder_input_ids=decoder_ids[:, t:t + 1], past_key_values=cache,
                        encoder_outputs=(out.encoder_last_hidden_state,))
            steps.append(out.logits)
    assert cache.get_seq_length() == 6
    assert (torch.cat(steps, dim=1) - full).abs().max() < 1e-5


def test_training_forward_builds_no_cache_unless_asked(tiny_transformer_seq2seq_config):
    """As in Marian/BART: with labels nothing reuses a cache, and filling one copies every layer's K/V."""
    torch.manual_seed(0)
    model = TransformerSeq2SeqForConditionalGeneration(tiny_transformer_seq2seq_config())
    ids, mask = source()
    labels = torch.randint(3, 48, (3, 5), generator=torch.Generator().manual_seed(4))
    plain = model(ids, attention_mask=mask, labels=labels)
    assert plain.past_key_values is None
    asked = model(ids, attention_mask=mask, labels=labels, use_cache=True)
    assert asked.past_key_values.get_seq_length() == 5
    assert torch.equal(plain.logits, asked.logits) and torch.equal(plain.loss, asked.loss)


@pytest.mark.parametrize("variant", VARIANTS[:2], ids=VARIANT_IDS[:2])
def test_padded_batch_equals_single_sentences(variant, tiny_model):
    model = tiny_model(**variant)
    ids, mask = source()
    batch_greedy = model.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=False)
    batch_beam = model.generate(ids, attention_mask=mask, max_new_tokens=8, num_beams=3)
    decoder_ids = torch.randint(3, 48, (3, 5), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        batch_logits = model(ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
    for i in range(3):
        single = ids[i:i + 1, : int(mask[i].sum())]
        greedy = model.generate(single, max_new_tokens=8, do_sample=False)
        beam = model.generate(single, max_new_tokens=8, num_beams=3)
        assert torch.equal(greedy[0], batch_greedy[i][: greedy.shape[1]])
        assert torch.equal(beam[0], batch_beam[i][: beam.shape[1]])
        with torch.no_grad():
            logits = model(single, decoder_input_ids=decoder_ids[i:i + 1]).logits
        assert (logits[0] - batch_logits[i]).abs().max() < 1e-5


def test_output_attentions_encoder_decoder_and_cross(tiny_model):
    model = tiny_model(steps=0)
    ids, mask = source()
    decoder_ids = torch.randint(3, 48, (3, 5), generator=torch.Generator().manual_seed(4))
    out = model(ids, attention_mask=mask, decoder_input_ids=decoder_ids, output_attentions=True)
    assert len(out.encoder_attentions) == 2 and len(out.decoder_attentions) == 3 and len(out.cross_attentions) == 3
    assert out.encoder_attentions[0].shape == (3, 4, 9, 9)
    decoder_weights, cross = out.decoder_attentions[0], out.cross_attentions[-1]
    assert decoder_weights.shape == (3, 4, 5, 5) and cross.shape == (3, 4, 5, 9)
    torch.testing.assert_close(cross.sum(-1), torch.ones(3, 4, 5))                    # a distribution per query
    assert cross[2, :, :, -4:].abs().max() == 0                                       # padding gets no weight
    assert decoder_weights.triu(1).abs().max() == 0                                   # no peeking ahead
    generated = model.generate(ids[:1], max_new_tokens=4, do_sample=False, output_attentions=True,
                               return_dict_in_generate=True)
    assert len(generated.cross_attentions) == 4 and generated.cross_attentions[-1][0].shape == (1, 4, 1, 9)
    sdpa = tiny_model(steps=0, attn_implementation="sdpa")
    with pytest.raises(ValueError, match="attn_implementation='eager'"):
        sdpa(ids, decoder_input_ids=decoder_ids, output_attentions=True)
    with torch.no_grad():
        assert (sdpa(ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
                - model(ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits).abs().max() < 1e-5


# --- training plumbing -----------------------------------------------------------------------------------------


def test_labels_shift_collator_and_loss_normalisation(tiny_model):
    from transformers import DataCollatorForSeq2Seq

    model = tiny_model(steps=0)
    labels = torch.tensor([[5, 6, 2, -100], [7, 2, -100, -100]])
    assert model.prepare_decoder_input_ids_from_labels(labels).tolist() == [[1, 5, 6, 2], [1, 7, 2, 0]]

    tok = nlpseq.train_tokenizer(["forty-two", "zweiundvierzig", "one", "eins"], kind="char", vocab_size=None,
                                 preset="seq2seq", min_frequency=1)
    features = [dict(tok(src, text_target=tgt)) for src, tgt in (("forty-two", "zwei"), ("one", "eins und"))]
    batch = DataCollatorForSeq2Seq(tok, model=model)(features)
    target = tok(["zwei", "eins und"], padding=True)
    assert batch["labels"].tolist() == torch.tensor(target["input_ids"]).masked_fill(
        torch.tensor(target["attention_mask"]) == 0, -100).tolist()
    assert batch["decoder_input_ids"][:, 0].tolist() == [1, 1]                        # decoder_start_token_id
    assert batch["decoder_input_ids"][:, 1:].tolist() == torch.tensor(target["input_ids"])[:, :-1].tolist()

    ids, mask = source(batch=2)
    out = model(ids, attention_mask=mask, labels=labels)
    expected = torch.nn.functional.cross_entropy(out.logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
    torch.testing.assert_close(out.loss, expected)
    summed = model(ids, attention_mask=mask, labels=labels, num_items_in_batch=10).loss
    torch.testing.assert_close(summed, expected * 5 / 10)                              # 5 real labels, 10 in total


def test_config_errors_name_the_fix(tiny_transformer_seq2seq_config, tiny_model):
    with pytest.raises(ValueError, match="share_encoder_decoder_embeddings=False"):
        tiny_transformer_seq2seq_config(decoder_vocab_size=30)
    with pytest.raises(ValueError, match="tie_word_embeddings=True"):
        tiny_transformer_seq2seq_config(tie_word_embeddings=False)
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        tiny_model(steps=0, decoder_start_token_id=None)(torch.tensor([[4, 5]]), labels=torch.tensor([[5, 2]]))
    with pytest.raises(ValueError, match="exactly one of input_ids"):
        tiny_model(steps=0)(decoder_input_ids=torch.tensor([[1]]))
    config = tiny_transformer_seq2seq_config(num_hidden_layers=5, encoder_layers=None, decoder_layers=None)
    assert (config.encoder_layers, config.decoder_layers) == (5, 5)


def test_decoder_vocab_size_has_one_meaning_in_both_families(tmp_path, tiny_transformer_seq2seq_config):
    """None = the target uses the source vocabulary (as in RecurrentSeq2SeqConfig); an int = a separate target
    vocabulary. config.json files saved when the field was filled in with vocab_size still load."""
    from nlpseq.models.configuration_recurrent_seq2seq import RecurrentSeq2SeqConfig

    shared = tiny_transformer_seq2seq_config()
    assert shared.decoder_vocab_size is None and shared.target_vocab_size == 48
    assert RecurrentSeq2SeqConfig(vocab_size=48).decoder_vocab_size is None
    assert RecurrentSeq2SeqConfig(vocab_size=48).target_vocab_size == 48
    separate = tiny_transformer_seq2seq_config(share_encoder_decoder_embeddings=False, decoder_vocab_size=37)
    assert (separate.decoder_vocab_size, separate.target_vocab_size) == (37, 37)
    assert RecurrentSeq2SeqConfig(vocab_size=48, decoder_vocab_size=37).target_vocab_size == 37

    shared.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**saved, "decoder_vocab_size": 48}))   # the old filled-in form
    old = TransformerSeq2SeqConfig.from_pretrained(tmp_path)
    assert old.decoder_vocab_size is None and old.target_vocab_size == 48
    model = TransformerSeq2SeqForConditionalGeneration(old)
    assert model.lm_head.weight is model.model.encoder.embeddings.token_embeddings.weight


def test_both_stacks_are_plain_transformer_stacks(tiny_model):
    """One input path for every Transformer: the encoder-decoder holds two TransformerStacks (no subclasses), and
    generate() calls the encoder stack directly."""
    from transformers.modeling_outputs import BaseModelOutput, BaseModelOutputWithPastAndCrossAttentions

    from nlpseq.models.transformer_blocks import TransformerStack

    model = tiny_model(steps=0)
    assert type(model.get_encoder()) is TransformerStack and type(model.model.decoder) is TransformerStack
    ids, mask = source()
    with torch.no_grad():
        encoded = model.get_encoder()(input_ids=ids, attention_mask=mask, return_dict=True)
        decoded = model.model.decoder(torch.tensor([[1]] * 3), encoder_hidden_states=encoded.last_hidden_state,
                                      encoder_attention_mask=mask, use_cache=True)
    assert type(encoded) is BaseModelOutput and encoded.last_hidden_state.shape == (3, 9, 32)
    assert type(decoded) is BaseModelOutputWithPastAndCrossAttentions
    assert decoded.past_key_values.get_seq_length() == 1
    with pytest.raises(ValueError, match="must be an EncoderDecoderCache"):
        model(ids, decoder_input_ids=torch.tensor([[1]] * 3),
              past_key_values=decoded.past_key_values.self_attention_cache)


FRESH_LOAD = textwrap.dedent("""
    import sys
    sys.modules["nlpseq"] = None                     # any `import nlpseq` now raises ImportError
    import torch
    from transformers import AutoModelForSeq2SeqLM
    model = AutoModelForSeq2SeqLM.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
    ids, mask = torch.load(sys.argv[2])
    torch.save([model.generate(ids, attention_mask=mask, max_new_tokens=6, do_sample=False),
                model.generate(ids, attention_mask=mask, max_new_tokens=6, num_beams=3)], sys.argv[3])
""")


def test_save_load_auto_classes_and_remote_code(tmp_path, tiny_model):
    model = tiny_model(attn_implementation="sdpa")
    ids, mask = source()
    greedy = model.generate(ids, attention_mask=mask, max_new_tokens=6, do_sample=False)
    beam = model.generate(ids, attention_mask=mask, max_new_tokens=6, num_beams=3)

    model.save_pretrained(tmp_path / "plain")
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "plain").eval()
    assert type(loaded) is TransformerSeq2SeqForConditionalGeneration
    assert loaded.lm_head.weight is loaded.model.decoder.embeddings.token_embeddings.weight \
        is loaded.model.encoder.embeddings.token_embeddings.weight                   # one shared table survives
    assert torch.equal(loaded.generate(ids, attention_mask=mask, max_new_tokens=6, do_sample=False), greedy)
    separate = tiny_model(steps=0, share_encoder_decoder_embeddings=False, decoder_vocab_size=37)
    separate.save_pretrained(tmp_path / "separate")
    reloaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "separate", attn_implementation="eager").eval()
    assert reloaded.lm_head.weight is reloaded.model.decoder.embeddings.token_embeddings.weight   # tied, 37 rows
    assert reloaded.lm_head.weight.shape[0] == 37 and reloaded.get_input_embeddings().weight.shape[0] == 48
    decoder_ids = torch.randint(3, 37, (3, 4), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        assert torch.equal(reloaded(ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits,
                           separate(ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits)
    assert type(AutoModel.from_config(AutoConfig.for_model("nlpseq-transformer-seq2seq", hidden_size=16,
                                                           num_attention_heads=2))) is TransformerSeq2SeqModel

    TransformerSeq2SeqConfig.register_for_auto_class()
    TransformerSeq2SeqForConditionalGeneration.register_for_auto_class("AutoModelForSeq2SeqLM")
    try:
        model.save_pretrained(tmp_path / "hub")
    finally:                                                                         # keep other tests unaffected
        TransformerSeq2SeqConfig._auto_class = TransformerSeq2SeqForConditionalGeneration._auto_class = None
    auto_map = json.loads((tmp_path / "hub" / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModelForSeq2SeqLM"].endswith("TransformerSeq2SeqForConditionalGeneration")
    torch.save((ids, mask), tmp_path / "inputs.pt")
    script = tmp_path / "elsewhere" / "load.py"
    script.parent.mkdir()
    script.write_text(FRESH_LOAD)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "hub"), str(tmp_path / "inputs.pt"),
                             str(tmp_path / "out.pt")], cwd=script.parent, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    remote_greedy, remote_beam = torch.load(tmp_path / "out.pt")
    assert torch.equal(remote_greedy, greedy) and torch.equal(remote_beam, beam)


def test_seq2seq_trainer_learns_number_translation(tmp_path, tiny_transformer_seq2seq_config):
    """English -> German number words below 1000, evaluated on numbers never seen in training (chance ~ 0)."""
    import numpy as np
    from datasets import DatasetDict
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    from nlpseq.plotting import plot_alignment

    corpus = nlpseq.load_corpus("number-translation")
    small = DatasetDict({split: corpus[split].filter(lambda row: row["number"] < 1000)
                         for split in ("train", "validation")})
    texts = [pair[lang] for pair in small["train"]["translation"][:] for lang in ("en", "de")]
    tokenizer = nlpseq.train_tokenizer(texts, kind="char", vocab_size=None, preset="seq2seq")
    data = nlpseq.prepare_translation(small, tokenizer)
    config = tiny_transformer_seq2seq_config(
        vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, encoder_layers=None, decoder_layers=None,
        intermediate_size=128, initializer_range=0.02, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.bos_token_id, attn_implementation="sdpa")
    model = TransformerSeq2SeqForConditionalGeneration(config)

    def exact_match(prediction):
        preds, labels = (np.where(x < 0, tokenizer.pad_token_id, x)
                         for x in (prediction.predictions, prediction.label_ids))
        hyps = tokenizer.batch_decode(preds, skip_special_tokens=True)
        refs = tokenizer.batch_decode(labels, skip_special_tokens=True)
        return {"exact_match": float(np.mean([h == r for h, r in zip(hyps, refs)]))}

    args = Seq2SeqTrainingArguments(
        output_dir=str(tmp_path), max_steps=250, per_device_train_batch_size=32, learning_rate=3e-3, warmup_steps=30,
        lr_scheduler_type="cosine", label_smoothing_factor=0.1, predict_with_generate=True,
        generation_max_length=40, per_device_eval_batch_size=64, save_strategy="no", report_to=[], use_cpu=True,
        seed=0, disable_tqdm=True)
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=data["train"], eval_dataset=data["validation"],
                             processing_class=tokenizer, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                             compute_metrics=exact_match)
    trainer.train()
    metrics = trainer.evaluate()
    assert len(data["validation"]) >= 40 and metrics["eval_exact_match"] >= 0.5, metrics

    model.set_attn_implementation("eager")                                           # the cross-attention heat map
    source = tokenizer(["three hundred forty-two"], return_tensors="pt")
    out = model.generate(**source, max_new_tokens=40, output_attentions=True, return_dict_in_generate=True)
    assert tokenizer.decode(out.sequences[0], skip_special_tokens=True) == "dreihundertzweiundvierzig"
    weights = torch.cat([step[-1][0].mean(0) for step in out.cross_attentions])   # last layer, mean over heads
    figure = plot_alignment(weights, tokenizer.convert_ids_to_tokens(source["input_ids"][0]),
                            tokenizer.convert_ids_to_tokens(out.sequences[0, 1:]))
    assert figure.axes[0].images[0].get_array().shape == (out.sequences.shape[1] - 1, source["input_ids"].shape[1])
