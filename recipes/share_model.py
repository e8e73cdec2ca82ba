#!/usr/bin/env python
"""Turn a trained run into a Hub-ready folder, and optionally push it.

    python recipes/share_model.py --run_dir runs/clm --output_dir runs/clm-hub
    HF_TOKEN=... python recipes/share_model.py --run_dir runs/clm --output_dir runs/clm-hub \\
        --push_to_hub --hub_model_id you/nlpseq-tiny-gpt

The folder holds ``config.json`` (with ``auto_map``), ``model.safetensors``, the tokenizer, the model's own
source files, ``all_results.json`` and a model card built from it (``nlpseq.hub.export_run``: the same folder
the recipes' ``--push_to_hub`` uploads). It loads with
``trust_remote_code=True`` where nlpseq is not installed, and with plain Auto classes after ``import nlpseq``.
"""

from dataclasses import dataclass, field
from pathlib import Path

from nlpseq.hub import export_run, push_folder
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
    if args.push_to_hub and not args.hub_model_id:
        raise ValueError("--push_to_hub needs --hub_model_id user/name")
    folder = export_run(args.run_dir, args.output_dir, repo_id=args.hub_model_id, dataset_name=args.dataset_name)
    print(f"Hub-ready folder: {folder} ({', '.join(sorted(p.name for p in folder.iterdir()))})")
    if args.push_to_hub:
        print(f"Pushed: {push_folder(folder, args.hub_model_id, private=args.private)}")
    return folder


if __name__ == "__main__":
    main()
