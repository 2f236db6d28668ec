"""File names are judged from the name alone, so the upload API can refuse early."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.checkpoints.filenames import FileKind, check_filename, file_kind


@pytest.mark.parametrize(
    "name",
    [
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "tokenizer.model",
        "merges.txt",
        "vocab.json",
        "chat_template.jinja",
        "model.safetensors",
        "model-00001-of-00002.safetensors",
        "model.safetensors.index.json",
        "README.md",
        "LICENSE",
        "LICENSE.txt",
    ],
)
def test_the_files_of_a_transformers_checkpoint_are_accepted(name):
    assert check_filename(name) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../config.json", "subfolders are not accepted"),
        ("weights/model.safetensors", "subfolders are not accepted"),
        ("..", "subfolders are not accepted"),
        ("/etc/passwd", "absolute paths are not accepted"),
        ("C:config.json", "absolute paths are not accepted"),
        ("config.json\x00.txt", "may not contain NUL bytes"),
        ("..\\config.json", "may not contain backslashes"),
        ("", "empty name"),
        (".gitattributes", "hidden files"),
        ("config\n.json", "control or invisible formatting characters"),
        ("model\u202esrotnesfas.json", "control or invisible formatting characters"),
        ("config.json\udcff", "must be valid UTF-8"),
        ("a" * 190 + ".safetensors", "longer than 200 characters"),
        ("modeling_llama.py", "not an accepted checkpoint file"),
        ("model.gguf", "not an accepted checkpoint file"),
    ],
)
def test_unsafe_or_unexpected_names_are_refused_with_the_reason(name, expected):
    assert expected in check_filename(name)


@pytest.mark.parametrize(
    "name",
    [
        "pytorch_model.bin",
        "model.PT",
        "model.pth",
        "optimizer.pkl",
        "data.pickle",
        "last.ckpt",
        "scaler.joblib",
        "embeddings.npy",
        "arrays.npz",
        "checkpoint.pth.tar",
        "training_args.bin",
    ],
)
def test_pickle_based_files_are_refused_by_name_and_told_to_use_safetensors(name):
    message = check_filename(name)
    assert "pickle-based files can run arbitrary code" in message
    assert "safetensors" in message


def test_a_refusal_names_the_file_with_control_characters_escaped():
    assert check_filename("bad\x1bname.json").startswith("'bad\\x1bname.json'")


def test_each_accepted_name_has_a_role():
    assert file_kind("config.json") is FileKind.CONFIG
    assert file_kind("model-00003-of-00009.safetensors") is FileKind.WEIGHTS
    assert file_kind("model.safetensors.index.json") is FileKind.WEIGHTS_INDEX
    assert file_kind("LICENSE.md") is FileKind.LICENSE
    assert file_kind(".safetensors") is None


@given(st.text(max_size=30))
def test_no_accepted_name_can_leave_the_folder_or_hide(name):
    if check_filename(name) is None:
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert not name.startswith(".") and name.isprintable()
