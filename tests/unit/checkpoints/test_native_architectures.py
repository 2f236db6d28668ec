"""The shipped list of native architectures keeps up with the installed transformers."""

from __future__ import annotations

import pytest

from app.checkpoints.validation import native_architectures


def test_the_list_holds_the_common_open_model_families():
    assert {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "T5ForConditionalGeneration"} <= native_architectures()


def test_the_list_still_contains_every_causal_lm_of_the_installed_transformers():
    modeling_auto = pytest.importorskip("transformers.models.auto.modeling_auto")
    causal = set(modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    missing = sorted(causal - native_architectures())
    assert missing == [], "run `flask checkpoint refresh-architectures` to update native_architectures.txt"
