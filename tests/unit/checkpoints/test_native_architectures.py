"""The shipped list of native architectures is the locked transformers' (scripts/lock.sh writes it), whatever a
registry serves today."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

from app.checkpoints.validation import NATIVE_ARCHITECTURES_FILE, native_architectures
from evaluation.environment import locked_version

LOCK = Path(__file__).resolve().parents[3] / "uv.lock"


def listed_version() -> str:
    """The transformers version the list records it was generated from (its first line)."""
    first = NATIVE_ARCHITECTURES_FILE.read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"# Model classes transformers (\S+) implements natively", first)
    assert match, f"{NATIVE_ARCHITECTURES_FILE.name} does not say which transformers it lists: {first!r}"
    return match.group(1)


def test_the_list_holds_the_common_open_model_families():
    assert {
        "LlamaForCausalLM",
        "MistralForCausalLM",
        "Qwen2ForCausalLM",
        "T5ForConditionalGeneration",
    } <= native_architectures()


def test_the_list_was_generated_from_the_locked_transformers():
    assert listed_version() == locked_version(LOCK, "transformers"), "run scripts/lock.sh to regenerate the list"


def test_the_list_is_exactly_what_the_locked_transformers_implements():
    locked = locked_version(LOCK, "transformers")
    try:
        installed = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        pytest.skip("transformers is not installed (the eval extra)")
    if installed != locked:
        pytest.skip(f"transformers {installed} is installed, not the locked {locked}: the list is the locked one's")
    from app.checkpoints.cli import native_architectures_text

    assert NATIVE_ARCHITECTURES_FILE.read_text(encoding="utf-8") == native_architectures_text(), (
        "run scripts/lock.sh to regenerate native_architectures.txt"
    )
