"""The adaptive softmax output layer (Grave et al. 2017) of the decoder and recurrent language models."""

import pytest
import torch
import torch.nn.functional as F

from nlpseq import DecoderConfig, DecoderForCausalLM, RecurrentConfig, RecurrentForCausalLM
from nlpseq.errors import ConfigurationError
from nlpseq.training import parse_overrides

VOCAB, CUTOFFS = 60, [10, 30]
FAMILIES = {
    "decoder": lambda **kw: DecoderForCausalLM(DecoderConfig(
        vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **kw)),
    "recurrent": lambda **kw: RecurrentForCausalLM(RecurrentConfig(
        vocab_size=VOCAB, hidden_size=24, embedding_size=16, **kw)),
}


@pytest.fixture(params=sorted(FAMILIES))
def model(request):
    torch.manual_seed(0)
    return FAMILIES[request.param](adaptive_softmax_cutoffs=CUTOFFS).eval()


def test_loss_is_the_cross_entropy_of_its_log_probabilities(model):
    """Training skips the full scores, but the loss equals the plain cross-entropy of the full log-probabilities
    (-100 ignored), and the log-probabilities are a distribution over the whole vocabulary."""
    ids = torch.randint(0, VOCAB, (3, 9))
    labels = ids.clone()
    labels[0, :4] = -100
    out = model(ids, labels=labels)
    assert out.logits is None
    log_probs = model(ids).logits
    assert log_probs.shape == (3, 9, VOCAB)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(3, 9))
    expected = F.cross_entropy(log_probs[:, :-1].reshape(-1, VOCAB), labels[:, 1:].reshape(-1))
    torch.testing.assert_close(out.loss, expected)
    counted = model(ids, labels=labels, num_items_in_batch=torch.tensor(40)).loss  # the Trainer's sum / count
    torch.testing.assert_close(counted, expected * (labels[:, 1:] != -100).sum() / 40)


def test_it_trains_generates_and_round_trips(model, tmp_path):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    ids = torch.arange(12).repeat(4, 2) % VOCAB  # a cycle 0..11, 0..11: learnable
    losses = []
    for _ in range(100):
        loss = model(ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    model.eval()
    prompt = torch.tensor([[0, 1, 2, 3]])
    cached = model.generate(prompt, max_new_tokens=6, do_sample=False)
    uncached = model.generate(prompt, max_new_tokens=6, do_sample=False, use_cache=False)
    assert cached.tolist() == uncached.tolist() == [list(range(10))]
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path)
    assert loaded.config.adaptive_softmax_cutoffs == CUTOFFS and not loaded.config.tie_word_embeddings
    torch.testing.assert_close(loaded(prompt).logits, model(prompt).logits)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("cutoffs, match", [([30, 10], "increase strictly"), ([10, VOCAB], "increase strictly"),
                                            ([0, 10], "increase strictly")])
def test_bad_cutoffs_are_refused(family, cutoffs, match):
    with pytest.raises(ConfigurationError, match=match):
        FAMILIES[family](adaptive_softmax_cutoffs=cutoffs)


def test_a_projection_to_zero_features_is_refused():
    with pytest.raises(ConfigurationError, match="0 features"):
        FAMILIES["recurrent"](adaptive_softmax_cutoffs=CUTOFFS, adaptive_softmax_div_value=8.0)


def test_config_overrides_take_a_list():
    assert parse_overrides("hidden_size=8,adaptive_softmax_cutoffs=[2000, 10000],cell=gru") == {
        "hidden_size": 8, "adaptive_softmax_cutoffs": [2000, 10000], "cell": "gru"}
