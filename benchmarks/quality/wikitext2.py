"""WikiText-2, word level: test perplexity of an LSTM and a Transformer decoder after a fixed CPU budget each.

    python -m benchmarks.quality.wikitext2 --threads 1 --minutes 12          # both models, ~12 min each
    python -m benchmarks.quality.wikitext2 --threads 1 --quick               # 10 steps each to time a step

Reads ``<data_dir>/wikitext-2/{train,valid,test}.txt`` (the already tokenized pytorch/examples files) as one
stream per split (``sample_by="document"``), with a word-level tokenizer over every training word
(``kind="word"``: the corpus' own ``<unk>`` is the unknown token and each line break is the ``<eos>`` token,
so the streams are the standard ones: 2,088,628 / 217,646 / 245,569 tokens). Each model trains with the HF
``Trainer`` on shuffled 65-token blocks until ``TimeLimitCallback(--minutes)`` stops it; the reported number
is the test perplexity over the whole test stream (``nlpseq.evaluation.stream_perplexity``: every token scored
once, with at least 64 tokens of history). Results go to ``benchmarks/quality/results/wikitext2.json``.
"""

from __future__ import annotations

import time

import torch
from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, set_seed

from benchmarks.quality import common
from nlpseq import (
    DecoderConfig,
    DecoderForCausalLM,
    RecurrentConfig,
    RecurrentForCausalLM,
    group_texts,
    load_corpus,
    tokenize_dataset,
    train_tokenizer,
)
from nlpseq.evaluation import stream_perplexity
from nlpseq.training import TimeLimitCallback

NAME = "wikitext2"
BLOCK = 65  # 64 predicted tokens per training block
CONTEXT = 128  # evaluation windows: 128 tokens, the last 64 scored
#: name -> (description, model class, config class, config fields, batch size, learning rate, max_steps)
MODELS = {
    "lstm": ("LSTM 2 x 200, tied embeddings", RecurrentForCausalLM, RecurrentConfig,
             {"cell": "lstm", "hidden_size": 200, "num_hidden_layers": 2}, 16, 3e-3, 150),
    "decoder": ("decoder 4 layers x 200, ctx 128, tied embeddings", DecoderForCausalLM, DecoderConfig,
                {"hidden_size": 200, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 800,
                 "max_position_embeddings": CONTEXT, "hidden_dropout_prob": 0.0,
                 "attention_probs_dropout_prob": 0.0}, 16, 2e-3, 120),
}
PUBLISHED = "99.3 (published plain LSTM, as quoted in issue 9)"


def train_and_test(name: str, blocks, test_ids: list[int], tokenizer, args) -> dict:
    """Train one model on the blocks for the budget and return its results row."""
    description, model_class, config_class, fields, batch, lr, max_steps = MODELS[name]
    set_seed(args.seed)
    specials = {k: getattr(tokenizer, k) for k in ("pad_token_id", "bos_token_id", "eos_token_id")}
    model = model_class(config_class(vocab_size=len(tokenizer), tie_word_embeddings=True, **specials, **fields))
    training_args = TrainingArguments(
        output_dir=str(args.output_dir / f"{NAME}-{name}"), max_steps=10 if args.quick else max_steps,
        per_device_train_batch_size=batch, learning_rate=lr, lr_scheduler_type="cosine", warmup_steps=10,
        weight_decay=0.01, max_grad_norm=1.0, seed=args.seed, logging_steps=25, save_strategy="no",
        eval_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=training_args, train_dataset=blocks["train"], processing_class=tokenizer,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
                      callbacks=[TimeLimitCallback(args.minutes)])
    result = trainer.train()
    start = time.perf_counter()
    test = stream_perplexity(model, test_ids[: 2 * CONTEXT] if args.quick else test_ids, context=CONTEXT,
                             batch_size=32)
    print(f"[{name}] steps {trainer.state.global_step}, train {result.metrics['train_runtime']:.0f} s, test {test} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    ppl, steps, minutes = test["perplexity"], trainer.state.global_step, result.metrics["train_runtime"] / 60
    return {"model": description, "metric": "test perplexity", "value": ppl, "goal": 99.3,
            "higher_is_better": False, "target": "published plain LSTM: 99.3", "published": PUBLISHED,
            "train_seconds": result.metrics["train_runtime"],
            "comment": (f"{ppl / 99.3:.1f}x the published figure after {steps} steps of {batch} x {BLOCK - 1} "
                        f"tokens ({steps * batch * (BLOCK - 1) / 2.09e6:.2f} epochs) in {minutes:.1f} min on "
                        f"{args.threads} CPU thread(s) shared with other jobs; published LSTMs train for tens of "
                        "epochs on a GPU")}


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--minutes", type=float, default=12.0, help="wall-clock training budget of each model")
    p.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    p.add_argument("--quick", action="store_true", help="10 steps each and a short test stream; records nothing")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    files = {split: common.data_file(args.data_dir, "wikitext-2", f"{split}.txt") for split in ("train", "valid",
                                                                                              "test")}
    data = load_corpus({"train": files["train"], "validation": files["valid"], "test": files["test"]},
                       sample_by="document")
    tokenizer = train_tokenizer(data["train"]["text"], kind="word", vocab_size=None, min_frequency=1)
    tokens = tokenize_dataset(data, tokenizer)
    counts = {split: len(ds[0]["input_ids"]) - 1 for split, ds in tokens.items()}  # without the opening <s>
    print(f"vocabulary {len(tokenizer)}, tokens per split {counts}", flush=True)
    blocks = group_texts(tokens.remove_columns(["attention_mask"]), BLOCK)
    test_ids = tokens["test"]["input_ids"][0]
    rows = [train_and_test(name, blocks, test_ids, tokenizer, args) for name in args.models]
    if args.quick:
        return
    budgets = ", ".join(f"{name} {spec[-1]}" for name, spec in MODELS.items())
    notes = (f"Word-level streams of the tokenized WikiText-2 files (vocabulary {len(tokenizer):,} = the 33,278 "
             "words incl. `<eos>` (here the line break) + `<s> </s> <pad>`; one `<s>` opens each stream). "
             f"Training: shuffled non-overlapping {BLOCK}-token blocks, AdamW, cosine schedule with 10 warmup "
             f"steps, no dropout (the budget is far below one epoch); each model stops at its max_steps ({budgets},"
             f" sized from a timed dry run) or after {args.minutes:g} wall-clock minutes (TimeLimitCallback), "
             f"whichever comes first. Test perplexity = exp(mean NLL) over all {len(test_ids) - 1:,} test tokens, "
             f"windows of {CONTEXT} scoring their last {CONTEXT // 2}. Seed {args.seed}, {args.threads} CPU "
             "thread(s) on a 2-core machine shared with other jobs.")
    command = f"python -m benchmarks.quality.{NAME} --threads {args.threads} --minutes {args.minutes:g}"
    common.record(NAME, "WikiText-2, word level (test perplexity)", rows, command, notes)


if __name__ == "__main__":
    main()
