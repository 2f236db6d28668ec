"""Builders for tiny checkpoints on disk (a few hundred bytes each)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from safetensors.numpy import save_file

CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4}


def raw_safetensors(header: dict[str, Any] | bytes, data: bytes, declared: int | None = None) -> bytes:
    """A safetensors file written by hand, so it can be wrong in exactly one way."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    length = len(header_bytes) if declared is None else declared
    return struct.pack("<Q", length) + header_bytes + data


@pytest.fixture
def write_raw() -> Callable[[Path, dict[str, Any] | bytes, bytes], Path]:
    """Write a hand-made safetensors file and return its path."""

    def write(path: Path, header: dict[str, Any] | bytes, data: bytes, declared: int | None = None) -> Path:
        path.write_bytes(raw_safetensors(header, data, declared))
        return path

    return write


@pytest.fixture
def single_file_checkpoint(tmp_path: Path) -> Path:
    """A sound one-file checkpoint with 4*3 + 3 + 2*2 = 19 parameters in F32 and F16."""
    folder = tmp_path / "single"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "tokenizer.json").write_text('{"version": "1.0"}')
    (folder / "README.md").write_text("# Tiny model\n")
    (folder / "LICENSE").write_text("Apache-2.0\n")
    save_file(
        {
            "embed.weight": np.ones((4, 3), dtype=np.float32),
            "norm.weight": np.ones(3, dtype=np.float32),
            "lm_head.weight": np.zeros((2, 2), dtype=np.float16),
        },
        str(folder / "model.safetensors"),
        metadata={"format": "pt"},
    )
    return folder


@pytest.fixture
def sharded_checkpoint(tmp_path: Path) -> Path:
    """A sound checkpoint in two shards with an index: 6 + 4 + 5 = 15 parameters."""
    folder = tmp_path / "sharded"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "tokenizer.json").write_text('{"version": "1.0"}')
    shards = {
        "model-00001-of-00002.safetensors": {
            "a.weight": np.ones((2, 3), dtype=np.float32),
            "b.weight": np.ones(4, dtype=np.int8),
        },
        "model-00002-of-00002.safetensors": {"c.weight": np.ones(5, dtype=np.float16)},
    }
    weight_map = {}
    for shard, tensors in shards.items():
        save_file(tensors, str(folder / shard))
        weight_map.update({tensor: shard for tensor in tensors})
    write_index(folder, weight_map)
    return folder


def write_index(folder: Path, weight_map: dict[str, str]) -> None:
    """Write model.safetensors.index.json with the given weight_map."""
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
