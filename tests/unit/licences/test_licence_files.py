"""Identifying the LICENSE file's text, and comparing it with what the model card declares."""

import pytest

from app.licences.texts import MAX_LICENSE_BYTES, identify_text, known_texts
from app.licences.verify import check_licence

SHIPPED = [
    "apache-2.0",
    "mit",
    "bsd-2-clause",
    "bsd-3-clause",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "cc-by-nc-nd-4.0",
    "gpl-3.0",
    "lgpl-3.0",
    "agpl-3.0",
    "mpl-2.0",
    "llama2",
    "llama3",
    "bigscience-openrail-m",
    "bigscience-bloom-rail-1.0",
]


def test_every_licence_in_the_policy_has_a_reference_text():
    assert set(SHIPPED) <= set(known_texts())


@pytest.mark.parametrize("licence", SHIPPED)
@pytest.mark.parametrize("width", [40, 72, 200])
def test_a_rewrapped_licence_text_with_header_and_copyright_is_identified(licence, width, reformatted):
    assert identify_text(reformatted(licence, width)).licence == licence


@pytest.mark.parametrize("licence", SHIPPED)
def test_a_licence_text_missing_a_fifth_of_its_paragraphs_is_still_identified(licence, reformatted):
    paragraphs = reformatted(licence).decode().split("\n\n")
    kept = [p for i, p in enumerate(paragraphs) if i % 5 != 4]
    assert identify_text("\n\n".join(kept).encode()).licence == licence


@pytest.mark.parametrize(
    "name, licence",
    [("LICENSE-mit-markdown.md", "mit"), ("LICENSE-bsd3-wrapped.txt", "bsd-3-clause")],
)
def test_licence_files_as_found_in_real_repositories_are_identified(name, licence, data):
    assert identify_text((data / name).read_bytes()).licence == licence


def test_all_rights_reserved_text_reads_as_proprietary(data):
    assert identify_text((data / "LICENSE-proprietary.txt").read_bytes()).licence == "proprietary"


@pytest.mark.parametrize("text", [b"", b"Hello world", b"Do what you like."])
def test_a_text_that_is_no_licence_is_not_identified(text):
    assert identify_text(text).licence is None


def test_a_licence_file_that_matches_the_card_confirms_it(card, reformatted, policy):
    files = {"README.md": card("license: gpl-3.0"), "LICENSE": reformatted("gpl-3.0")}
    result = check_licence(files, policy).to_dict()
    assert result["verdict"] == "pass"
    assert "LICENSE file contains the gpl-3.0 licence" in result["reasons"][1]


def test_a_licence_file_that_contradicts_the_card_goes_to_review(card, reformatted, policy):
    files = {"README.md": card("license: apache-2.0"), "LICENSE.txt": reformatted("cc-by-nc-4.0")}
    result = check_licence(files, policy).to_dict()
    assert result["verdict"] == "review"
    assert "cc-by-nc-4.0" in result["reasons"][1] and "apache-2.0" in result["reasons"][1]


def test_a_gpl_or_later_card_agrees_with_the_gpl_text(card, reformatted, policy):
    files = {"README.md": card("license: GPL-3.0-or-later"), "LICENSE": reformatted("gpl-3.0")}
    assert check_licence(files, policy).to_dict()["verdict"] == "pass"


def test_a_llama_3_1_card_agrees_with_the_llama_3_text(card, reformatted, policy):
    files = {"README.md": card("license: llama3.1"), "LICENSE": reformatted("llama3")}
    result = check_licence(files, policy).to_dict()
    assert result["verdict"] == "review"
    assert "as the model card declares" in result["reasons"][1]


def test_a_licence_file_nobody_recognises_sends_a_declared_licence_to_review(card, policy):
    files = {"README.md": card("license: mit"), "LICENSE": b"Use it kindly."}
    assert check_licence(files, policy).to_dict()["verdict"] == "review"


def test_a_proprietary_licence_file_fails_even_with_an_open_card(card, data, policy):
    files = {"README.md": card("license: mit"), "LICENSE": (data / "LICENSE-proprietary.txt").read_bytes()}
    result = check_licence(files, policy).to_dict()
    assert result["verdict"] == "fail"
    assert "proprietary" in result["reasons"][1]


def test_a_licence_file_alone_gives_the_licence_and_advises_a_declaration(data, policy):
    result = check_licence({"LICENSE.md": (data / "LICENSE-mit-markdown.md").read_bytes()}, policy)
    assert result.to_dict()["verdict"] == "pass"
    assert result.licence == "mit"
    assert "add `license: mit` to README.md" in result.reasons[1]


def test_an_identified_bsd_3_clause_licence_file_passes_a_card_without_a_licence(card, data, policy):
    files = {"README.md": card("tags: [text-generation]"), "LICENSE": (data / "LICENSE-bsd3-wrapped.txt").read_bytes()}
    result = check_licence(files, policy)
    assert (result.to_dict()["verdict"], result.licence) == ("pass", "bsd-3-clause")
    assert "add `license: bsd-3-clause` to README.md" in result.reasons[1]


def test_a_licence_file_alone_with_a_licence_the_policy_reviews_still_goes_to_review(card, reformatted, policy):
    files = {"README.md": card("tags: [text-generation]"), "LICENSE": reformatted("llama3")}
    result = check_licence(files, policy)
    assert result.to_dict()["verdict"] == "review" and "add `license: llama3` to README.md" in result.reasons[1]


def test_a_proprietary_licence_file_alone_fails(data, policy):
    result = check_licence({"LICENSE": (data / "LICENSE-proprietary.txt").read_bytes()}, policy)
    assert result.to_dict()["verdict"] == "fail"


def test_an_unrecognised_licence_file_alone_fails(policy):
    assert check_licence({"LICENSE": b"Use it kindly."}, policy).to_dict()["verdict"] == "fail"


@pytest.mark.timeout(10)
def test_an_enormous_licence_file_is_read_only_in_part_and_goes_to_review(card, reformatted, policy):
    huge = reformatted("apache-2.0") + b"x" * (50 * 1024 * 1024)
    result = check_licence({"README.md": card("license: apache-2.0"), "LICENSE": huge}, policy)
    assert result.to_dict()["verdict"] == "review"
    assert f"longer than {MAX_LICENSE_BYTES:,} bytes" in result.reasons[1]
    assert "apache-2.0 licence" in result.reasons[2]


@pytest.mark.timeout(10)
def test_a_binary_licence_file_gets_a_verdict(card, policy):
    files = {"README.md": card("license: mit"), "LICENSE": bytes(range(256)) * 4000}
    assert check_licence(files, policy).to_dict()["verdict"] == "review"
