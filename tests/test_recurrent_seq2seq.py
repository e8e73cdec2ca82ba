"""RecurrentSeq2SeqForConditionalGeneration: attention math, caching, beams, padding, save/load, errors."""

import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM

import nlpseq  # noqa: F401  (registers the Auto classes)
from nlpseq.hub import export_for_hub
from nlpseq.models.configuration_recurrent_seq2seq import RecurrentSeq2SeqConfig
from nlpseq.models.modeling_recurrent_seq2seq import (
    RecurrentSeq2SeqForConditionalGeneration,
    shift_tokens_right,
)

PAD, BOS, EOS, VOCAB = 0, 1, 2, 20  # the specials and vocabulary of tiny_recurrent_seq2seq_config (tests/conftest.py)
VARIANTS = {
    "none": dict(attention="none"),
    "bahdanau": dict(attention="bahdanau"),
    "luong-general-gru": dict(attention="luong", luong_score="general", cell="gru"),
    "luong-dot-feeding-rnn": dict(attention="luong", luong_score="dot", input_feeding=True,
                                  bidirectional_encoder=False, cell="rnn"),
}


@pytest.fixture(scope="module")
def tiny(tiny_recurrent_seq2seq_config):
    """``tiny(**overrides)``: the tiny config's model from seed 0, in eval mode."""

    def build(**overrides) -> RecurrentSeq2SeqForConditionalGeneration:
        torch.manual_seed(0)
        return RecurrentSeq2SeqForConditionalGeneration(tiny_recurrent_seq2seq_config(**overrides)).eval()

    return build


def sources() -> tuple[torch.Tensor, torch.Tensor]:
    """Three sources of lengths 7, 4 and 6, right-padded."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, VOCAB, (3, 7), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 4:], mask[2, 6:] = 0, 0
    return ids.masked_fill(mask == 0, PAD), mask


@pytest.fixture(params=list(VARIANTS), scope="module")
def model(request, tiny):
    return tiny(**VARIANTS[request.param])


def test_shift_labels_into_decoder_inputs(tiny):
    labels = torch.tensor([[5, 6, EOS, -100], [7, EOS, -100, -100]])
    expected = torch.tensor([[BOS, 5, 6, EOS], [BOS, 7, EOS, PAD]])
    assert torch.equal(tiny().prepare_decoder_input_ids_from_labels(labels), expected)
    assert torch.equal(shift_tokens_right(labels, PAD, BOS), expected)


def test_both_seq2seq_families_share_teacher_forcing_and_loss():
    from nlpseq.models import modeling_transformer_seq2seq, seq2seq_utils

    assert shift_tokens_right is seq2seq_utils.shift_tokens_right is modeling_transformer_seq2seq.shift_tokens_right
    assert modeling_transformer_seq2seq.seq2seq_loss is seq2seq_utils.seq2seq_loss
    with pytest.raises(ValueError, match="pad_token_id=tokenizer.pad_token_id"):
        shift_tokens_right(torch.tensor([[5, EOS]]), None, BOS)


def test_cross_attention_weights_are_distributions_masked_at_padding(model):
    ids, mask = sources()
    labels = torch.randint(3, VOCAB, (3, 5))
    out = model(input_ids=ids, attention_mask=mask, labels=labels, output_attentions=True)
    assert out.logits.shape == (3, 5, VOCAB)
    if model.config.attention == "none":
        assert out.cross_attentions is None
        return
    weights = out.cross_attentions[0]
    assert weights.shape == (3, 5, 7)                                 # (batch, target, source)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 5))
    assert weights[1, :, 4:].abs().max() == 0 and weights[2, :, 6:].abs().max() == 0


def test_cached_decoding_equals_full_forward(model):
    """Feeding the target one token at a time with the returned state gives the teacher-forced logits."""
    ids, mask = sources()
    decoder_input_ids = torch.randint(3, VOCAB, (3, 6))
    full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
    encoder_outputs, past, steps = model.get_encoder()(ids, attention_mask=mask), None, []
    for t in range(6):
        out = model(attention_mask=mask, encoder_outputs=encoder_outputs, past_key_values=past, use_cache=True,
                    decoder_input_ids=decoder_input_ids[:, t : t + 1])
        past = out.past_key_values
        steps.append(out.logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)


def test_greedy_generate_equals_hand_written_loop(model):
    ids, mask = sources()
    generated = model.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=False, num_beams=1)
    for row in range(3):
        tokens = [BOS]
        while len(tokens) < 9:
            logits = model(input_ids=ids[row : row + 1, : int(mask[row].sum())],
                           decoder_input_ids=torch.tensor([tokens])).logits
            tokens.append(int(logits[0, -1].argmax()))
            if tokens[-1] == EOS:
                break
        expected = tokens + [PAD] * (generated.shape[1] - len(tokens))
        assert generated[row].tolist() == expected


def test_beam_search_same_with_and_without_cache(model):
    ids, mask = sources()
    kwargs = dict(attention_mask=mask, max_new_tokens=8, num_beams=4, num_return_sequences=2)
    with_cache = model.generate(ids, use_cache=True, **kwargs)
    without = model.generate(ids, use_cache=False, **kwargs)
    assert with_cache.shape[0] == 6
    assert torch.equal(with_cache, without)


def test_padded_batch_translates_like_each_sentence_alone(model):
    ids, mask = sources()
    for num_beams in (1, 4):
        batch = model.generate(ids, attention_mask=mask, max_new_tokens=8, num_beams=num_beams)
        for row in range(3):
            alone = model.generate(ids[row : row + 1, : int(mask[row].sum())], max_new_tokens=8, num_beams=num_beams)
            assert batch[row, : alone.shape[1]].tolist() == alone[0].tolist()
            assert set(batch[row, alone.shape[1]:].tolist()) <= {PAD, EOS}   # finished early: filler only


def test_save_load_round_trip_with_auto_class(model, tmp_path):
    ids, mask = sources()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path).eval()
    assert type(loaded) is RecurrentSeq2SeqForConditionalGeneration
    assert loaded.lm_head.weight is loaded.get_decoder_input_embeddings().weight      # tied again after loading
    kwargs = dict(attention_mask=mask, max_new_tokens=8, num_beams=4)
    assert torch.equal(model.generate(ids, **kwargs), loaded.generate(ids, **kwargs))


def test_teacher_forcing_ratio_zero_feeds_own_predictions(tiny):
    model = tiny(attention="bahdanau", teacher_forcing_ratio=0.0).train()
    ids, mask = sources()
    labels = torch.randint(3, VOCAB, (3, 6))
    sampled = model(input_ids=ids, attention_mask=mask, labels=labels)
    sampled.loss.backward()
    assert model.decoder.recurrent.cells[0].weight_hh.grad.abs().sum() > 0
    fed = torch.cat([torch.full((3, 1), BOS), sampled.logits.argmax(-1)[:, :-1]], dim=1)
    model.eval()
    torch.testing.assert_close(model(input_ids=ids, attention_mask=mask, decoder_input_ids=fed).logits,
                               sampled.logits, atol=1e-5, rtol=1e-5)
    teacher_forced = model(input_ids=ids, attention_mask=mask, labels=labels).logits
    assert not torch.allclose(teacher_forced, sampled.logits)


def test_loss_honours_num_items_in_batch(tiny):
    model = tiny(attention="luong")
    ids, mask = sources()
    labels = torch.tensor([[5, 6, EOS], [7, EOS, -100], [8, 9, EOS]])
    mean = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    summed = model(input_ids=ids, attention_mask=mask, labels=labels, num_items_in_batch=16).loss
    torch.testing.assert_close(summed, mean * 8 / 16)


def test_separate_target_vocabulary(tiny):
    model = tiny(attention="luong", decoder_vocab_size=11, tie_word_embeddings=True)
    ids, mask = sources()
    out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=torch.randint(3, 11, (3, 4)))
    assert out.logits.shape == (3, 4, 11)
    assert model.lm_head.weight is model.decoder_embed_tokens.weight
    assert model.get_input_embeddings().weight.shape == (VOCAB, 8)


def test_pretrained_frozen_embeddings(tiny):
    model = tiny(attention="luong", tie_word_embeddings=False).train()
    vectors = torch.randn(VOCAB, 8)
    model.load_pretrained_embeddings(vectors)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    ids, mask = sources()
    model(input_ids=ids, attention_mask=mask, labels=torch.randint(3, VOCAB, (3, 4))).loss.backward()
    before = model.lm_head.weight.clone()
    optimizer.step()
    assert torch.equal(model.get_input_embeddings().weight, vectors)
    assert not torch.equal(model.lm_head.weight, before)
    assert model.config.freeze_embeddings
    with pytest.raises(ValueError, match="embedding_size"):
        model.load_pretrained_embeddings(torch.randn(VOCAB, 5))


def test_frozen_embeddings_stay_frozen_after_save_and_load(tmp_path, tiny):
    """from_pretrained swaps in fresh (trainable) parameters; config.freeze_embeddings must win."""
    from nlpseq.featurizers import Embeddings

    class Tokenizer:  # Embeddings only needs len(tokenizer)
        def __len__(self):
            return VOCAB

    vectors = torch.randn(VOCAB, 8)
    model = tiny(attention="luong", tie_word_embeddings=False)
    model.load_pretrained_embeddings(Embeddings(vectors, Tokenizer()))              # an Embeddings object works
    model.save_pretrained(tmp_path)
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert torch.equal(loaded.get_input_embeddings().weight, vectors)
    frozen = sorted(name for name, p in loaded.named_parameters() if not p.requires_grad)
    assert frozen == ["encoder.embed_tokens.weight"]
    tied = tiny(attention="luong")                                                   # tied: the head is frozen too
    tied.load_pretrained_embeddings(vectors)
    tied.save_pretrained(tmp_path / "tied")
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "tied")
    assert loaded.lm_head.weight is loaded.get_input_embeddings().weight
    assert not loaded.lm_head.weight.requires_grad


@pytest.mark.parametrize(("overrides", "message"), [
    (dict(attention="transformer"), "Unknown attention type 'transformer'"),
    (dict(attention="luong", luong_score="concat"), "Unknown luong_score"),
    (dict(attention="bahdanau", input_feeding=True), "input_feeding is Luong's"),
    (dict(attention="luong", luong_score="dot", bidirectional_encoder=True), "luong_score='general'"),
    (dict(teacher_forcing_ratio=1.5), "teacher_forcing_ratio"),
    (dict(cell="transformer"), "Unknown recurrent cell"),
])
def test_bad_config_raises_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        RecurrentSeq2SeqConfig(**overrides)


def test_missing_decoder_start_token_id_is_a_clear_error(tiny):
    with pytest.raises(ValueError, match="decoder_start_token_id=tokenizer.bos_token_id"):
        tiny(decoder_start_token_id=None)
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        shift_tokens_right(torch.tensor([[5, EOS]]), PAD, None)


def test_source_longer_than_the_limit_is_a_clear_error(tiny):
    model = tiny(max_source_length=5)
    with pytest.raises(ValueError, match=r"6 tokens, more than config.max_source_length=5; truncate"):
        model.generate(torch.randint(3, VOCAB, (1, 6)), max_new_tokens=3)


def test_plot_alignment_draws_target_by_source(tiny):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from nlpseq.plotting import plot_alignment

    model = tiny(attention="bahdanau")
    ids, _ = sources()
    out = model(input_ids=ids[:1], decoder_input_ids=torch.tensor([[BOS, 5, 6]]), output_attentions=True)
    figure = plot_alignment(out.cross_attentions[0][0], [f"s{i}" for i in range(7)], ["<s>", "a", "b"])
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"s{i}" for i in range(7)]
    assert ax.images[0].get_array().shape == (3, 7)
    with pytest.raises(ValueError, match=r"\(target, source\)"):
        plot_alignment(out.cross_attentions[0][0], ["x"], ["<s>", "a", "b"])


FRESH_GENERATE = """
import sys
sys.modules["nlpseq"] = None                      # any `import nlpseq` now raises ImportError
import torch
from transformers import AutoModelForSeq2SeqLM
model = AutoModelForSeq2SeqLM.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
ids, mask = torch.load(sys.argv[1] + "/inputs.pt")
torch.save(model.generate(ids, attention_mask=mask, max_new_tokens=8, num_beams=4), sys.argv[1] + "/out.pt")
"""


def test_exported_folder_generates_identically_without_nlpseq(tmp_path, tiny):
    model = tiny(attention="bahdanau")
    try:
        folder = export_for_hub(model, tmp_path / "export")
    finally:                                                                     # keep other tests unaffected
        RecurrentSeq2SeqConfig._auto_class = RecurrentSeq2SeqForConditionalGeneration._auto_class = None
    assert {"recurrent.py", "configuration_recurrent_seq2seq.py"} <= {p.name for p in folder.iterdir()}
    ids, mask = sources()
    torch.save((ids, mask), folder / "inputs.pt")
    script = tmp_path / "elsewhere" / "load.py"
    script.parent.mkdir()
    script.write_text(FRESH_GENERATE)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": "",
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(script), str(folder)], cwd=script.parent, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = model.generate(ids, attention_mask=mask, max_new_tokens=8, num_beams=4)
    assert torch.equal(torch.load(folder / "out.pt"), expected)
