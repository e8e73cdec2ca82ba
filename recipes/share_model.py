#!/usr/bin/env python
"""Turn a trained run into a Hub-ready folder, and optionally push it.

    python recipes/share_model.py --run_dir runs/clm --output_dir runs/clm-hub
    HF_TOKEN=... python recipes/share_model.py --run_dir runs/clm --output_dir runs/clm-hub \\
        --push_to_hub --hub_model_id you/nlpseq-tiny-gpt

The folder holds ``config.json`` (with ``auto_map``), ``model.safetensors``, the tokenizer, the model's own
source files and a model card built from the run's ``all_results.json``. It loads with
``trust_remote_code=True`` where nlpseq is not installed, and with plain Auto classes after ``import nlpseq``.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import ModelCard
from transformers import AutoConfig, AutoTokenizer

from nlpseq import models
from nlpseq.hub import export_for_hub, push_folder
from nlpseq.training import parse_args


@dataclass
class ShareArguments:
    run_dir: str = field(metadata={"help": "output_dir of a recipe run (model, tokenizer, all_results.json)"})
    output_dir: str = field(metadata={"help": "where to write the Hub-ready folder"})
    hub_model_id: str | None = field(default=None, metadata={"help": "user/name on the Hub"})
    push_to_hub: bool = field(default=False, metadata={"help": "upload (token from HF_TOKEN or the login cache)"})
    private: bool = field(default=False)
    dataset_name: str | None = field(default=None, metadata={
        "help": "dataset named in the model card (default: the one in the run's own card)"})


def main(argv=None) -> Path:
    (args,) = parse_args(ShareArguments, argv=argv)
    run = Path(args.run_dir)
    if not (run / "config.json").is_file():
        raise FileNotFoundError(f"{run} holds no config.json; pass the --output_dir of a finished recipe run")
    if args.push_to_hub and not args.hub_model_id:
        raise ValueError("--push_to_hub needs --hub_model_id user/name")
    architecture = AutoConfig.from_pretrained(run).architectures[0]
    model = getattr(models, architecture).from_pretrained(run)
    results_file = run / "all_results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    kept = {k: v for k, v in results.items() if k.startswith(("eval_", "test_")) and "runtime" not in k
            and "per_second" not in k}
    tokenizer = AutoTokenizer.from_pretrained(run)
    datasets = [args.dataset_name] if args.dataset_name else None
    if datasets is None and (run / "README.md").is_file():  # the card the recipe wrote names its dataset
        datasets = ModelCard.load(run / "README.md").data.datasets
    folder = export_for_hub(model, args.output_dir, tokenizer=tokenizer, repo_id=args.hub_model_id or run.name,
                            results=kept, datasets=datasets)
    print(f"Hub-ready folder: {folder} ({', '.join(sorted(p.name for p in folder.iterdir()))})")
    if args.push_to_hub:
        print(f"Pushed: {push_folder(folder, args.hub_model_id, private=args.private)}")
    return folder


if __name__ == "__main__":
    main()
