"""Reading and checking a safetensors header without loading a single tensor.

The layout (https://github.com/huggingface/safetensors): 8 bytes little-endian header
length N, N bytes of UTF-8 JSON, then the data section. Every tensor's byte range is
relative to the data section; the ranges must tile it exactly, in any order.
We are at least as strict as the reference Rust parser, and stricter where a lenient
parser would leave two readers disagreeing (duplicate keys, unknown fields).
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

MAX_HEADER_BYTES = 100_000_000  # the reference implementation's own cap
MAX_ERRORS_PER_FILE = 20
MAX_DIMENSION = 2**63 - 1  # torch sizes are int64
MAX_OFFSET = 2**64 - 1

# Bits per element of every dtype safetensors defines (safetensors 0.8).
DTYPE_BITS: Mapping[str, int] = MappingProxyType(
    {
        "BOOL": 8, "U8": 8, "I8": 8,
        "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
        "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
        "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32,
        "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    }
)  # fmt: skip


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as the header describes it; `begin`/`end` are offsets into the data section."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def elements(self) -> int:
        """The number of values (parameters) in the tensor."""
        return math.prod(self.shape)

    @property
    def expected_bytes(self) -> int:
        """How many bytes shape and dtype call for (sub-byte dtypes packed)."""
        return self.elements * DTYPE_BITS[self.dtype] // 8


@dataclass(frozen=True)
class SafetensorsHeader:
    """A header that passed every check."""

    name: str
    file_bytes: int
    header_bytes: int
    tensors: tuple[TensorEntry, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def parameters(self) -> int:
        """Total number of values across all tensors."""
        return sum(tensor.elements for tensor in self.tensors)

    @property
    def parameters_by_dtype(self) -> dict[str, int]:
        """Parameter counts per dtype, e.g. {"BF16": 6738415616}."""
        counts: dict[str, int] = {}
        for tensor in self.tensors:
            counts[tensor.dtype] = counts.get(tensor.dtype, 0) + tensor.elements
        return counts


class UnsafeFileError(ValueError):
    """A path that must not be opened as a plain file: a symlink, a FIFO, a device, a folder."""


class _HeaderError(ValueError):
    """A problem that stops the header from being read any further."""


def validate_safetensors_header(path: Path) -> tuple[SafetensorsHeader | None, list[str]]:
    """Read only the header of the safetensors file at `path` and check it against the file.

    Returns the header when it is sound, else None, and the findings, each starting with
    the file name. Symlinks and non-regular files are refused without being followed.
    """
    name = Path(path).name
    try:
        with open_regular_file(Path(path)) as handle:
            file_bytes = os.fstat(handle.fileno()).st_size
            raw = _read_header_bytes(handle, file_bytes)
    except (UnsafeFileError, _HeaderError) as problem:
        return None, [f"{name}: {problem}"]
    except OSError as problem:
        return None, [f"{name}: could not be read ({problem.strerror or problem})"]
    return check_header(name, raw, file_bytes)


def open_regular_file(path: Path):
    """Open `path` for binary reading, refusing symlinks, FIFOs, devices and folders."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as problem:
        if os.path.islink(path):
            raise UnsafeFileError("is a symbolic link; symlinks are not accepted") from problem
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise UnsafeFileError("is not a regular file")
    return os.fdopen(descriptor, "rb")


def _read_header_bytes(handle, file_bytes: int) -> bytes:
    """The JSON bytes of the header, after checking the declared length fits the file."""
    if file_bytes < 8:
        raise _HeaderError(f"is {file_bytes} bytes long, too short to be a safetensors file")
    declared = int.from_bytes(handle.read(8), "little")
    if declared > MAX_HEADER_BYTES:
        raise _HeaderError(f"declares a {declared:,}-byte header, over the {MAX_HEADER_BYTES:,}-byte limit")
    if 8 + declared > file_bytes:
        raise _HeaderError(
            f"declares a {declared:,}-byte header but the file is only {file_bytes:,} bytes (truncated upload?)"
        )
    return handle.read(declared)


def check_header(name: str, raw: bytes, file_bytes: int) -> tuple[SafetensorsHeader | None, list[str]]:
    """Check header JSON bytes `raw` of a file of `file_bytes` bytes called `name`.

    Pure: no disk access. Returns the parsed header (None if anything is wrong) and findings.
    """
    try:
        document = _parse_json_object(raw)
        metadata = _parse_metadata(document.pop("__metadata__", None))
        tensors = [_parse_tensor(key, value) for key, value in document.items()]
    except _HeaderError as problem:
        return None, [f"{name}: {problem}"]
    data_bytes = file_bytes - 8 - len(raw)
    errors = _check_sizes(tensors) + _check_layout(tensors, data_bytes)
    if len(errors) > MAX_ERRORS_PER_FILE:
        hidden = len(errors) - MAX_ERRORS_PER_FILE
        errors = errors[:MAX_ERRORS_PER_FILE] + [f"... and {hidden:,} more problems"]
    if errors:
        return None, [f"{name}: {error}" for error in errors]
    header = SafetensorsHeader(name, file_bytes, len(raw), tuple(tensors), MappingProxyType(metadata))
    return header, []


def _parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode strict UTF-8 JSON into a dict, refusing duplicate keys and NaN/Infinity."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise _HeaderError(f"the header is not valid UTF-8 (byte {problem.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as problem:
        raise _HeaderError(f"the header is not valid JSON ({problem})") from None
    if not isinstance(document, dict):
        raise _HeaderError("the header is JSON but not an object of tensors")
    for key in document:
        _require_encodable(key)
    return document


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: two readers could pick different entries for a repeated key."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _no_constant(constant: str) -> Any:
    """parse_constant: NaN and Infinity are not JSON."""
    raise ValueError(f"{constant} is not allowed")


def _require_encodable(text: str) -> None:
    """Lone surrogates (e.g. "\\ud800") parse in Python but are not UTF-8 text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _HeaderError(f"the name {text!r} is not valid Unicode text") from None


def _parse_metadata(value: Any) -> dict[str, str]:
    """`__metadata__` is optional and must map strings to strings."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _HeaderError("__metadata__ must be an object mapping strings to strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise _HeaderError(f"__metadata__ value for {key!r} must be a string, not {item!r:.40}")
        _require_encodable(key)
        _require_encodable(item)
    return value


def _parse_tensor(name: str, value: Any) -> TensorEntry:
    """One tensor entry: exactly dtype, shape and data_offsets, each well-typed."""
    if not isinstance(value, dict):
        raise _HeaderError(f"tensor {name!r} is not described by an object")
    fields = set(value)
    if fields != {"dtype", "shape", "data_offsets"}:
        missing = sorted({"dtype", "shape", "data_offsets"} - fields)
        extra = sorted(fields - {"dtype", "shape", "data_offsets"})
        raise _HeaderError(f"tensor {name!r} has missing fields {missing} / unexpected fields {extra}")
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if dtype not in DTYPE_BITS:
        raise _HeaderError(f"tensor {name!r} has unknown dtype {dtype!r:.40}")
    if not (isinstance(shape, list) and all(_is_count(dim, MAX_DIMENSION) for dim in shape)):
        raise _HeaderError(f"tensor {name!r} has shape {shape!r:.80}; expected a list of non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o, MAX_OFFSET) for o in offsets)):
        raise _HeaderError(f"tensor {name!r} has data_offsets {offsets!r:.80}; expected [begin, end]")
    if offsets[1] < offsets[0]:
        raise _HeaderError(f"tensor {name!r} has data_offsets {offsets}: the end is before the begin")
    return TensorEntry(name, dtype, tuple(shape), offsets[0], offsets[1])


def _is_count(value: Any, upper: int) -> bool:
    """A JSON integer (not a bool) in 0..upper."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= upper


def _check_sizes(tensors: list[TensorEntry]) -> list[str]:
    """Each byte range must hold exactly shape × dtype size."""
    errors = []
    for tensor in tensors:
        bits = tensor.elements * DTYPE_BITS[tensor.dtype]
        held = tensor.end - tensor.begin
        shape = list(tensor.shape)
        if bits % 8:
            errors.append(
                f"tensor {tensor.name!r} has shape {shape} in {tensor.dtype}, "
                f"which is {bits:,} bits: not a whole number of bytes"
            )
        elif bits // 8 != held:
            errors.append(
                f"tensor {tensor.name!r} has shape {shape} in {tensor.dtype} = {bits // 8:,} bytes "
                f"but its byte range holds {held:,}"
            )
    return errors


def _check_layout(tensors: list[TensorEntry], data_bytes: int) -> list[str]:
    """The ranges must lie inside the data section and cover it without gaps or overlaps."""
    errors = []
    position, previous = 0, None
    for tensor in sorted(tensors, key=lambda t: (t.begin, t.end, t.name)):
        if tensor.end > data_bytes:
            errors.append(
                f"tensor {tensor.name!r} has byte range [{tensor.begin:,}, {tensor.end:,}) "
                f"but the data section is only {data_bytes:,} bytes (truncated file?)"
            )
        if tensor.begin < position:
            errors.append(f"tensors {previous!r} and {tensor.name!r} have overlapping byte ranges")
        elif tensor.begin > position:
            errors.append(
                f"{tensor.begin - position:,} bytes before tensor {tensor.name!r} belong to no tensor "
                "(a gap; safetensors requires the tensors to be contiguous)"
            )
        if tensor.end >= position:
            position, previous = tensor.end, tensor.name
    if position < data_bytes:
        errors.append(f"the last {data_bytes - position:,} bytes of the file belong to no tensor")
    return errors
