"""Validating a checkpoint folder before it is accepted for evaluation.

Nothing here imports torch or transformers, and nothing is ever unpickled: pickle-based
files are refused by name before they are opened. Safetensors files are judged by their
headers alone; every accepted file is hashed in 1 MiB blocks.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from app.checkpoints.filenames import (
    INDEX_NAME,
    SINGLE_WEIGHTS_NAME,
    TOKENIZER_NAMES,
    FileKind,
    check_filename,
    display_name,
    file_kind,
)
from app.checkpoints.safetensors_header import (
    SafetensorsHeader,
    UnsafeFileError,
    open_regular_file,
    validate_safetensors_header,
)

NATIVE_ARCHITECTURES_FILE = Path(__file__).with_name("native_architectures.txt")
HASH_BLOCK_BYTES = 1024 * 1024
MAX_FILES = 1000
MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_INDEX_ERRORS = 20


@dataclass(frozen=True)
class FileInfo:
    """An accepted file: its name, size and sha256 (hex)."""

    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ValidationReport:
    """What validation found; `ok` is True exactly when there are no errors."""

    ok: bool
    parameters: int | None
    dtypes: Mapping[str, int] = field(default_factory=dict)
    total_bytes: int = 0
    files: tuple[FileInfo, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `dtypes` maps each dtype to its parameter count."""
        return {
            "ok": self.ok,
            "parameters": self.parameters,
            "files": [{"name": f.name, "bytes": f.bytes, "sha256": f.sha256} for f in self.files],
            "errors": list(self.errors),
            "dtypes": dict(self.dtypes),
            "total_bytes": self.total_bytes,
            "warnings": list(self.warnings),
        }


def validate_checkpoint(directory: Path, *, hash_files: bool = True) -> ValidationReport:
    """Check the flat checkpoint folder `directory` and describe what it holds.

    Never follows symlinks, never opens pickle-based files, never loads a tensor. With
    `hash_files=False` the files are only measured (sha256 left empty): every check that decides
    acceptance still runs, reading headers only, so a web request can afford it.
    """
    directory = Path(directory)
    if directory.is_symlink() or not directory.is_dir():
        return ValidationReport(ok=False, parameters=None, errors=(f"{directory}: not a folder",))
    names, errors = _list_files(directory)
    files, hash_errors = (_hash_files if hash_files else _measure_files)(directory, names)
    errors += hash_errors
    errors += _check_json_files(directory, names)
    headers, weight_errors = _check_weights(directory, names)
    errors += weight_errors
    dtypes: dict[str, int] = {}
    for header in headers or ():
        for dtype, count in header.parameters_by_dtype.items():
            dtypes[dtype] = dtypes.get(dtype, 0) + count
    return ValidationReport(
        ok=not errors,
        parameters=None if headers is None else sum(h.parameters for h in headers),
        dtypes=MappingProxyType(dict(sorted(dtypes.items()))),
        total_bytes=sum(f.bytes for f in files),
        files=tuple(files),
        errors=tuple(errors),
        warnings=tuple(_warnings(names)),
    )


def native_architectures() -> frozenset[str]:
    """Model classes transformers implements natively (see native_architectures.txt)."""
    return _load_architectures(NATIVE_ARCHITECTURES_FILE)


@functools.lru_cache(maxsize=4)
def _load_architectures(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _list_files(directory: Path) -> tuple[list[str], list[str]]:
    """Accepted regular file names (sorted) and the reasons every other entry is refused."""
    with os.scandir(directory) as scan:
        entries = sorted(itertools.islice(scan, MAX_FILES + 1), key=lambda e: e.name)
    if len(entries) > MAX_FILES:
        return [], [f"the folder holds more than {MAX_FILES} entries; a checkpoint needs far fewer"]
    names, errors = [], []
    for entry in entries:
        problem = _entry_problem(entry)
        if problem is None:
            names.append(entry.name)
        else:
            errors.append(problem)
    return names, errors


def _entry_problem(entry: os.DirEntry) -> str | None:
    """Why one folder entry is refused, judged from its name and type, never its content."""
    if entry.is_symlink():
        return f"{display_name(entry.name)}: is a symbolic link; symlinks are not accepted"
    if entry.is_dir(follow_symlinks=False):
        return f"{display_name(entry.name)}: subfolders are not accepted; the checkpoint must be one flat folder"
    name_problem = check_filename(entry.name)
    if name_problem is not None:
        return name_problem
    if not entry.is_file(follow_symlinks=False):
        return f"{display_name(entry.name)}: is not a regular file"
    return None


def _hash_files(directory: Path, names: list[str]) -> tuple[list[FileInfo], list[str]]:
    """Size and sha256 of every accepted file."""
    files, errors = [], []
    for name in names:
        try:
            size, digest = file_sha256(directory / name)
        except (OSError, UnsafeFileError) as problem:
            errors.append(f"{name}: could not be read ({problem})")
            continue
        files.append(FileInfo(name, size, digest))
    return files, errors


def _measure_files(directory: Path, names: list[str]) -> tuple[list[FileInfo], list[str]]:
    """Size of every accepted file, without reading it (sha256 left empty)."""
    files, errors = [], []
    for name in names:
        try:
            files.append(FileInfo(name, os.lstat(directory / name).st_size, ""))
        except OSError as problem:
            errors.append(f"{name}: could not be read ({problem})")
    return files, errors


def file_sha256(path: Path) -> tuple[int, str]:
    """The size and hex sha256 of a regular file, read in 1 MiB blocks (symlinks refused)."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(HASH_BLOCK_BYTES)
    view = memoryview(buffer)
    with open_regular_file(path) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            size += count
    return size, digest.hexdigest()


def _load_json(directory: Path, name: str) -> tuple[Any, list[str]]:
    """Parse one JSON file (size-capped); returns (document or None, errors)."""
    try:
        with open_regular_file(directory / name) as handle:
            raw = handle.read(MAX_JSON_BYTES + 1)
    except (OSError, UnsafeFileError) as problem:
        return None, [f"{name}: could not be read ({problem})"]
    if len(raw) > MAX_JSON_BYTES:
        return None, [f"{name}: larger than {MAX_JSON_BYTES // 2**20} MiB, too large for a JSON file here"]
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as problem:
        return None, [f"{name}: is not valid JSON ({problem})"]
    if not isinstance(document, dict):
        return None, [f"{name}: must hold a JSON object"]
    return document, []


def _check_json_files(directory: Path, names: list[str]) -> list[str]:
    """config.json must exist and name a native architecture; no JSON file may ask for remote code."""
    errors = []
    if "config.json" not in names:
        errors.append("config.json is missing: the model's configuration is required")
    for name in names:
        if not name.endswith(".json") or name == INDEX_NAME:
            continue
        document, load_errors = _load_json(directory, name)
        errors += load_errors
        if document is None:
            continue
        if any(True for _ in _find_key(document, "auto_map")):
            errors.append(
                f'{name}: asks for remote code ("auto_map"); only architectures that '
                "transformers implements natively are accepted"
            )
        if name == "config.json":
            errors += _architecture_errors(document)
    return errors


def _find_key(document: Any, key: str) -> Iterator[Any]:
    """Every value stored under `key` at any depth (sub-configs can carry auto_map too)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if key in node:
                yield node[key]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _architecture_errors(config: dict[str, Any]) -> list[str]:
    """The architectures config.json names must all be native transformers model classes."""
    architectures = config.get("architectures")
    names_listed = isinstance(architectures, list) and all(isinstance(a, str) for a in architectures)
    if not (names_listed and architectures):
        return ['config.json: "architectures" must list the model class, e.g. ["LlamaForCausalLM"]']
    native = native_architectures()
    return [
        f"config.json: architecture {architecture!r:.80} is not one transformers implements natively "
        "(custom model code is not accepted)"
        for architecture in architectures
        if architecture not in native
    ]


def _check_weights(directory: Path, names: list[str]) -> tuple[list[SafetensorsHeader] | None, list[str]]:
    """Check every safetensors header and the shard index; headers are None if any is unsound."""
    weights = [name for name in names if file_kind(name) is FileKind.WEIGHTS]
    if not weights:
        return None, [f"no weights: upload {SINGLE_WEIGHTS_NAME} (or shards with {INDEX_NAME})"]
    headers: dict[str, SafetensorsHeader | None] = {}
    errors: list[str] = []
    for name in weights:
        headers[name], header_errors = validate_safetensors_header(directory / name)
        errors += header_errors
    if INDEX_NAME in names:
        index, index_errors = _load_json(directory, INDEX_NAME)
        errors += index_errors if index is None else check_index(index, headers)
    elif weights != [SINGLE_WEIGHTS_NAME]:
        errors.append(
            f"weights must be one file named {SINGLE_WEIGHTS_NAME}, or shards listed in {INDEX_NAME}; "
            f"found {', '.join(weights)} without an index"
        )
    sound = [header for header in headers.values() if header is not None]
    return (sound if len(sound) == len(headers) else None), errors


def check_index(index: dict[str, Any], headers: Mapping[str, SafetensorsHeader | None]) -> list[str]:
    """Compare the index's weight_map with the shards' headers (None: header unreadable).

    Pure. Every listed shard must exist, every mapped tensor must be in its shard, no tensor
    may be in two shards, and every shard and tensor present must be in the map.
    """
    weight_map = index.get("weight_map")
    if not (isinstance(weight_map, dict) and all(isinstance(v, str) for v in weight_map.values())):
        return [f'{INDEX_NAME}: "weight_map" must map tensor names to shard file names']
    errors = [
        f"{INDEX_NAME}: weight_map names shard {shard!r:.100}, which was not uploaded"
        for shard in sorted(set(weight_map.values()))
        if shard not in headers
    ]
    listed = set(weight_map.values())
    errors += [f"{shard}: not listed in {INDEX_NAME}'s weight_map" for shard in headers if shard not in listed]
    errors += _tensor_placement_errors(weight_map, headers)
    if len(errors) > MAX_INDEX_ERRORS:
        hidden = len(errors) - MAX_INDEX_ERRORS
        errors = errors[:MAX_INDEX_ERRORS] + [f"... and {hidden:,} more index problems"]
    return errors


def _tensor_placement_errors(
    weight_map: Mapping[str, str], headers: Mapping[str, SafetensorsHeader | None]
) -> list[str]:
    """Tensors that the map and the shard headers place differently."""
    errors, found_in = [], {}
    for shard, header in headers.items():
        for tensor in header.tensors if header else ():
            if tensor.name in found_in:
                errors.append(f"tensor {tensor.name!r} is in both {found_in[tensor.name]} and {shard}")
                continue
            found_in[tensor.name] = shard
            if weight_map.get(tensor.name) != shard:
                errors.append(f"{shard}: tensor {tensor.name!r} is not mapped to this shard in {INDEX_NAME}")
    present = {shard: {t.name for t in header.tensors} for shard, header in headers.items() if header}
    for tensor, shard in weight_map.items():
        if shard in present and tensor not in present[shard]:
            errors.append(f"{INDEX_NAME}: weight_map puts tensor {tensor!r} in {shard}, which has no such tensor")
    return errors


def _warnings(names: list[str]) -> list[str]:
    """Things that do not block intake but that a founder should fix."""
    warnings = []
    if "README.md" not in names:
        warnings.append("README.md (model card) is missing")
    if not any(file_kind(name) is FileKind.LICENSE for name in names):
        warnings.append(
            "no LICENSE file: the licence is read from the `license:` field of the model card "
            "(README.md) alone; add the licence's text as LICENSE"
        )
    if not any(name in TOKENIZER_NAMES for name in names):
        warnings.append("no tokenizer files: the evaluation needs the model's tokenizer")
    return warnings
