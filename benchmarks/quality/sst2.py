"""SST-2 sentiment: bag of words, a BiLSTM and a Transformer encoder (MLM-pretrained on WikiText-2, and from scratch).

    python -m benchmarks.quality.sst2 --models bow bow-model mlm scratch bilstm --threads 1

Reads ``<data_dir>/sst2/{train,dev}.tsv`` (67,349 training phrases and sentences / 872 dev sentences,
lowercased and PTB-tokenized, header ``sentence<TAB>label``) with ``nlpseq.load_corpus``, and for ``mlm``
also ``<data_dir>/wikitext-2/{train,valid}.txt``. Reports dev accuracy per model:

- ``bow``: ``BagOfWords`` TF-IDF over unigrams + bigrams of the whitespace tokens, then scikit-learn's
  ``LogisticRegression`` (the featurizer's estimator API).
- ``bow-model``: ``BowForSequenceClassification`` (TF-IDF of the WordPiece tokens, one linear layer), Trainer.
- ``bilstm``: ``RecurrentForSequenceClassification``, a 1-layer bidirectional LSTM, max-pooled, Trainer.
- ``mlm``: ``EncoderForMaskedLM`` (4 layers x 128) pretrained on WikiText-2 train for ``--pretrain_minutes``,
  then fine-tuned as ``EncoderForSequenceClassification`` for ``--finetune_minutes``.
- ``scratch``: the same encoder fine-tuned from random weights for the same budget (what pretraining bought).

Every neural model uses one lowercase WordPiece tokenizer (8,000 tokens) trained on WikiText-2 train + SST-2
train text (unlabeled). Trainer runs stop after their wall-clock budget (``TimeLimitCallback``), with
``max_steps`` sized so the learning-rate schedule spans about that budget. ``--quick`` is a smoke run (2,000
training rows, 20 steps each, nothing recorded). Results go to ``benchmarks/quality/results/sst2.json``
(rows of models not run this time are kept) and ``docs/results.md``.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from transformers import (
    DataCollatorForLanguageModeling,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
    set_seed,
)

from nlpseq import (
    BagOfWords,
    BowConfig,
    BowForSequenceClassification,
    EncoderConfig,
    EncoderForMaskedLM,
    EncoderForSequenceClassification,
    RecurrentConfig,
    RecurrentForSequenceClassification,
    group_texts,
    load_corpus,
    metrics,
    prepare_classification,
    tokenize_dataset,
    train_tokenizer,
)
from nlpseq.training import TimeLimitCallback

from . import common

NAME, TITLE = "sst2", "SST-2 sentiment classification (dev accuracy, 872 sentences)"
VOCAB_SIZE, MAX_LENGTH, BLOCK_SIZE = 8000, 128, 64
STANDARD_ERROR = 1.35  # sqrt(0.8 * 0.2 / 872) in points: the dev set's sampling noise near 80 % accuracy
EVAL_BLOCKS = 500  # the first 500 blocks (32,000 tokens) of WikiText-2 valid give the masked-token perplexity
#: 4 x 128 rather than 4 x 256: on a fraction of one CPU core it sees ~3x more tokens in the same minutes. Learned
#: positions as in BERT: the default unscaled sinusoids (amplitude 1) drown token embeddings initialised at std 0.02,
#: and the classifier stayed at chance (49.9 % fine-tuned, 56.5 % from scratch, measured with sinusoids).
ENCODER = {"hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 512,
           "max_position_embeddings": 128, "position_embedding_type": "learned", "hidden_dropout_prob": 0.1,
           "attention_probs_dropout_prob": 0.1}

#: model -> the fields of its result row
ROWS = {
    "bow": {"model": "BoW logistic: BagOfWords TF-IDF uni+bigrams + LogisticRegression", "goal": 81.0,
            "target": ">= 81 %", "published": "NB 81.8 (Socher et al. 2013, as quoted in issue 9)"},
    "bow-model": {"model": "BowForSequenceClassification: WordPiece TF-IDF + linear", "goal": 81.0,
                  "target": ">= 81 %", "published": "NB 81.8 (Socher et al. 2013, as quoted in issue 9)"},
    "bilstm": {"model": "BiLSTM 1 x 150, max-pooled, no pretrained vectors", "goal": 84.0, "target": ">= 84 %",
               "published": "LSTM 84.9, BiLSTM 87.5 with GloVe (Tai et al. 2015, as quoted in issue 9)"},
    "mlm": {"model": "Encoder 4 x 128, MLM on WikiText-2, fine-tuned", "goal": 84.0, "target": ">= 84 %",
            "published": "BiLSTM 87.5 with GloVe (as quoted in issue 9); BERT-base 93.5 test (Devlin et al. 2019)"},
    "scratch": {"model": "Encoder 4 x 128, from scratch (no pretraining)", "goal": 84.0, "target": ">= 84 %",
                "published": "(ablation of the row above, same budget)"},
}
#: training arguments per run; ``steps_per_minute`` (measured here at 1 thread on the loaded 2-core CPU) times the
#: budget gives ``max_steps``, so the learning-rate schedule spans about the budget
TRAINING = {
    "bow-model": {"learning_rate": 2e-2, "per_device_train_batch_size": 64, "steps_per_minute": 2000 / 3,
                  "weight_decay": 0.0},
    "bilstm": {"learning_rate": 2e-3, "per_device_train_batch_size": 64, "steps_per_minute": 150,
               "max_grad_norm": 1.0},
    "classifier": {"learning_rate": 3e-4, "per_device_train_batch_size": 32, "steps_per_minute": 1500 / 8,
                   "weight_decay": 0.01},
    "pretrain": {"learning_rate": 1e-3, "per_device_train_batch_size": 64, "steps_per_minute": 200 / 15,
                 "weight_decay": 0.01, "adam_beta2": 0.98},
}


def load_sst2(data_dir: Path):
    """SST-2 train and dev (as ``validation``), read by path."""
    return load_corpus({"train": common.data_file(data_dir, "sst2", "train.tsv"),
                        "validation": common.data_file(data_dir, "sst2", "dev.tsv")})


def load_wikitext(data_dir: Path, unk_token: str):
    """WikiText-2 train/valid, one row per non-blank line, headings (`` = Title = ``) dropped, ``<unk>`` mapped."""
    data = load_corpus({"train": common.data_file(data_dir, "wikitext-2", "train.txt"),
                        "validation": common.data_file(data_dir, "wikitext-2", "valid.txt")})
    data = data.filter(lambda b: [not t.strip().startswith("=") for t in b["text"]], batched=True)
    return data.map(lambda b: {"text": [t.replace("<unk>", unk_token) for t in b["text"]]}, batched=True)


def training_args(name: str, args, overrides: dict, minutes: float, **extra) -> TrainingArguments:
    """One place for what every Trainer run here shares: 1 CPU, seeded, cosine schedule, logs every 50 steps."""
    settings = {**overrides, **extra}
    steps_per_minute = settings.pop("steps_per_minute")
    settings["max_steps"] = 20 if args.quick else max(1, round(steps_per_minute * minutes))
    return TrainingArguments(
        output_dir=str(args.output_dir / f"{NAME}-{name}"), lr_scheduler_type="cosine", warmup_steps=0.06,
        per_device_eval_batch_size=128, logging_steps=5 if args.quick else 50, save_strategy="no", report_to=[],
        seed=args.seed, use_cpu=True, disable_tqdm=True, **settings)


def fit(name: str, trainer: Trainer, minutes: float) -> dict:
    """Train under a wall-clock budget; return steps, seconds and the final training loss."""
    trainer.add_callback(TimeLimitCallback(minutes))
    n_params = sum(p.numel() for p in trainer.model.parameters())
    print(f"[{name}] {n_params / 1e6:.2f}M parameters, max_steps={trainer.args.max_steps}, budget {minutes} min",
          flush=True)
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started
    steps = trainer.state.global_step
    print(f"[{name}] trained {steps} steps in {seconds:.0f} s ({seconds / steps:.2f} s/step), "
          f"loss {result.training_loss:.3f}", flush=True)
    return {"train_seconds": seconds, "steps": steps, "parameters": n_params, "train_loss": result.training_loss}


def train_classifier(name: str, model, encoded, tokenizer, args, minutes: float, overrides: dict) -> dict:
    """Fine-tune ``model`` on SST-2 train with the Trainer for at most ``minutes``; dev accuracy and run facts."""
    set_seed(args.seed)
    trainer = Trainer(model=model, args=training_args(name, args, overrides, minutes,
                                                      train_sampling_strategy="group_by_length"),
                      train_dataset=encoded["train"], eval_dataset=encoded["validation"], processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer),
                      compute_metrics=metrics.classification_metrics())
    facts = fit(name, trainer, minutes)
    accuracy = 100 * trainer.evaluate()["eval_accuracy"]
    print(f"[{name}] dev accuracy {accuracy:.2f}", flush=True)
    return {**facts, "value": accuracy, "epochs": facts["steps"] * trainer.args.per_device_train_batch_size
            / len(encoded["train"])}


def run_bow(raw, args) -> dict:
    """Uni+bigram TF-IDF of the (already tokenized) words, then L2-regularised logistic regression."""
    started = time.perf_counter()
    bow = BagOfWords(str.split, ngram_range=(1, 2), min_df=2, sublinear_tf=True, weighting="tfidf",
                     store_corpus=False)
    features = bow.fit_transform(list(raw["train"]["sentence"]))
    classifier = LogisticRegression(max_iter=2000).fit(features, np.array(raw["train"]["label"]))  # C=1
    seconds = time.perf_counter() - started
    predictions = classifier.predict(bow.transform(list(raw["validation"]["sentence"])))
    accuracy = 100 * float(np.mean(predictions == np.array(raw["validation"]["label"])))
    print(f"[bow] {features.shape[1]:,} features, dev accuracy {accuracy:.2f} ({seconds:.0f} s)", flush=True)
    return {"value": accuracy, "train_seconds": seconds, "parameters": features.shape[1] + 1}


def run_bow_model(encoded, tokenizer, args) -> dict:
    config = BowConfig(vocab_size=len(tokenizer), weighting="tfidf", sublinear_tf=True, hidden_sizes=[],
                       num_labels=2, pad_token_id=tokenizer.pad_token_id)
    model = BowForSequenceClassification(config)
    model.fit_idf(encoded["train"]["input_ids"])
    return train_classifier("bow-model", model, encoded, tokenizer, args, args.bow_minutes, TRAINING["bow-model"])


def run_bilstm(encoded, tokenizer, args) -> dict:
    set_seed(args.seed)
    config = RecurrentConfig(cell="lstm", vocab_size=len(tokenizer), embedding_size=200, hidden_size=150,
                             bidirectional=True, hidden_dropout_prob=0.5, classifier_pooling="max", num_labels=2,
                             pad_token_id=tokenizer.pad_token_id)
    return train_classifier("bilstm", RecurrentForSequenceClassification(config), encoded, tokenizer, args,
                            args.bilstm_minutes, TRAINING["bilstm"])


def pretrain_mlm(data_dir: Path, tokenizer, args) -> tuple[Path, dict]:
    """Masked-LM pretraining on WikiText-2 train (blocks of 128 tokens); saved to ``<output_dir>/sst2-mlm``."""
    set_seed(args.seed)
    wiki = load_wikitext(data_dir, tokenizer.unk_token)
    if args.quick:
        wiki["train"] = wiki["train"].select(range(500))
    blocks = group_texts(tokenize_dataset(wiki, tokenizer), BLOCK_SIZE)
    blocks["validation"] = blocks["validation"].select(range(20 if args.quick else EVAL_BLOCKS))
    model = EncoderForMaskedLM(EncoderConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                             **ENCODER))
    trainer = Trainer(model=model, args=training_args("mlm", args, TRAINING["pretrain"], args.pretrain_minutes),
                      train_dataset=blocks["train"], eval_dataset=blocks["validation"], processing_class=tokenizer,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=args.seed))
    facts = fit("mlm-pretrain", trainer, args.pretrain_minutes)
    facts["perplexity"] = float(np.exp(trainer.evaluate()["eval_loss"]))
    facts["blocks"] = len(blocks["train"])
    print(f"[mlm-pretrain] masked-token perplexity {facts['perplexity']:.1f} on WikiText-2 valid", flush=True)
    trainer.save_model()
    return Path(trainer.args.output_dir), facts


def run_encoder(name: str, encoded, tokenizer, args) -> dict:
    """``mlm``: pretrain then fine-tune; ``scratch``: fine-tune the same architecture from random weights."""
    labels = {"num_labels": 2, "id2label": {0: "negative", 1: "positive"}, "label2id": {"negative": 0, "positive": 1}}
    set_seed(args.seed)
    if name == "mlm":
        checkpoint, pretraining = pretrain_mlm(args.data_dir, tokenizer, args)
        model = EncoderForSequenceClassification.from_pretrained(checkpoint, **labels)
    else:
        pretraining = {}
        model = EncoderForSequenceClassification(EncoderConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **ENCODER, **labels))
    row = train_classifier(name, model, encoded, tokenizer, args, args.finetune_minutes, TRAINING["classifier"])
    if pretraining:
        row["pretraining"] = pretraining
        row["train_seconds"] += pretraining["train_seconds"]
    return row


def comment(name: str, row: dict) -> str:
    """Why a missed target was missed, with the measured gap."""
    if row["value"] >= row["goal"]:
        return ""
    gap = f"missed by {row['goal'] - row['value']:.1f} points"
    if row["goal"] - row["value"] < STANDARD_ERROR:
        gap += f", less than one standard error of the dev accuracy ({STANDARD_ERROR} points)"
    budget = f"{row['train_seconds'] / 60:.0f} min on 1 shared CPU thread"
    if name == "bilstm":
        return (f"{gap}: random-init embeddings (no GloVe, which the published 87.5 uses), "
                f"{row['epochs']:.1f} epochs in {budget}")
    if name in ("mlm", "scratch"):
        pre = row.get("pretraining")
        seen = (f"; pretraining saw {pre['steps'] * 64 / pre['blocks']:.1f} epochs of WikiText-2 (masked-token "
                f"perplexity {pre['perplexity']:.0f}) vs. BERT's 3.3B words for days on TPUs" if pre else "")
        return f"{gap}: {row['epochs']:.1f} fine-tuning epochs, {budget} in all{seen}"
    if name == "bow":
        return f"{gap}: scikit-learn's default regularisation (C=1), nothing tuned on dev"
    return f"{gap}: {budget}"


def notes(rows: list[dict], args) -> str:
    """Exact setup of every row, as markdown."""
    lines = [f"Data: SST-2 (GLUE layout) train 67,349 phrases + sentences, dev 872 sentences (the reported "
             f"number); test.tsv is not used. One lowercase WordPiece tokenizer ({VOCAB_SIZE:,} tokens) trained on "
             "WikiText-2 train + SST-2 train text (no labels) for every neural model. Trainer with AdamW, cosine "
             "schedule with 6 % warmup, length-grouped batches, a wall-clock budget per model "
             f"(`TimeLimitCallback`), seed {args.seed}, {args.threads} CPU thread(s) on a 2-core machine shared "
             "with three other jobs (so the step counts below are what a fraction of a core allowed). BoW logistic: "
             "sublinear TF-IDF of the whitespace uni+bigrams seen in >= 2 training rows, scikit-learn "
             f"`LogisticRegression` with its default C=1 (a first run with C=4 gave 80.28). One standard error of "
             f"an accuracy near 80 % on 872 sentences is {STANDARD_ERROR} points, so rows closer than that are not "
             "distinguishable. The encoders use learned positions: a first run with `EncoderConfig`'s default "
             "unscaled sinusoids stayed at chance (49.9 % pretrained + fine-tuned, 56.5 % from scratch), because "
             "sinusoids of amplitude 1 drown token embeddings initialised at std 0.02.", ""]
    for r in rows:
        extra = f", {r['steps']} steps ({r['epochs']:.2f} epochs), final train loss {r['train_loss']:.3f}" \
            if "steps" in r else ""
        pre = r.get("pretraining")
        if pre:
            extra += (f"; MLM pretraining {pre['steps']} steps x 64 blocks of {BLOCK_SIZE} tokens "
                      f"({pre['train_seconds'] / 60:.1f} min), masked-token perplexity {pre['perplexity']:.1f} on "
                      f"the first {EVAL_BLOCKS} blocks of WikiText-2 valid")
        lines.append(f"- {r['model']}: {r['parameters']:,} parameters{extra}; `{r['command']}`.")
    encoders = {r["key"]: r for r in rows if r["key"] in ("mlm", "scratch")}
    if len(encoders) == 2:
        pre = encoders["mlm"]["pretraining"]
        lines += ["", f"What pretraining bought: {encoders['mlm']['value'] - encoders['scratch']['value']:+.1f} points "
                  f"(pretrained minus from scratch, same fine-tuning steps; within the dev noise). {pre['steps']} MLM "
                  f"steps ({pre['steps'] * 64 / pre['blocks']:.2f} epochs of WikiText-2) left a masked-token "
                  f"perplexity of {pre['perplexity']:.0f}: far too little pretraining to give a classifier anything."]
    lines += ["", "`max_steps` is a step rate measured under the heavier load at the start of the session times the "
              "budget, so a run that met a lighter load finished its schedule before its budget (train time column)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__)
    p.add_argument("--models", nargs="+", choices=list(ROWS), default=list(ROWS))
    p.add_argument("--bow_minutes", type=float, default=3.0, help="bow-model budget")
    p.add_argument("--bilstm_minutes", type=float, default=12.0, help="BiLSTM budget")
    p.add_argument("--pretrain_minutes", type=float, default=15.0, help="MLM pretraining budget")
    p.add_argument("--finetune_minutes", type=float, default=8.0, help="encoder fine-tuning budget (mlm, scratch)")
    p.add_argument("--quick", action="store_true", help="2,000 rows, 20 steps per model; nothing is recorded")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    raw = load_sst2(args.data_dir)
    if args.quick:
        raw["train"] = raw["train"].shuffle(seed=args.seed).select(range(2000))
    neural = [m for m in args.models if m != "bow"]
    if neural:
        wiki_text = load_wikitext(args.data_dir, "[UNK]")["train"]["text"]
        tokenizer = train_tokenizer(list(wiki_text) + list(raw["train"]["sentence"]), kind="wordpiece",
                                    vocab_size=VOCAB_SIZE, preset="mlm", lowercase=True, model_max_length=MAX_LENGTH)
        encoded = prepare_classification(raw, tokenizer, "sentence", "label", max_length=MAX_LENGTH)
    path = common.RESULTS_DIR / f"{NAME}.json"
    previous = json.loads(path.read_text())["rows"] if path.is_file() else []
    for name in args.models:
        if name == "bow":
            measured = run_bow(raw, args)
        elif name == "bow-model":
            measured = run_bow_model(encoded, tokenizer, args)
        elif name == "bilstm":
            measured = run_bilstm(encoded, tokenizer, args)
        else:
            measured = run_encoder(name, encoded, tokenizer, args)
        row = {**ROWS[name], "key": name, "metric": "dev accuracy (%)", "higher_is_better": True, **measured}
        row["comment"] = comment(name, row)
        if args.quick:
            continue
        command = shlex.join(["python", "-m", f"benchmarks.quality.{NAME}", *(argv or sys.argv[1:])])
        row["command"] = command
        rows = [r for r in previous if r.get("key") != name] + [row]
        rows.sort(key=lambda r: list(ROWS).index(r["key"]))
        common.record(NAME, TITLE, rows, command, notes(rows, args))
        previous = rows


if __name__ == "__main__":
    main()
