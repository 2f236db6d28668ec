"""A tiny, deterministic GPT-2 checkpoint for tests and demos.

It has a byte-level BPE tokenizer trained on a generated corpus and random weights drawn from a seeded
generator, so it scores near chance, but it loads, runs and is scored by lm-eval exactly like a real
entrant's checkpoint. Only safetensors are written, never a pickle.

    python -m evaluation.tinymodel OUT_DIR [--seed N]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Iterable, Sequence

SPECIAL_TOKENS = ("<|endoftext|>", "<|pad|>")

MODEL_CARD = """---
license: apache-2.0
language: [en, de, fr, it, es]
library_name: transformers
pipeline_tag: text-generation
tags: [test-fixture, tiny]
---

# Tiny GPT-2 (seed {seed})

A 2-layer GPT-2 with random weights (seed {seed}) and a {vocab_size}-token byte-level BPE tokenizer.
It exists to test evaluation pipelines; its scores are near chance.
"""

APACHE_NOTICE = """Copyright 2026 The Large AI Grand Challenge platform (a generated test model)

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
"""

_WORDS = (
    "the city river bridge capital Paris Berlin Rome Madrid Lisbon Vienna Warsaw Prague Athens Dublin "
    "is of and a in on yes no answer question which country language Europe north south east west "
    "Frage Antwort Stadt Hauptstadt ville capitale fleuve domanda risposta ciudad capital pregunta "
    "sun rain snow winter summer bread water wine cheese train station market school music book"
).split()


def default_corpus(seed: int = 0, n_lines: int = 2000) -> list[str]:
    """Return a deterministic pseudo-text corpus (a few European words) for training the tokenizer."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 15))) + "." for _ in range(n_lines)]


def train_tokenizer(corpus: Iterable[str], vocab_size: int = 512):
    """Train a byte-level BPE tokenizer and wrap it as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(list(corpus), trainer=trainer)
    eos, pad = SPECIAL_TOKENS
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token=eos,
        bos_token=eos,
        unk_token=eos,
        pad_token=pad,
        model_max_length=256,
    )


def make_tiny_model(
    out_dir: str | Path, seed: int = 0, vocab_size: int = 512, corpus: Sequence[str] | None = None
) -> Path:
    """Write a tiny GPT-2 checkpoint (safetensors, tokenizer, model card, LICENSE) to out_dir.

    The same seed always gives byte-identical weights; different seeds give different models.
    Returns the checkpoint directory.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(corpus if corpus is not None else default_corpus(seed), vocab_size)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_layer=2,
        n_head=2,
        n_embd=64,
        n_positions=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "README.md").write_text(MODEL_CARD.format(seed=seed, vocab_size=len(tokenizer)))
    (out / "LICENSE").write_text(APACHE_NOTICE)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: write a tiny model to OUT_DIR."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocab-size", type=int, default=512)
    args = parser.parse_args(argv)
    print(make_tiny_model(args.out_dir, seed=args.seed, vocab_size=args.vocab_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
