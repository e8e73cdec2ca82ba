"""The textbook attention and position claims, on "The cat sat on the mat.".

1. Attention maps: a small GPT-style decoder (characters, rotary positions) is trained briefly on the built-in
   ``stdlib-docs`` corpus, then run on the textbook sentence with ``output_attentions=True`` (eager attention).
   Characters and rotary positions because they leave the unigram plateau within the time budget: a 1000-token
   BPE model with sinusoidal positions was still at it after 800 steps (validation loss 5.94, all heads near
   uniform).
   Each head is summarised by where its attention mass goes: to the token itself (diagonal), to the previous
   token (off-by-one diagonal) or to the first token (the usual "sink"), on the sentence and, to check that a
   pattern is not an accident of six words, on held-out text.
2. Sinusoidal positions (``nlpseq.models.positions``): the table, and numeric checks of the two claimed
   properties: PE(pos + k) is a fixed rotation of PE(pos) for every pos, and PE(pos) . PE(pos + k) depends only
   on k and shrinks as |k| grows.
"""

from __future__ import annotations

import math
import tempfile
import time

import matplotlib.pyplot as plt
import torch
from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

from experiments.common import save
from nlpseq import DecoderConfig, DecoderForCausalLM, group_texts, load_corpus, tokenize_dataset, train_tokenizer
from nlpseq.models.positions import inverse_frequencies, sinusoidal_position_encoding
from nlpseq.plotting import plot_attention_heads, plot_position_encoding

SENTENCE = "The cat sat on the mat."
BLOCK, LAYERS, HEADS, WIDTH = 64, 2, 4, 64
STEPS, BATCH, LR = 800, 16, 3e-3
PE_LENGTH, PE_WIDTH = 512, 128
PATTERNS = ("self", "previous", "first", "word start")
ROLE_MASS = 0.3              # a head's role: its dominant pattern, if that holds >= this share of the mass


def train_decoder() -> tuple[DecoderForCausalLM, object, object, float]:
    """Train the small CLM; returns (model, tokenizer, validation blocks, validation loss)."""
    corpus = load_corpus("stdlib-docs")
    tokenizer = train_tokenizer(corpus["train"]["text"], kind="char", vocab_size=None, preset="clm")
    blocks = group_texts(tokenize_dataset(corpus, tokenizer), BLOCK)
    config = DecoderConfig(vocab_size=len(tokenizer), hidden_size=WIDTH, num_hidden_layers=LAYERS,
                           num_attention_heads=HEADS, intermediate_size=4 * WIDTH, max_position_embeddings=BLOCK,
                           position_embedding_type="rotary", hidden_dropout_prob=0.0,
                           attention_probs_dropout_prob=0.0, pad_token_id=tokenizer.pad_token_id,
                           bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = DecoderForCausalLM(config)
    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(output_dir=output_dir, max_steps=STEPS, per_device_train_batch_size=BATCH,
                                 per_device_eval_batch_size=64, learning_rate=LR, warmup_steps=100,
                                 lr_scheduler_type="cosine", logging_steps=250, save_strategy="no", report_to=[],
                                 use_cpu=True, seed=0, disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=blocks["train"], processing_class=tokenizer,
                          data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
        trainer.train()
        validation = blocks["validation"].select(range(min(256, len(blocks["validation"]))))
        loss = trainer.evaluate(validation)["eval_loss"]
    return model.eval(), tokenizer, validation, loss


def word_starts(input_ids: torch.Tensor, space_id: int) -> torch.Tensor:
    """For each position, the position of the first token of its word (words start after a space token)."""
    start = torch.ones_like(input_ids, dtype=torch.bool)
    start[:, 1:] = input_ids[:, :-1] == space_id
    positions = torch.arange(input_ids.shape[1]).expand_as(input_ids)
    return torch.where(start, positions, 0).cummax(-1).values


def head_patterns(attentions: tuple[torch.Tensor, ...], word_start: torch.Tensor) -> torch.Tensor:
    """Mean attention on the diagonal, the off-by-one diagonal, column 0 and the current word's first token
    (``word_start``: ``(batch, seq)`` from :func:`word_starts`): ``(layers, heads, 4)``, in :data:`PATTERNS` order.

    Averaged over batch and over query positions >= 1 (position 0 can only attend to itself).
    """
    weights = torch.stack(attentions)                                # (layers, batch, heads, seq, seq)
    rows = torch.arange(1, weights.shape[-1])
    self_ = weights[..., rows, rows]
    previous = weights[..., rows, rows - 1]
    first = weights[..., 1:, 0]
    index = word_start[None, :, None, 1:, None].expand(*weights.shape[:3], len(rows), 1)
    word = weights[..., 1:, :].gather(-1, index)[..., 0]
    return torch.stack([p.mean((1, 3)) for p in (self_, previous, first, word)], dim=-1)


def role(scores: torch.Tensor) -> str:
    """A head's name: its dominant pattern if that takes at least ``ROLE_MASS`` of the mass, else "mixed"."""
    best = int(scores.argmax())
    return PATTERNS[best] if scores[best] >= ROLE_MASS else "mixed"


def word_link(attentions: tuple[torch.Tensor, ...], offsets: list[tuple[int, int]], query: str,
              key: str) -> torch.Tensor:
    """Attention of the word ``query`` on the word ``key`` of :data:`SENTENCE` in every head, ``(layers, heads)``:
    summed over the key's tokens, averaged over the query's (a word may be several tokens).

    ``offsets`` are the tokens' character spans (``return_offsets_mapping=True``); a token belongs to a word
    when its span overlaps the word's.
    """
    def tokens_of(word: str) -> list[int]:
        start = SENTENCE.index(word)
        return [i for i, (a, b) in enumerate(offsets) if a < start + len(word) and b > start]

    weights = torch.stack(attentions)[:, 0]                           # (layers, heads, seq, seq)
    return weights[:, :, tokens_of(query)][..., tokens_of(key)].sum(-1).mean(-1)


def rotation(k: int, width: int) -> torch.Tensor:
    """The block-diagonal rotation R_k with PE(pos + k) = R_k PE(pos): (sin, cos) pairs turn by k * w_i."""
    angles = k * inverse_frequencies(width, 10000.0).double()
    cos, sin = angles.cos(), angles.sin()
    return torch.block_diag(*[torch.stack([torch.stack([c, s]), torch.stack([-s, c])]) for c, s in zip(cos, sin)])


def position_checks() -> dict:
    """Numbers for the two sinusoidal properties, from the library's table (float64 positions)."""
    table = sinusoidal_position_encoding(torch.arange(PE_LENGTH)[None], PE_WIDTH)[0].double()
    shifts = [1, 5, 50, 200]
    rotation_error = {k: float((table[k:] - table[:-k] @ rotation(k, PE_WIDTH).T).abs().max()) for k in shifts}
    gram = table @ table.T
    by_k = [gram.diagonal(k) for k in range(PE_LENGTH // 2)]          # PE(pos) . PE(pos + k) for every pos
    dot = torch.stack([d.mean() for d in by_k])
    spread = max(float(d.max() - d.min()) for d in by_k)
    later_max = [float(dot[k:].max()) for k in range(len(dot))]      # the envelope: best similarity beyond k
    return {"rotation_max_error": rotation_error, "dot": dot.tolist(), "dot_spread_over_pos": spread,
            "monotone_fraction": float((dot[1:] <= dot[:-1]).float().mean()), "envelope": later_max}


def run() -> dict:
    start = time.perf_counter()
    model, tokenizer, validation, loss = train_decoder()
    model.set_attn_implementation("eager")
    encoding = tokenizer(SENTENCE, return_tensors="pt", return_offsets_mapping=True)
    ids, offsets = encoding["input_ids"], encoding["offset_mapping"][0].tolist()
    tokens = [token if token.strip() else "␣" for token in tokenizer.convert_ids_to_tokens(ids[0])]
    text_ids = torch.tensor(validation["input_ids"][:64])
    with torch.no_grad():
        sentence = model(input_ids=ids, output_attentions=True).attentions
        held_out = model(input_ids=text_ids, output_attentions=True).attentions
    space = tokenizer.convert_tokens_to_ids(" ")
    on_sentence = head_patterns(sentence, word_starts(ids, space))
    on_text = head_patterns(held_out, word_starts(text_ids, space))
    subject, article = word_link(sentence, offsets, "sat", "cat"), word_link(sentence, offsets, "sat", "The")
    length = ids.shape[1]
    uniform_head = (torch.ones(length, length).tril() / torch.arange(1, length + 1)[:, None])[None, None]
    subject_lift = subject / word_link((uniform_head,), offsets, "sat", "cat")    # x the share of a uniform head
    article_lift = article / word_link((uniform_head,), offsets, "sat", "The")
    pe = position_checks()
    wall = time.perf_counter() - start

    figure = plt.figure(figsize=(4 * HEADS, 3.6 * (LAYERS + 1)), layout="constrained")
    grid = figure.add_gridspec(LAYERS + 1, HEADS)
    for layer in range(LAYERS):
        plot_attention_heads(sentence, tokens, layer=layer,
                             axes=[figure.add_subplot(grid[layer, h]) for h in range(HEADS)])
    plot_position_encoding(length=128, hidden_size=PE_WIDTH, ax=figure.add_subplot(grid[LAYERS, : HEADS // 2]),
                           title=f"PE table (d = {PE_WIDTH})")
    ax = figure.add_subplot(grid[LAYERS, HEADS // 2:])
    ax.plot(pe["dot"], label="PE(pos) . PE(pos+k), mean over pos")
    ax.plot(pe["envelope"], "--", label="max over k' >= k")
    ax.set(xlabel="offset k", ylabel="dot product", title="Similarity depends only on k")
    ax.legend()
    figure.suptitle(f'"{SENTENCE}" — {LAYERS}-layer decoder trained {STEPS} steps on stdlib-docs '
                    f"(validation loss {loss:.2f})")

    rows = "\n".join(
        f"| {layer} | {head} | " + " | ".join(f"{on_sentence[layer, head, p]:.2f}" for p in range(len(PATTERNS)))
        + " | " + " | ".join(f"{on_text[layer, head, p]:.2f}" for p in range(len(PATTERNS)))
        + f" | {role(on_sentence[layer, head])} / {role(on_text[layer, head])} |"
        for layer in range(LAYERS) for head in range(HEADS))
    roles = [role(on_text[layer, head]) for layer in range(LAYERS) for head in range(HEADS)]
    counts = ", ".join(f"{roles.count(name)} {name}" for name in (*PATTERNS, "mixed") if roles.count(name))
    uniform = sum(1 / i for i in range(2, ids.shape[1] + 1)) / (ids.shape[1] - 1)   # a uniform causal head
    uniform_text = sum(1 / i for i in range(2, BLOCK + 1)) / (BLOCK - 1)
    stronger = int(((subject_lift >= 1.5) & (subject_lift > article_lift)).sum())
    claim = (f'"sat" attends to "cat" at >= 1.5x the share of a uniform causal head and more than to "The" in '
             f"{stronger} of {subject.numel()} heads (mean {subject.mean():.2f} vs {article.mean():.2f}, i.e. "
             f"{subject_lift.mean():.1f}x vs {article_lift.mean():.1f}x the uniform share; words summed over their "
             'characters). A causal model can only show the link from "sat" back to "cat", not "cat" -> "sat".')
    err, dot, envelope = pe["rotation_max_error"], pe["dot"], pe["envelope"]
    positions_hold = max(err.values()) < 1e-4 and pe["dot_spread_over_pos"] < 1e-3 and envelope[64] < dot[0]
    link_holds = stronger > LAYERS * HEADS / 2
    word = ("confirmed" if positions_hold and link_holds else
            "partly confirmed" if positions_hold or link_holds else "not confirmed")
    verdict = f"""
Tokens: {' | '.join(tokens)}. Mean attention per head, on the sentence and on 64 held-out blocks of {BLOCK} tokens
(queries at positions >= 1; a uniform causal head would put {uniform:.2f} on each single-token pattern of the
sentence and {uniform_text:.2f} on the held-out text; "word start" = the first character of the query's word):

| layer | head | {" | ".join(PATTERNS)} | {" | ".join(f"{p} (held-out)" for p in PATTERNS)} | role |
|---|---|{"---|" * 2 * len(PATTERNS)}---|
{rows}

**Verdict: {word}** (sinusoidal properties {'hold' if positions_hold else 'fail'}; the textbook "cat" - "sat"
link {'is' if link_holds else 'is not'} the majority pattern). After {STEPS} steps (validation loss {loss:.2f},
perplexity {math.exp(loss):.1f} over {len(tokenizer)} character tokens) the heads specialise on held-out
text: {counts} (role = the dominant pattern when it holds >= {ROLE_MASS} of the mass, i.e.
{ROLE_MASS / uniform_text:.0f}x a uniform head's; these are the maps of a tiny character-level language model).
The textbook example: {claim}
Sinusoidal positions (library table, d = {PE_WIDTH}, positions 0..{PE_LENGTH - 1}): PE(pos + k) = R_k PE(pos)
with one block-diagonal rotation R_k for all pos, max error {', '.join(f'k={k}: {e:.1e}' for k, e in err.items())}
(float32 table). PE(pos) . PE(pos + k) varies by at most {pe['dot_spread_over_pos']:.1e} across pos for any k
(it depends only on k, and equally on -k, so it cannot tell left from right); it falls from {dot[0]:.0f} at k = 0
to {dot[1]:.1f} (k = 1), {dot[4]:.1f} (k = 4), {dot[16]:.1f} (k = 16), {dot[64]:.1f} (k = 64), {dot[255]:.1f}
(k = 255), but not monotonically (it drops at only {pe['monotone_fraction']:.0%} of unit steps): the decay holds
for its envelope (largest value beyond k: {envelope[16]:.1f} for k >= 16, {envelope[64]:.1f} for k >= 64).
Whole script: {wall:.0f} s.
"""
    save("attention_maps", 'Attention maps for "The cat sat on the mat." and sinusoidal positions', figure, verdict,
         {"tokens": tokens, "validation_loss": loss, "patterns": list(PATTERNS),
          "sat_to_cat": subject.tolist(), "sat_to_The": article.tolist(), "sentence": on_sentence.tolist(),
          "held_out": on_text.tolist(), "roles_held_out": roles, "positions": pe,
          "wall_seconds": wall})
    return {"sentence": on_sentence, "held_out": on_text, "positions": pe}


if __name__ == "__main__":
    run()
