#!/usr/bin/env python
"""Train a tokenizer and save it as a transformers tokenizer folder.

    python tokenizer/train_tokenizer.py --corpus stdlib-docs --kind bpe --vocab_size 8000 --preset clm \\
        --output_dir runs/tok-bpe
    python tokenizer/train_tokenizer.py --corpus ../shared/data/tinyshakespeare/input.txt --kind char \\
        --vocab_size 0 --output_dir runs/tok-char          # vocab_size 0 = every character (char only)
    python tokenizer/train_tokenizer.py tokenizer/presets/bpe-clm.json       # one JSON/YAML file of arguments
    python tokenizer/train_tokenizer.py --args_file tokenizer/presets/bpe-clm.json   # the same

Input is whatever ``nlpseq.load_corpus`` accepts: a built-in corpus, local files or a Hub dataset name.
For translation corpora (a ``translation`` column) both languages are used.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from nlpseq import load_corpus, train_tokenizer
from nlpseq.data import require_columns
from nlpseq.training import parse_args


@dataclass
class TokenizerArguments:
    corpus: str = field(metadata={"help": "built-in corpus name, local file/dir, or Hub dataset name"})
    output_dir: str = field(metadata={"help": "where to save the tokenizer"})
    corpus_config: str | None = field(default=None, metadata={"help": "Hub dataset configuration (wikitext-2-raw-v1)"})
    kind: str = field(default="bpe", metadata={"help": "bpe | wordpiece | unigram | char | sentencepiece"})
    vocab_size: int = field(default=8000, metadata={"help": "final vocabulary size (0 = all characters, char)"})
    preset: str = field(default="clm", metadata={"help": "special tokens: clm | mlm | seq2seq"})
    text_column: str = field(default="text", metadata={"help": "column with the text"})
    min_frequency: int = field(default=2)
    lowercase: bool = field(default=False)
    model_max_length: int = field(default=1024)
    max_samples: int | None = field(default=None, metadata={"help": "train on the first N rows only"})


def texts_of(args: TokenizerArguments) -> list[str]:
    train = load_corpus(args.corpus, config=args.corpus_config)["train"]
    if args.max_samples is not None:
        train = train.select(range(min(args.max_samples, len(train))))
    if "translation" in train.column_names and args.text_column not in train.column_names:
        return [text for pair in train["translation"] for text in pair.values()]
    require_columns(train, [args.text_column], "train_tokenizer")
    return list(train[args.text_column])


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 2 and argv[0] == "--args_file":
        argv = argv[1:]
    (args,) = parse_args(TokenizerArguments, argv=argv)  # flags, or one .json/.yaml file of them
    texts = texts_of(args)
    tok = train_tokenizer(texts, kind=args.kind, vocab_size=args.vocab_size or None, preset=args.preset,
                          min_frequency=args.min_frequency, lowercase=args.lowercase,
                          model_max_length=args.model_max_length)
    tok.save_pretrained(args.output_dir)
    sample = texts[0][:80]
    print(f"trained a {args.kind} tokenizer ({args.preset} preset) of {len(tok)} tokens on {len(texts)} texts")
    print(f"  sample: {sample!r}")
    print(f"  tokens: {tok.convert_ids_to_tokens(tok(sample)['input_ids'])}")
    print(f"  saved to {args.output_dir}")


if __name__ == "__main__":
    main()
