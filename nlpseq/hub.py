"""Turn a trained model into a Hub-ready folder, and push it.

The folder holds everything a user needs, with or without nlpseq installed:

* ``config.json`` with an ``auto_map`` and the model's source files (``configuration_*.py``,
  ``modeling_*.py`` and the sibling modules they import), so ``trust_remote_code=True`` works;
* ``model.safetensors`` (never pickles) and the tokenizer files;
* ``README.md``, a model card with metadata (library, tags, datasets, metrics) and usage snippets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData
from transformers import PreTrainedModel, PreTrainedTokenizerBase

#: class-name suffix -> the Auto class that loads it
AUTO_CLASS_BY_SUFFIX = {
    "ForCausalLM": "AutoModelForCausalLM",
    "ForMaskedLM": "AutoModelForMaskedLM",
    "ForSequenceClassification": "AutoModelForSequenceClassification",
    "ForTokenClassification": "AutoModelForTokenClassification",
    "ForConditionalGeneration": "AutoModelForSeq2SeqLM",
}


def auto_class_name(model: PreTrainedModel) -> str:
    """The transformers Auto class for ``model`` (``AutoModel`` for bare encoders/decoders)."""
    name = type(model).__name__
    return next((auto for suffix, auto in AUTO_CLASS_BY_SUFFIX.items() if name.endswith(suffix)), "AutoModel")


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
SPLIT_OF_PREFIX = {"eval_": "validation", "test_": "test"}
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


def model_card(model: PreTrainedModel, repo_id: str, results: dict | None = None,
               datasets: list[str] | None = None, description: str = "") -> ModelCard:
    """A ``huggingface_hub.ModelCard`` with metadata, the config, the results and usage snippets.

    Metadata: library, license, tags, pipeline tag, ``datasets``, and the ``eval_*``/``test_*`` numbers of
    ``results`` (``all_results.json``) as ``metrics`` names plus a ``model-index`` (when a dataset is named).
    """
    auto = auto_class_name(model)
    config = model.config
    results = results or {}
    task = {"AutoModelForCausalLM": "text-generation", "AutoModelForSeq2SeqLM": "translation",
            "AutoModelForSequenceClassification": "text-classification",
            "AutoModelForTokenClassification": "token-classification",
            "AutoModelForMaskedLM": "fill-mask"}.get(auto)
    evals = _eval_results(results, task, datasets)
    data = ModelCardData(
        library_name="transformers", license="apache-2.0", datasets=datasets or None,
        tags=["nlpseq", config.model_type, "custom_code", "from-scratch"], pipeline_tag=task,
        metrics=sorted({e.metric_type for e in evals}) or None, model_name=repo_id if evals else None,
        eval_results=evals or None,
    )
    params = sum(p.numel() for p in model.parameters())
    rows = "\n".join(f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                     for k, v in sorted(results.items()))
    hyper = {k: v for k, v in config.to_diff_dict().items() if k not in {"architectures", "auto_map", "id2label",
                                                                          "label2id", "transformers_version"}}
    text = f"""---
{data.to_yaml()}
---

# {repo_id}

A `{type(model).__name__}` ({config.model_type}, {params:,} parameters) written from scratch with
nlpseq, a library of the classic NLP sequence models on the Hugging Face
stack. {description}

## Usage

{_usage(repo_id, auto, model)}
## Results

| metric | value |
|---|---|
{rows or "| (none recorded) | |"}

## Configuration

```json
{json.dumps(hyper, indent=2, sort_keys=True, default=str)}
```
"""
    return ModelCard(text)


def export_for_hub(model: PreTrainedModel, output_dir: str | Path, tokenizer: PreTrainedTokenizerBase | None = None,
                   repo_id: str | None = None, results: dict | None = None, datasets: list[str] | None = None,
                   description: str = "") -> Path:
    """Write a Hub-ready folder: config with ``auto_map``, safetensors, source files, tokenizer, model card."""
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
    if tokenizer is not None:
        tokenizer.save_pretrained(output_dir)
    card = model_card(model, repo_id or output_dir.name, results=results, datasets=datasets, description=description)
    card.save(output_dir / "README.md")
    return output_dir


def push_folder(folder: str | Path, repo_id: str, private: bool = False, token: str | None = None) -> str:
    """Upload ``folder`` to the Hub repo ``repo_id``; the token comes from the environment and is never printed."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}:
        raise RuntimeError("HF_HUB_OFFLINE is set: unset it on a machine with network access to push to the Hub")
    api = HfApi(token=token or os.environ.get("HF_TOKEN"))
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message="Upload nlpseq model")
    return str(info)
