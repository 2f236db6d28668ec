"""Which file names a checkpoint may contain, decided from the name alone.

Pure standard library, so the upload API can refuse a file before storing a byte of it.
Pickle-based weights are refused here, by name, precisely so that nobody ever opens them.
"""

from __future__ import annotations

import enum
import unicodedata

MAX_NAME_CHARACTERS = 200
MAX_NAME_BYTES = 255  # the usual file-system limit for one path component

INDEX_NAME = "model.safetensors.index.json"
SINGLE_WEIGHTS_NAME = "model.safetensors"

# Formats whose loaders unpickle (numpy's .npy/.npz may hold pickled objects, joblib is pickle).
PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz", ".dill"})


class FileKind(str, enum.Enum):
    """The role an accepted file plays in a checkpoint."""

    CONFIG = "config"
    GENERATION_CONFIG = "generation_config"
    TOKENIZER = "tokenizer"
    WEIGHTS = "weights"
    WEIGHTS_INDEX = "weights_index"
    MODEL_CARD = "model_card"
    LICENSE = "license"


TOKENIZER_NAMES = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "vocab.txt",
        "merges.txt",
        "tokenizer.model",  # sentencepiece protobuf, not a pickle
        "spiece.model",
        "sentencepiece.bpe.model",
        "chat_template.jinja",
        "chat_template.json",
    }
)

_EXACT_NAMES = {
    "config.json": FileKind.CONFIG,
    "generation_config.json": FileKind.GENERATION_CONFIG,
    INDEX_NAME: FileKind.WEIGHTS_INDEX,
    "README.md": FileKind.MODEL_CARD,
    **{name: FileKind.TOKENIZER for name in TOKENIZER_NAMES},
}


def display_name(name: str) -> str:
    """Quote `name` for a message: control characters escaped, very long names shortened."""
    shown = name if len(name) <= 80 else name[:60] + "…" + name[-19:]
    return repr(shown)


def file_kind(name: str) -> FileKind | None:
    """The role of an accepted file name, or None when the name is not on the accepted list."""
    if name in _EXACT_NAMES:
        return _EXACT_NAMES[name]
    if name.startswith("LICENSE"):
        return FileKind.LICENSE
    if name.endswith(".safetensors") and len(name) > len(".safetensors"):
        return FileKind.WEIGHTS
    return None


def is_pickle_name(name: str) -> bool:
    """True when any suffix of the name marks a pickle-based format (`x.pth.tar` counts too)."""
    parts = name.lower().split(".")[1:]
    return any("." + part in PICKLE_SUFFIXES for part in parts)


def check_name_syntax(name: str) -> str | None:
    """Why `name` is not a safe flat file name, or None when it is."""
    if not isinstance(name, str) or name == "":
        return "a file has an empty name"
    shown = display_name(name)
    if "\x00" in name:
        return f"{shown}: file names may not contain NUL bytes"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"{shown}: absolute paths are not accepted; upload the files of one flat folder"
    if "\\" in name:
        return f"{shown}: file names may not contain backslashes"
    if "/" in name or name in {".", ".."}:
        return f"{shown}: subfolders are not accepted; the checkpoint must be one flat folder"
    if name.startswith("."):
        return f"{shown}: hidden files (names starting with '.') are not accepted"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return f"{shown}: file names must be valid UTF-8"
    if any(_is_invisible(char) for char in name):
        return f"{shown}: file names may not contain control or invisible formatting characters"
    if len(name) > MAX_NAME_CHARACTERS or len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        return f"{shown}: the name is longer than {MAX_NAME_CHARACTERS} characters"
    return None


def check_filename(name: str) -> str | None:
    """Why a file called `name` cannot be part of a checkpoint, or None when it can.

    Checks the name's syntax (no paths, no hidden or control characters), then the
    accepted list. Never looks at the file itself.
    """
    syntax_error = check_name_syntax(name)
    if syntax_error is not None:
        return syntax_error
    shown = display_name(name)
    if is_pickle_name(name):
        return (
            f"{shown}: pickle-based files can run arbitrary code when loaded and are refused "
            "unopened; save the weights as safetensors (save_pretrained(..., safe_serialization=True))"
        )
    if file_kind(name) is None:
        return (
            f"{shown}: not an accepted checkpoint file (accepted: config.json, tokenizer files, "
            "*.safetensors with model.safetensors.index.json, generation_config.json, README.md, LICENSE*)"
        )
    return None


def _is_invisible(char: str) -> bool:
    """Control characters (Cc) and formatting ones such as right-to-left overrides (Cf)."""
    return unicodedata.category(char) in {"Cc", "Cf"}
