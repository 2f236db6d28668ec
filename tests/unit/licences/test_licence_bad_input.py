"""Hostile or broken model cards get a verdict with a reason, never a crash or a hang."""

import pytest

from app.licences.modelcard import MAX_README_BYTES
from app.licences.verify import check_licence


def fail_reason(files, policy) -> str:
    result = check_licence(files, policy).to_dict()
    assert result["verdict"] == "fail", result
    return result["reasons"][0]


@pytest.mark.timeout(10)
def test_a_billion_laughs_yaml_bomb_is_refused_before_parsing(data, policy):
    readme = (data / "README-billion-laughs.md").read_bytes()
    assert "anchors or aliases" in fail_reason({"README.md": readme}, policy)


@pytest.mark.timeout(10)
def test_deeply_nested_brackets_are_refused_without_hanging(policy):
    readme = b"---\nlicense: mit\ntags: " + b"[" * 60_000 + b"\n---\n"
    assert "nests brackets" in fail_reason({"README.md": readme}, policy)


@pytest.mark.timeout(10)
def test_deeply_nested_block_yaml_gets_a_verdict(policy):
    readme = b"---\nlicense: mit\nx: " + b"- " * 20_000 + b"end\n---\n"
    assert check_licence({"README.md": readme}, policy).verdict.value in {"pass", "fail"}


@pytest.mark.timeout(10)
def test_a_binary_readme_is_refused(policy):
    readme = b"---\nlicense: mit\n---\n" + bytes(range(256)) * 100
    assert "binary" in fail_reason({"README.md": readme}, policy)


@pytest.mark.timeout(10)
def test_a_readme_that_is_not_utf8_is_refused(policy):
    assert "not UTF-8" in fail_reason({"README.md": "---\nlicense: mit\n---\n€".encode("cp1252")}, policy)


@pytest.mark.timeout(10)
def test_a_readme_over_a_megabyte_is_refused(policy):
    readme = b"---\nlicense: mit\n---\n" + b"lorem ipsum " * (MAX_README_BYTES // 10)
    assert "limit for a model card" in fail_reason({"README.md": readme}, policy)


@pytest.mark.timeout(10)
def test_a_huge_unterminated_front_matter_is_refused(policy):
    readme = b"---\nlicense: mit\n" + b"tag: value\n" * 90_000
    result = check_licence({"README.md": readme}, policy).to_dict()
    assert result["verdict"] == "fail"


@pytest.mark.timeout(10)
def test_python_object_tags_are_not_executed(policy):
    readme = b"---\nlicense: !!python/object/apply:os.system ['echo pwned']\n---\n"
    assert "could not determine a constructor" in fail_reason({"README.md": readme}, policy)


@pytest.mark.timeout(10)
def test_an_absurdly_long_licence_field_fails(card, policy):
    readme = card("license: " + " OR ".join(["mit"] * 500))
    assert "characters long" in fail_reason({"README.md": readme}, policy)


def test_a_readme_with_a_byte_order_mark_is_read(card, policy):
    readme = b"\xef\xbb\xbf" + card("license: mit")
    assert check_licence({"README.md": readme}, policy).to_dict()["verdict"] == "pass"


def test_a_file_called_readme_in_another_case_is_found(card, policy):
    assert check_licence({"readme.MD": card("license: mit")}, policy).to_dict()["verdict"] == "pass"


def test_an_unreadable_config_json_is_ignored(card, policy):
    files = {"README.md": card("license: mit"), "config.json": b"{not json"}
    assert check_licence(files, policy).to_dict()["verdict"] == "pass"
