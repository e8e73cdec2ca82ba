"""Turn a trained model into a Hub-ready folder, and push it.

The folder holds everything a user needs, with or without nlpseq installed:

* ``config.json`` with an ``auto_map`` and the model's source files (``configuration_*.py``,
  ``modeling_*.py`` and the sibling modules they import), so ``trust_remote_code=True`` works;
* ``model.safetensors`` (never pickles) and the tokenizer files;
* ``README.md``, a model card with metadata (library, tags, datasets, metrics) and usage snippets;
* ``all_results.json``, the run's numbers.

``auto_map`` names every head of the family (``AutoModel``, ``AutoModelForCausalLM`` ...), not only the
saved one, and no machine-local keys (``is_local``, ``local_files_only``) reach the exported JSON files.
``recipes/share_model.py`` and the recipes' ``--push_to_hub`` (``HubExportMixin.push_to_hub``) upload the
same folder, made by :func:`export_run`.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
from pathlib import Path

from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase
from transformers.dynamic_module_utils import get_relative_import_files

from . import models

#: class-name suffix -> the Auto class that loads it
AUTO_CLASS_BY_SUFFIX = {
    "ForCausalLM": "AutoModelForCausalLM",
    "ForMaskedLM": "AutoModelForMaskedLM",
    "ForSequenceClassification": "AutoModelForSequenceClassification",
    "ForTokenClassification": "AutoModelForTokenClassification",
    "ForConditionalGeneration": "AutoModelForSeq2SeqLM",
}


#: keys that describe the machine that saved a file, not the model: never exported
MACHINE_LOCAL_KEYS = ("is_local", "local_files_only", "_commit_hash", "cache_dir", "_name_or_path", "name_or_path")
#: result keys kept for the card: the held-out numbers (``predict_`` is the examples' test prefix)
RESULT_PREFIXES = ("eval_", "test_", "predict_")


def auto_class_name(model: PreTrainedModel | type) -> str:
    """The transformers Auto class for ``model`` or its class (``AutoModel`` for bare encoders/decoders)."""
    name = model.__name__ if isinstance(model, type) else type(model).__name__
    return next((auto for suffix, auto in AUTO_CLASS_BY_SUFFIX.items() if name.endswith(suffix)), "AutoModel")


def family_heads(config_class: type) -> dict[str, type]:
    """Auto class name -> every nlpseq model class built on ``config_class`` (the bare model and each head)."""
    classes = [getattr(models, name) for name in models.__all__]
    return {auto_class_name(c): c for c in classes if isinstance(c, type) and issubclass(c, PreTrainedModel)
            and c.config_class is config_class and "PreTrained" not in c.__name__}


def _add_heads(folder: Path, config_class: type) -> None:
    """Every head of the family into ``config.json``'s ``auto_map``, with the source files that define them."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    for auto, cls in family_heads(config_class).items():
        source = inspect.getfile(cls)
        for file in [source, *get_relative_import_files(source)]:
            shutil.copyfile(file, folder / Path(file).name)
        config.setdefault("auto_map", {})[auto] = f"{Path(source).stem}.{cls.__name__}"
    path.write_text(json.dumps({k: v for k, v in config.items() if k not in MACHINE_LOCAL_KEYS}, indent=2,
                               sort_keys=True) + "\n")


def save_tokenizer(tokenizer: PreTrainedTokenizerBase, folder: str | Path) -> None:
    """``save_pretrained``, then drop :data:`MACHINE_LOCAL_KEYS` from ``tokenizer_config.json`` (transformers writes
    the loading machine's ``is_local`` / ``local_files_only`` there)."""
    tokenizer.save_pretrained(folder)
    path = Path(folder) / "tokenizer_config.json"
    if path.is_file():
        config = json.loads(path.read_text())
        path.write_text(json.dumps({k: v for k, v in config.items() if k not in MACHINE_LOCAL_KEYS}, indent=2,
                                   ensure_ascii=False) + "\n")


def _usage(repo_id: str, auto: str, model: PreTrainedModel) -> str:
    task = {
        "AutoModelForCausalLM": 'out = model.generate(**tok("Return the", return_tensors="pt"), max_new_tokens=20)\n'
                                "print(tok.decode(out[0], skip_special_tokens=True))",
        "AutoModelForSeq2SeqLM": 'out = model.generate(**tok(["forty-two"], return_tensors="pt"), num_beams=4)\n'
                                 "print(tok.batch_decode(out, skip_special_tokens=True))",
    }.get(auto, 'logits = model(**tok(["an example"], return_tensors="pt")).logits')
    return (
        "With nlpseq installed (`pip install nlpseq`):\n\n```python\nimport nlpseq  # registers the model classes\n"
        f"from transformers import AutoTokenizer, {auto}\n\ntok = AutoTokenizer.from_pretrained(\"{repo_id}\")\n"
        f"model = {auto}.from_pretrained(\"{repo_id}\")\n{task}\n```\n\n"
        "Without nlpseq, the model's own source files in this repository are used:\n\n```python\n"
        f"from transformers import AutoTokenizer, {auto}\n\n"
        f"tok = AutoTokenizer.from_pretrained(\"{repo_id}\", trust_remote_code=True)\n"
        f"model = {auto}.from_pretrained(\"{repo_id}\", trust_remote_code=True)\n{task}\n```\n"
    )


#: result-key prefix -> dataset split, for the card's ``model-index``
SPLIT_OF_PREFIX = {"eval_": "validation", "test_": "test", "predict_": "test"}
#: result keys that describe the run, not the model
NOT_METRICS = ("runtime", "per_second", "epoch")


def _eval_results(results: dict, task: str | None, datasets: list[str] | None) -> list[EvalResult]:
    """``eval_*`` / ``test_*`` numbers of ``all_results.json`` as ``model-index`` entries (needs a task and dataset)."""
    if not task or not datasets:
        return []
    out = []
    for key, value in sorted(results.items()):
        prefix = next((p for p in SPLIT_OF_PREFIX if key.startswith(p)), None)
        if prefix is None or any(word in key for word in NOT_METRICS) or not isinstance(value, int | float):
            continue
        name = key[len(prefix):]
        out.append(EvalResult(task_type=task, dataset_type=datasets[0], dataset_name=datasets[0],
                              dataset_split=SPLIT_OF_PREFIX[prefix], metric_type=name, metric_name=name,
                              metric_value=float(value)))
    return out


#: Auto class -> the card's pipeline tag (the Hub task)
PIPELINE_TAG_OF_AUTO = {"AutoModelForCausalLM": "text-generation", "AutoModelForSeq2SeqLM": "translation",
                        "AutoModelForSequenceClassification": "text-classification",
                        "AutoModelForTokenClassification": "token-classification",
                        "AutoModelForMaskedLM": "fill-mask"}
#: config keys the card's configuration block leaves out
NOT_HYPERPARAMETERS = {"architectures", "auto_map", "id2label", "label2id", "transformers_version"}


def model_card(model: PreTrainedModel, repo_id: str, results: dict | None = None,
               datasets: list[str] | None = None, description: str = "") -> ModelCard:
    """A ``huggingface_hub.ModelCard`` with metadata, the config, the results and usage snippets.

    Metadata: library, license, tags, pipeline tag, ``datasets``, and the ``eval_*``/``test_*`` numbers of
    ``results`` (``all_results.json``) as ``metrics`` names plus a ``model-index`` (when a dataset is named).
    """
    auto = auto_class_name(model)
    results = results or {}
    task = PIPELINE_TAG_OF_AUTO.get(auto)
    metadata = _card_data(model.config, repo_id, task, _eval_results(results, task, datasets), datasets)
    return ModelCard(_card_text(model, repo_id, metadata.to_yaml(), _usage(repo_id, auto, model), results,
                                description))


def _card_data(config: PretrainedConfig, repo_id: str, task: str | None, evals: list[EvalResult],
               datasets: list[str] | None) -> ModelCardData:
    """The card's YAML metadata: library, license, tags, pipeline tag, datasets, metrics and ``model-index``."""
    return ModelCardData(
        library_name="transformers", license="apache-2.0", datasets=datasets or None,
        tags=["nlpseq", config.model_type, "custom_code", "from-scratch"], pipeline_tag=task,
        metrics=sorted({e.metric_type for e in evals}) or None, model_name=repo_id if evals else None,
        eval_results=evals or None,
    )


def _results_table(results: dict) -> str:
    """The rows of the card's metric | value table (floats to 4 significant digits)."""
    rows = "\n".join(f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                     for k, v in sorted(results.items()))
    return rows or "| (none recorded) | |"


def _card_text(model: PreTrainedModel, repo_id: str, metadata: str, usage: str, results: dict,
               description: str) -> str:
    """The card's markdown: metadata block, what the model is, usage, results and the config's own values."""
    config = model.config
    params = sum(p.numel() for p in model.parameters())
    hyper = {k: v for k, v in config.to_diff_dict().items() if k not in NOT_HYPERPARAMETERS}
    return f"""---
{metadata}
---

# {repo_id}

A `{type(model).__name__}` ({config.model_type}, {params:,} parameters) written from scratch with
nlpseq, a library of the classic NLP sequence models on the Hugging Face
stack. {description}

## Usage

{usage}
## Results

| metric | value |
|---|---|
{_results_table(results)}

## Configuration

```json
{json.dumps(hyper, indent=2, sort_keys=True, default=str)}
```
"""


def export_for_hub(model: PreTrainedModel, output_dir: str | Path, tokenizer: PreTrainedTokenizerBase | None = None,
                   repo_id: str | None = None, results: dict | None = None, datasets: list[str] | None = None,
                   description: str = "") -> Path:
    """Write a Hub-ready folder: config with an ``auto_map`` of every head, safetensors, source files, tokenizer,
    model card and ``all_results.json`` (``results``)."""
    output_dir = Path(output_dir)
    auto = auto_class_name(model)
    config_class, model_class = type(model.config), type(model)
    before = config_class._auto_class, model_class._auto_class
    config_class.register_for_auto_class()
    model_class.register_for_auto_class(auto)
    try:
        model.save_pretrained(output_dir)
    finally:  # the registration is class-wide: later plain saves in this process must not copy source files
        config_class._auto_class, model_class._auto_class = before
    _add_heads(output_dir, config_class)
    if tokenizer is not None:
        save_tokenizer(tokenizer, output_dir)
    kept = {k: v for k, v in (results or {}).items() if k.startswith(RESULT_PREFIXES)
            and not any(word in k for word in NOT_METRICS)}
    card = model_card(model, repo_id or output_dir.name, results=kept, datasets=datasets, description=description)
    card.save(output_dir / "README.md")
    if results:
        (output_dir / "all_results.json").write_text(json.dumps(results, indent=4, sort_keys=True) + "\n")
    return output_dir


def export_run(run_dir: str | Path, output_dir: str | Path, repo_id: str | None = None,
               dataset_name: str | None = None) -> Path:
    """:func:`export_for_hub` of a finished recipe run: its model, tokenizer, ``all_results.json`` and the dataset
    its own card names (unless ``dataset_name`` is given)."""
    run = Path(run_dir)
    if not (run / "config.json").is_file():
        raise FileNotFoundError(f"{run} holds no config.json; pass the --output_dir of a finished recipe run")
    model = getattr(models, AutoConfig.from_pretrained(run).architectures[0]).from_pretrained(run)
    results_file = run / "all_results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    datasets = [dataset_name] if dataset_name else None
    if datasets is None and (run / "README.md").is_file():  # the card the recipe wrote names its dataset
        datasets = ModelCard.load(run / "README.md").data.datasets
    return export_for_hub(model, output_dir, tokenizer=AutoTokenizer.from_pretrained(run), repo_id=repo_id or run.name,
                          results=results, datasets=datasets)


class HubExportMixin:
    """``--push_to_hub`` for the recipes' Trainers: the Trainer creates no repo and uploads nothing by itself (its
    upload would carry a generic card and no source files); ``push_to_hub()`` uploads the :func:`export_run`
    folder of ``output_dir``, which the recipes call once the run's results are written."""

    def init_hf_repo(self, token: str | None = None, private: bool | None = None) -> None:
        return None  # the repo is created by the push, at the end

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        return None  # checkpoints stay local: the pushed folder is the finished run's export

    def push_to_hub(self, commit_message: str = "Upload nlpseq model", blocking: bool = True, token: str | None = None,
                    revision: str | None = None, **kwargs) -> str | None:
        if not self.is_world_process_zero():
            return None
        repo_id = self.args.hub_model_id or Path(self.args.output_dir).name
        with tempfile.TemporaryDirectory() as folder:
            export_run(self.args.output_dir, folder, repo_id=repo_id)
            return push_folder(folder, repo_id, private=bool(self.args.hub_private_repo),
                               token=token or self.args.hub_token)


def push_folder(folder: str | Path, repo_id: str, private: bool = False, token: str | None = None) -> str:
    """Upload ``folder`` to the Hub repo ``repo_id``; the token comes from the environment and is never printed."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}:
        raise RuntimeError("HF_HUB_OFFLINE is set: unset it on a machine with network access to push to the Hub")
    api = HfApi(token=token or os.environ.get("HF_TOKEN"))
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message="Upload nlpseq model")
    return str(info)
