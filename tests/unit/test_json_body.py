"""`app.jsonbody.load_json`: size and depth are checked before parsing, brackets inside strings do not count,
and hostile text cannot make the depth scan slow."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from app.jsonbody import MAX_JSON_DEPTH, JsonBodyError, load_json, nesting_depth


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_a_document_at_the_depth_limit_is_parsed():
    assert load_json(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))


def test_one_level_more_is_refused_with_status_400_naming_the_limit():
    with pytest.raises(JsonBodyError) as refused:
        load_json(nested(MAX_JSON_DEPTH + 1))
    assert refused.value.status == 400 and f"the limit is {MAX_JSON_DEPTH}" in str(refused.value)


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"name": "[" * 500 + '\\"{' * 100, "list": [["]]]"]]})
    assert nesting_depth(text) == 3
    assert load_json(text)["list"] == [["]]]"]]


def test_a_document_over_the_size_limit_is_413_and_never_parsed():
    with pytest.raises(JsonBodyError) as refused:
        load_json(b"[" + b"1," * 10 + b"1]", max_bytes=10)
    assert refused.value.status == 413 and "the limit is 10 bytes" in str(refused.value)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_nan_and_infinity_are_not_json(text):
    with pytest.raises(JsonBodyError, match="is not a JSON number"):
        load_json(text)


def test_utf16_bytes_are_read_and_broken_utf8_is_a_clear_400():
    assert load_json('{"a": 1}'.encode("utf-16")) == {"a": 1}
    with pytest.raises(JsonBodyError, match="not UTF-8"):
        load_json(b'{"a": "\xff"}')


@pytest.mark.timeout(5)
def test_an_unterminated_string_full_of_escaped_quotes_is_scanned_in_linear_time():
    hostile = '["' + '\\"' * 400_000  # every quote is a possible string start: quadratic for a naive scan
    assert nesting_depth(hostile) == 1
    with pytest.raises(JsonBodyError):
        load_json(hostile)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=20,
    )
)
def test_the_depth_scan_never_understates_the_real_depth(value):
    def depth(v) -> int:
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
        return (1 + max((depth(c) for c in children), default=0)) if isinstance(v, (dict, list)) else 0

    assert nesting_depth(json.dumps(value)) == depth(value)
