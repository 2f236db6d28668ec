"""Safetensors headers are judged without loading tensors, at least as strictly as safetensors itself."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.numpy import save_file

from app.checkpoints.safetensors_header import DTYPE_BITS, check_header, validate_safetensors_header


def one_tensor(dtype: str = "BF16", shape: list[int] | None = None, offsets: list[int] | None = None) -> dict:
    """A header with one tensor called 'w'."""
    return {"w": {"dtype": dtype, "shape": shape or [2, 2], "data_offsets": offsets or [0, 8]}}


def test_a_file_written_by_safetensors_is_accepted_with_its_exact_parameter_count(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file({"x": np.zeros((3, 5), dtype=np.float32), "y": np.zeros(7, dtype=np.uint8)}, str(path))
    header, errors = validate_safetensors_header(path)
    assert errors == []
    assert header.parameters == 22
    assert header.parameters_by_dtype == {"F32": 15, "U8": 7}


def test_a_truncated_file_is_refused_because_a_tensor_runs_past_its_end(tmp_path, write_raw):
    path = write_raw(tmp_path / "model.safetensors", one_tensor("F32", [4], [0, 16]), b"\0" * 10)
    header, errors = validate_safetensors_header(path)
    assert header is None
    assert "data section is only 10 bytes (truncated file?)" in errors[0]
    assert errors[0].startswith("model.safetensors: tensor 'w'")


def test_a_file_shorter_than_the_length_prefix_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"\x01\x02\x03")
    assert "too short to be a safetensors file" in validate_safetensors_header(path)[1][0]


def test_a_header_length_larger_than_the_file_is_refused(tmp_path, write_raw):
    path = write_raw(tmp_path / "m.safetensors", one_tensor(), b"\0" * 8, declared=10_000)
    header, errors = validate_safetensors_header(path)
    assert header is None
    assert "declares a 10,000-byte header but the file is only" in errors[0]


def test_a_header_length_over_the_cap_is_refused_before_anything_is_read(tmp_path, write_raw):
    path = write_raw(tmp_path / "m.safetensors", b"{}", b"", declared=2**63)
    assert "over the 100,000,000-byte limit" in validate_safetensors_header(path)[1][0]


@pytest.mark.parametrize(
    ("header_bytes", "expected"),
    [
        (b'{"w": {', "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[]", "not an object of tensors"),
        (b'{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {}}', "appears twice"),
        (b'{"__metadata__": {"format": 1}}', "__metadata__ value for 'format' must be a string"),
        (b'{"__metadata__": ["pt"]}', "__metadata__ must be an object"),
        (b'{"w": {"dtype": "U8", "shape": [NaN], "data_offsets": [0, 1]}}', "NaN is not allowed"),
    ],
)
def test_a_header_that_is_not_a_well_formed_json_object_is_refused(header_bytes, expected):
    header, errors = check_header("m.safetensors", header_bytes, 8 + len(header_bytes) + 1)
    assert header is None
    assert expected in errors[0]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (one_tensor(dtype="Q4_K"), "unknown dtype 'Q4_K'"),
        (one_tensor(shape=[2, -2]), "expected a list of non-negative integers"),
        (one_tensor(shape=[2, True]), "expected a list of non-negative integers"),
        (one_tensor(shape=[2.0, 2]), "expected a list of non-negative integers"),
        (one_tensor(offsets=[8, 0]), "the end is before the begin"),
        (one_tensor(offsets=[0, 4, 8]), "expected [begin, end]"),
        ({"w": {"dtype": "BF16", "shape": [2, 2]}}, "missing fields ['data_offsets']"),
        ({"w": {**one_tensor()["w"], "code": "x"}}, "unexpected fields ['code']"),
    ],
)
def test_a_tensor_entry_with_a_bad_dtype_shape_or_offsets_is_refused(entry, expected):
    raw = json.dumps(entry).encode()
    header, errors = check_header("m.safetensors", raw, 8 + len(raw) + 8)
    assert header is None
    assert expected in errors[0]


def test_a_size_mismatch_is_explained_in_bytes_a_founder_can_check():
    raw = json.dumps(one_tensor("BF16", [32000, 4096], [0, 262_143_998])).encode()
    _, errors = check_header("model-00002-of-00003.safetensors", raw, 8 + len(raw) + 262_143_998)
    assert errors == [
        "model-00002-of-00003.safetensors: tensor 'w' has shape [32000, 4096] in BF16 = "
        "262,144,000 bytes but its byte range holds 262,143,998"
    ]


def test_overlapping_tensor_ranges_are_refused():
    header = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
    }
    raw = json.dumps(header).encode()
    _, errors = check_header("m.safetensors", raw, 8 + len(raw) + 6)
    assert any("'a' and 'b' have overlapping byte ranges" in error for error in errors)


def test_a_gap_between_tensors_is_refused():
    header = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [6, 10]},
    }
    raw = json.dumps(header).encode()
    _, errors = check_header("m.safetensors", raw, 8 + len(raw) + 10)
    assert errors == [
        "m.safetensors: 2 bytes before tensor 'b' belong to no tensor "
        "(a gap; safetensors requires the tensors to be contiguous)"
    ]


def test_trailing_bytes_after_the_last_tensor_are_refused():
    raw = json.dumps(one_tensor("U8", [4], [0, 4])).encode()
    _, errors = check_header("m.safetensors", raw, 8 + len(raw) + 5)
    assert errors == ["m.safetensors: the last 1 bytes of the file belong to no tensor"]


def test_sub_byte_dtypes_must_fill_whole_bytes():
    raw = json.dumps(one_tensor("F4", [3], [0, 1])).encode()
    _, errors = check_header("m.safetensors", raw, 8 + len(raw) + 1)
    assert "12 bits: not a whole number of bytes" in errors[0]


def test_a_symlinked_safetensors_file_is_refused_without_being_followed(tmp_path):
    target = tmp_path / "real.safetensors"
    save_file({"x": np.zeros(2, dtype=np.uint8)}, str(target))
    link = tmp_path / "model.safetensors"
    link.symlink_to(target)
    header, errors = validate_safetensors_header(link)
    assert header is None
    assert errors == ["model.safetensors: is a symbolic link; symlinks are not accepted"]


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    assert validate_safetensors_header(fifo)[1] == ["model.safetensors: is not a regular file"]


# Differential check against the reference parser: on headers made of well-typed entries (no
# duplicate keys, no extra fields, where we are deliberately stricter), we accept exactly the
# files safetensors accepts. Layouts start sound, then are nudged by a few bytes or not at all.
@st.composite
def nudged_layouts(draw) -> tuple[dict, int]:
    """A header laid out contiguously, maybe with one offset, shape or the data size nudged."""
    names = draw(st.lists(st.text("abc.", min_size=1, max_size=4), unique=True, max_size=4))
    tensors, position = {}, 0
    for name in names:
        dtype = draw(st.sampled_from(sorted(DTYPE_BITS)))
        shape = draw(st.lists(st.integers(0, 4), max_size=3))
        size = int(np.prod(shape, dtype=np.int64)) * DTYPE_BITS[dtype] // 8
        tensors[name] = {"dtype": dtype, "shape": shape, "data_offsets": [position, position + size]}
        position += size
    data_bytes = position
    nudge = draw(st.sampled_from(["none", "offset", "shape", "data"]))
    if nudge == "data":
        data_bytes = max(0, data_bytes + draw(st.integers(-3, 3)))
    elif names and nudge != "none":
        entry = tensors[draw(st.sampled_from(names))]
        key = "data_offsets" if nudge == "offset" else "shape"
        if entry[key]:
            slot = draw(st.integers(0, len(entry[key]) - 1))
            entry[key][slot] = max(0, entry[key][slot] + draw(st.integers(-2, 2)))
    return tensors, data_bytes


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=nudged_layouts())
def test_the_checker_accepts_exactly_what_the_reference_safetensors_parser_accepts(tmp_path, layout):
    tensors, data_bytes = layout
    path = tmp_path / "fuzz.safetensors"
    raw = json.dumps(tensors).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * data_bytes)
    try:
        with safe_open(str(path), "np"):
            reference_accepts = True
    except Exception:  # the reference raises several exception types
        reference_accepts = False
    header, errors = check_header(path.name, raw, path.stat().st_size)
    assert (header is not None) == reference_accepts, errors
