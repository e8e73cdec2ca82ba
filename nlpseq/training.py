"""What the recipes share: model/tokenizer construction, the data they load, checks, and the Trainers.

A recipe (``recipes/*.py``) is ~50 lines: parse ``ModelArguments``, ``DataArguments`` (``nlpseq.recipe_arguments``)
and the transformers ``TrainingArguments`` (or ``Seq2SeqTrainingArguments``), call these helpers, build the
``Trainer`` (or ``Seq2SeqTrainer``) defined here: the transformers one with pickle-free checkpoints. Then
``nlpseq.results.run_and_report`` trains, evaluates and predicts as ``--do_*`` say and writes the result files.
Every check here runs *before* training starts, so a bad flag costs seconds, not an epoch.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import datasets
import torch
import transformers
from datasets import IterableDataset, IterableDatasetDict
from transformers import (
    AutoConfig,
    AutoTokenizer,
    EarlyStoppingCallback,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainerCallback,
)

from . import models
from .arguments import (
    check_data_arguments,
    check_early_stopping,
    check_lengths,
    check_local_sources,
    check_model_features,
    check_output_dir,
    check_override_types,
    check_switches,
    check_training_arguments,
    check_weight_average,
)
from .averaging import WeightAverageCallback, WeightAverageMixin
from .checkpointing import (  # the resume helpers live beside the checkpoint format; recipes import them here
    SafetensorsCheckpointMixin,
    check_resume_checkpoint,
    last_complete_checkpoint,  # noqa: F401
    resolve_resume,  # noqa: F401
)
from .data import ShiftedBlocks, group_texts, load_corpus, require_columns, tokenize_dataset
from .errors import ConfigurationError, ConfigurationFileNotFoundError
from .hub import HubExportMixin, save_tokenizer
from .presets import SIZES, preset
from .recipe_arguments import (  # noqa: F401  (recipes import them here)
    DataArguments,
    ModelArguments,
    parse_args,
    pick_columns,
)
from .rows import (
    check_rows,
    check_translation_columns,  # noqa: F401  (moved there; recipes import it here)
    text_fields,
)
from .run_lock import lock_output_dir
from .streaming import check_streaming, load_stream, stream_blocks, stream_texts
from .tokenization import train_tokenizer

TRAINER_STATE = "trainer_state.json"

#: family -> model_type and the head class for each task (looked up in nlpseq.models when needed)
FAMILIES: dict[str, dict[str, str]] = {
    "bow": {"model_type": "nlpseq-bow", "classification": "BowForSequenceClassification"},
    "recurrent": {"model_type": "nlpseq-recurrent", "clm": "RecurrentForCausalLM",
                  "classification": "RecurrentForSequenceClassification",
                  "token-classification": "RecurrentForTokenClassification"},
    "encoder": {"model_type": "nlpseq-encoder", "mlm": "EncoderForMaskedLM",
                "classification": "EncoderForSequenceClassification",
                "token-classification": "EncoderForTokenClassification"},
    "decoder": {"model_type": "nlpseq-decoder", "clm": "DecoderForCausalLM",
                "classification": "DecoderForSequenceClassification"},
    "ssm": {"model_type": "nlpseq-ssm", "clm": "SelectiveSSMForCausalLM",
            "classification": "SelectiveSSMForSequenceClassification"},
    "recurrent-seq2seq": {"model_type": "nlpseq-recurrent-seq2seq",
                          "translation": "RecurrentSeq2SeqForConditionalGeneration"},
    "transformer-seq2seq": {"model_type": "nlpseq-transformer-seq2seq",
                            "translation": "TransformerSeq2SeqForConditionalGeneration"},
}
#: task -> tokenizer preset
PRESET_FOR_TASK = {"clm": "clm", "mlm": "mlm", "classification": "mlm", "translation": "seq2seq",
                   "token-classification": "mlm"}
#: a subword tokenizer trained without --vocab_size gets at most this many tokens
DEFAULT_VOCAB_SIZE = 4000


def check_arguments(model_args: ModelArguments, training_args, task: str,
                    data_args: DataArguments | None = None) -> None:
    """Fail before any work: an unknown family or a task it lacks, out-of-range training/data arguments and an
    unusable ``--output_dir`` (``nlpseq.arguments``), a missing or damaged resume checkpoint, a checkpoint or config
    of another family, misspelt or mistyped ``--config_overrides``, and a config they make invalid."""
    family = FAMILIES.get(model_args.model_family)
    if family is None:
        raise ConfigurationError(f"Unknown model family {model_args.model_family!r}; choose one of {sorted(FAMILIES)}")
    if task not in family:
        able = sorted(f for f, tasks in FAMILIES.items() if task in tasks)
        raise ConfigurationError(f"Family {model_args.model_family!r} has no {task} head; for {task} use one of {able}")
    check_training_arguments(training_args)
    check_switches(training_args, pretrained=bool(model_args.model_name_or_path))
    check_model_features(getattr(models, family[task]), training_args)
    if data_args is not None:
        check_data_arguments(data_args)
        check_early_stopping(data_args, training_args)
        check_streaming(data_args, training_args, task)
    check_output_dir(training_args.output_dir)
    check_resume_checkpoint(getattr(training_args, "resume_from_checkpoint", None))
    if data_args is not None:
        check_weight_average(data_args, training_args)  # after the checkpoint itself is known to be there
    check_local_sources(model_args)
    overrides = parse_overrides(model_args.config_overrides)
    _check_override_keys(family["model_type"], overrides)
    config = _check_config_source(model_args, family["model_type"], overrides, task)
    if data_args is not None:
        check_lengths(config, task, data_args, training_args)


def run_recipe(run: Callable[..., dict], *dataclass_types, task: str, argv: list[str] | None = None,
               callbacks: list[TrainerCallback] | None = None) -> dict:
    """Every recipe's ``main``: parse ``ModelArguments``, ``DataArguments`` and ``dataclass_types`` (the last one
    the ``TrainingArguments``) with the size preset's training defaults, check them all before any data work,
    hold the ``--output_dir`` lock, then ``run(*parsed, callbacks)`` (with ``EarlyStoppingCallback`` added for
    ``--early_stopping_patience``, ``WeightAverageCallback`` for ``--ema_decay``)."""
    parsed = parse_args(ModelArguments, DataArguments, *dataclass_types, argv=argv, task=task)
    model_args, data_args, training_args = parsed[0], parsed[1], parsed[-1]
    check_arguments(model_args, training_args, task, data_args)
    if data_args.early_stopping_patience:
        callbacks = [*(callbacks or []), EarlyStoppingCallback(data_args.early_stopping_patience,
                                                               data_args.early_stopping_threshold)]
    if data_args.ema_decay:
        callbacks = [*(callbacks or []), WeightAverageCallback(data_args.ema_decay)]
    with lock_output_dir(training_args, data_args.overwrite_output_dir):
        return run(*parsed, callbacks)


def _check_config_source(model_args: ModelArguments, expected: str, overrides: dict,
                         task: str | None = None) -> PretrainedConfig:
    """The checkpoint or ``--config_name`` file is of the family, and its config with the overrides is valid
    (returned, without the tokenizer's vocabulary)."""
    if model_args.model_name_or_path:
        model_type = AutoConfig.from_pretrained(model_args.model_name_or_path).model_type
        if model_type != expected:
            owner = next((f for f, tasks in FAMILIES.items() if tasks["model_type"] == model_type), model_type)
            raise ConfigurationError(f"--model_name_or_path {model_args.model_name_or_path} holds a {model_type!r} "
                                     f"model but --model_family is {model_args.model_family!r}; pass --model_family "
                                     f"{owner}")
        return AutoConfig.from_pretrained(model_args.model_name_or_path, **overrides)  # its own checks, now
    try:  # an unknown size or a config of another family fails here, before the tokenizer is trained
        values = dict(preset_config(model_args, task))
    except FileNotFoundError as err:
        raise ConfigurationFileNotFoundError(str(err)) from None
    model_type = values.pop("model_type", expected)
    if model_type != expected:
        raise ConfigurationError(f"--config_name {model_args.config_name} is a {model_type!r} config but "
                                 f"--model_family is {model_args.model_family!r}; pass a {expected} config or the "
                                 "matching --model_family")
    # e.g. hidden_size not divisible by heads; the vocabulary is the tokenizer's, not known yet (build_config checks it)
    unknown_vocabulary = {"vocab_size": 2**31 - 1}
    return AutoConfig.for_model(expected, **{**values, **unknown_vocabulary, **overrides})


def preset_config(model_args: ModelArguments, task: str | None = None) -> dict:
    """``--config_name``: the config values of a size preset (``nlpseq/presets``, with ``task``'s changes), or
    of a config.json path."""
    path = Path(model_args.config_name)
    if path.is_file():
        return json.loads(path.read_text())
    if model_args.config_name not in SIZES and model_args.config_name.endswith(".json"):
        raise FileNotFoundError(f"--config_name {model_args.config_name} does not exist; give a config.json path "
                                f"or a size preset in {list(SIZES)}")
    return preset(model_args.model_family, model_args.config_name, task)["config"]


def _check_override_keys(model_type: str, overrides: dict) -> None:
    """A misspelt ``--config_overrides`` key would be stored on the config and silently ignored: refuse it (and a
    value of the wrong type, which would fail deep inside the model)."""
    known = set(AutoConfig.for_model(model_type).to_dict())
    unknown = [k for k in overrides if k not in known]
    if unknown:
        hints = {k: difflib.get_close_matches(k, known, n=1) for k in unknown}
        hint = "; ".join(f"{k!r}: did you mean {m[0]!r}?" for k, m in hints.items() if m)
        raise ConfigurationError(f"--config_overrides key(s) {unknown} are not {model_type} config fields"
                                 f"{' (' + hint + ')' if hint else ''}; see the model's config class for the valid "
                                 "ones")
    check_override_types(type(AutoConfig.for_model(model_type)), overrides)


#: the --max_*_samples flag of each split
SAMPLE_LIMITS = {"train": "max_train_samples", "validation": "max_eval_samples", "test": "max_predict_samples"}
#: tasks whose examples are token blocks: their --max_*_samples count blocks (as run_clm.py / run_mlm.py do)
BLOCK_TASKS = ("clm", "mlm")


def load_data(data_args: DataArguments, seed: int, task: str | None = None):
    """``--train_file``/``--validation_file``/``--test_file`` if given, else ``--dataset_name`` (streams with
    ``--streaming``); for row tasks the ``--max_*_samples`` limits apply here (before tokenizer training), for
    clm/mlm to the blocks (``lm_blocks``)."""
    files = {split: getattr(data_args, f"{split}_file") for split in SAMPLE_LIMITS}
    source = {split: path for split, path in files.items() if path} or data_args.dataset_name
    if data_args.streaming:
        return load_stream(source, data_args.dataset_config_name, held_out=data_args.max_eval_samples, seed=seed,
                           keep_linebreaks=data_args.keep_linebreaks)
    if data_args.overwrite_cache:
        datasets.disable_caching()  # every map recomputes (the examples' --overwrite_cache)
    data = load_corpus(source, config=data_args.dataset_config_name, validation_fraction=data_args.validation_fraction,
                       seed=seed, sample_by=data_args.sample_by, keep_linebreaks=data_args.keep_linebreaks)
    return data if task in BLOCK_TASKS else select_samples(data, data_args)


def load_lm_data(data_args: DataArguments, seed: int, task: str):
    """A language-model recipe's data: every row has a text (``nlpseq.rows``), or, with ``--streaming``, the
    streams (whose rows are checked as they are read)."""
    data = load_data(data_args, seed, task)
    if data_args.streaming:
        return data
    pick_columns(data["train"].column_names, data_args, task)
    require_columns(data["train"], [data_args.text_column], "language-model pretraining")
    return check_rows(data, text_fields(data_args.text_column), "language-model pretraining")


def select_samples(data, data_args: DataArguments):
    """The first ``--max_train_samples`` / ``--max_eval_samples`` / ``--max_predict_samples`` rows of each split."""
    for split, flag in SAMPLE_LIMITS.items():
        limit = getattr(data_args, flag)
        if limit is not None and split in data:
            data[split] = data[split].select(range(min(limit, len(data[split]))))
    return data


def lm_blocks(data, tokenizer: PreTrainedTokenizerBase, data_args: DataArguments):
    """Tokenize ``--text_column``, cut into ``--block_size`` blocks, then keep ``--max_*_samples`` blocks per split
    (``run_clm.py``'s order), with ``--preprocessing_num_workers`` processes; on the fly for streams."""
    if data_args.streaming:
        return IterableDatasetDict({split: stream_blocks(stream, tokenizer, data_args.text_column,
                                                         data_args.block_size, getattr(data_args, SAMPLE_LIMITS[split]))
                                    for split, stream in data.items()})
    workers = data_args.preprocessing_num_workers
    tokens = tokenize_dataset(data, tokenizer, data_args.text_column, num_proc=workers)
    return select_samples(group_texts(tokens, data_args.block_size, num_proc=workers), data_args)


def training_blocks(blocks, data_args: DataArguments, seed: int):
    """The split an LM recipe trains on: ``ShiftedBlocks`` (cut anew each epoch), or the fixed blocks with
    ``--shift_blocks false`` or ``--streaming``."""
    if data_args.streaming or not data_args.shift_blocks:
        return blocks["train"]
    return ShiftedBlocks(blocks["train"], seed=seed)


def texts_for_tokenizer(data, data_args: DataArguments, task: str) -> Iterable[str]:
    """The training split's texts the tokenizer learns from (an iterator over a stream: no list in memory)."""
    train = data["train"]
    if isinstance(train, IterableDataset):
        return stream_texts(train, data_args.text_column)
    if task == "translation":
        if "translation" in train.column_names:
            return [t[lang] for t in train["translation"] for lang in (data_args.source_lang, data_args.target_lang)]
        require_columns(train, [data_args.source_lang, data_args.target_lang], "the tokenizer")
        return list(train[data_args.source_lang]) + list(train[data_args.target_lang])
    require_columns(train, [data_args.text_column], "the tokenizer")
    if task == "token-classification":  # rows of words: the tokenizer learns from the sentences they make
        return [" ".join(words) for words in train[data_args.text_column]]
    return list(train[data_args.text_column])


def load_or_train_tokenizer(model_args: ModelArguments, data, data_args: DataArguments, task: str,
                            output_dir: str) -> PreTrainedTokenizerBase:
    """The given tokenizer, else the checkpoint's, else the one this run already saved, else train one.

    A newly trained tokenizer is saved into ``output_dir`` at once: a resumed run and the other processes
    of a distributed run (call this under ``training_args.main_process_first()``) load that same file.
    """
    source = model_args.tokenizer_name or model_args.model_name_or_path
    if source is None and (Path(output_dir) / "tokenizer_config.json").is_file():
        source = output_dir
    if source:
        return AutoTokenizer.from_pretrained(source, trust_remote_code=model_args.trust_remote_code)
    texts = texts_for_tokenizer(data, data_args, task)
    kind, size = model_args.tokenizer_kind, model_args.vocab_size
    every_symbol = kind in ("char", "word")  # a whole-corpus vocabulary keeps rare symbols
    ceiling = None if every_symbol else DEFAULT_VOCAB_SIZE
    tokenizer = train_tokenizer(texts, kind=kind, vocab_size=(size or None) if size is not None else ceiling,
                                preset=PRESET_FOR_TASK[task], min_frequency=1 if every_symbol else 2,
                                lowercase=model_args.tokenizer_lowercase, exact=size is not None)
    if size is None and ceiling and len(tokenizer) < ceiling:
        print(f"nlpseq: the training text supports {len(tokenizer):,} {kind} tokens, fewer than the default "
              f"{ceiling:,}; the tokenizer has {len(tokenizer):,} (pass --vocab_size to require a size)", flush=True)
    save_tokenizer(tokenizer, output_dir)
    return tokenizer


def parse_overrides(text: str | None) -> dict:
    """``"cell=gru,hidden_size=64,bidirectional=true,adaptive_softmax_cutoffs=[2000,10000]"`` -> typed dict (int,
    float, bool, None, a JSON list or str); commas inside brackets belong to the list."""
    out = {}
    for item in filter(None, re.split(r",(?![^\[]*\])", text or "")):
        if "=" not in item:
            raise ConfigurationError(f"--config_overrides item {item!r} is not key=value")
        key, value = (s.strip() for s in item.split("=", 1))
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def build_config(model_args: ModelArguments, tokenizer: PreTrainedTokenizerBase, task: str | None = None,
                 **task_fields) -> PretrainedConfig:
    """The size preset (with ``task``'s changes; or the checkpoint's config) + overrides + the tokenizer's
    vocabulary and special-token ids + ``task_fields``."""
    family = FAMILIES[model_args.model_family]
    overrides = parse_overrides(model_args.config_overrides)
    if model_args.model_name_or_path:
        config = AutoConfig.from_pretrained(model_args.model_name_or_path, **overrides)
    else:
        values = {**preset_config(model_args, task), **adaptive_softmax_default(model_args, task, len(tokenizer),
                                                                                 overrides), **overrides}
        values.pop("model_type", None)
        if "vocab_size" in values and values["vocab_size"] != len(tokenizer):
            raise ValueError(f"The config's vocab_size={values['vocab_size']} does not match the tokenizer's "
                             f"{len(tokenizer)} tokens; drop vocab_size from the config (it is taken from the "
                             "tokenizer) or use the tokenizer the config was made for")
        specials = {k: getattr(tokenizer, k) for k in ("pad_token_id", "bos_token_id", "eos_token_id")
                    if getattr(tokenizer, k, None) is not None}
        config = AutoConfig.for_model(family["model_type"], vocab_size=len(tokenizer), **specials, **values)
    if config.vocab_size != len(tokenizer):
        raise ValueError(f"The model's vocab_size={config.vocab_size} does not match the tokenizer's {len(tokenizer)}"
                         " tokens; pass --tokenizer_name with the tokenizer the model was trained with")
    for key, value in task_fields.items():
        setattr(config, key, value)
    return config


#: a word vocabulary at least this large gets the adaptive softmax by default (docs/training.md: on WikiText-2's 33k
#: words it makes the LSTM's step 4x cheaper and the perplexity at equal time far lower)
ADAPTIVE_SOFTMAX_MIN_VOCAB = 20_000
#: its cutoffs (a vocabulary of more than 100k words also gets a third cluster from 50,000)
ADAPTIVE_SOFTMAX_CUTOFFS = (2000, 10000)


def adaptive_softmax_default(model_args: ModelArguments, task: str | None, vocab_size: int, overrides: dict) -> dict:
    """``adaptive_softmax_cutoffs`` for a causal LM over a large word vocabulary trained here (``--tokenizer_kind
    word``: ids in frequency order, which the cutoffs need), unless ``--config_overrides`` sets them (``null`` = the
    full softmax)."""
    if (task != "clm" or "adaptive_softmax_cutoffs" in overrides or model_args.tokenizer_name
            or model_args.tokenizer_kind != "word" or vocab_size < ADAPTIVE_SOFTMAX_MIN_VOCAB):
        return {}
    cutoffs = [*ADAPTIVE_SOFTMAX_CUTOFFS] + ([50000] if vocab_size > 100_000 else [])
    print(f"nlpseq: adaptive softmax over the {vocab_size:,}-word vocabulary (cutoffs {cutoffs}); pass "
          "--config_overrides adaptive_softmax_cutoffs=null for the full softmax", flush=True)
    return {"adaptive_softmax_cutoffs": cutoffs}


def build_model(model_args: ModelArguments, config: PretrainedConfig, task: str) -> PreTrainedModel:
    model_class = getattr(models, FAMILIES[model_args.model_family][task])
    if model_args.model_name_or_path:
        return model_class.from_pretrained(model_args.model_name_or_path, config=config)
    return model_class(config)


#: parameter names AdamW's weight decay leaves alone on top of transformers' rule (biases, LayerNorms, names with
#: "norm"): the selective SSM's ``A_log`` and ``D``, as the Mamba reference code marks them (decay would pull every
#: channel's ``A = -exp(A_log)`` towards -1 and the skip ``D`` towards 0)
NO_WEIGHT_DECAY = re.compile(r"(?:^|\.)(?:A_log|D)$")


class WeightDecayRuleMixin:
    """The Trainers' weight-decay rule: transformers' (no decay on biases and LayerNorms), and none on RMSNorm
    scales (``norm_f`` escapes transformers' name patterns) or the parameters :data:`NO_WEIGHT_DECAY` names."""

    def get_decay_parameter_names(self, model: torch.nn.Module) -> list[str]:
        rms_scales = {f"{name}.weight" for name, module in model.named_modules()
                      if isinstance(module, torch.nn.RMSNorm)}
        return [name for name in super().get_decay_parameter_names(model)
                if name not in rms_scales and not NO_WEIGHT_DECAY.search(name)]


class Trainer(WeightAverageMixin, WeightDecayRuleMixin, SafetensorsCheckpointMixin, HubExportMixin,
              transformers.Trainer):
    """``transformers.Trainer`` whose checkpoints hold safetensors and JSON only (see ``nlpseq.checkpointing``), whose
    ``push_to_hub`` uploads the Hub export of the run (``nlpseq.hub``), whose weight decay spares what
    :class:`WeightDecayRuleMixin` says, which evaluates and checkpoints the ``--ema_decay`` average
    (``nlpseq.averaging``), and which gives ``ShiftedBlocks`` its epoch in every process."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.train_dataset, ShiftedBlocks):
            self.add_callback(SetEpochCallback)


class SetEpochCallback(TrainerCallback):
    """Calls the training set's ``set_epoch`` at each epoch's start. Accelerate does it in a single process, but
    with several (accelerate 1.15) its data loader hands the epoch to the sampler and not to the dataset."""

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
        # state.epoch counts the epochs done: a whole number here, or a fraction when resuming mid-epoch
        train_dataloader.dataset.set_epoch(int(state.epoch + 1e-6))


class Seq2SeqTrainer(WeightAverageMixin, WeightDecayRuleMixin, SafetensorsCheckpointMixin, HubExportMixin,
                     transformers.Seq2SeqTrainer):
    """``transformers.Seq2SeqTrainer`` with safetensors-only checkpoints, the Hub-export ``push_to_hub``, the
    weight-decay rule of :class:`WeightDecayRuleMixin` and the ``--ema_decay`` average."""


class TimeLimitCallback(TrainerCallback):
    """Stop training (and save a checkpoint) once ``minutes`` of training have passed: wall-clock time since
    ``train()`` began, less the time spent in evaluations (their ``eval_runtime``), so that evaluating more often
    does not shorten the training a budget buys.

    For "the best you can reach in N minutes" comparisons: pass ``max_steps`` large enough to never be
    the limit (the learning-rate schedule still follows ``max_steps``), and add
    ``TimeLimitCallback(N)`` to the ``Trainer``'s callbacks.
    """

    def __init__(self, minutes: float):
        self.seconds = minutes * 60
        self.start: float | None = None
        self.evaluation_seconds = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.evaluation_seconds += sum(v for k, v in (metrics or {}).items() if k.endswith("_runtime"))

    def on_step_end(self, args, state, control, **kwargs):
        if self.start is not None and time.perf_counter() - self.start - self.evaluation_seconds >= self.seconds:
            control.should_training_stop = True
            control.should_save = True
        return control
