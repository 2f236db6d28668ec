"""What the model card declares: Hub ids, SPDX ids and expressions, `other`, missing and malformed fields."""

import pytest
from app.licences.policy import LicencePolicy, Outcome
from app.licences.verify import check_licence

PASSING = [
    "apache-2.0",
    "mit",
    "bsd-2-clause",
    "bsd-3-clause",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "gpl-3.0",
    "lgpl-3.0",
    "agpl-3.0",
    "mpl-2.0",
    "Apache-2.0",
    "MIT",
    "BSD-3-Clause",
    "CC-BY-NC-4.0",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "LGPL-3.0-only",
    "AGPL-3.0-or-later",
    "MPL-2.0",
    "GPL-3.0+",
]
REVIEWED = [
    "openrail",
    "openrail++",
    "creativeml-openrail-m",
    "bigscience-openrail-m",
    "bigscience-bloom-rail-1.0",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "cc-by-nc-nd-4.0",
    "cc-by-nd-4.0",
    "CC-BY-NC-ND-4.0",
]


@pytest.fixture
def verdict_for(card, policy):
    return lambda front_matter: check_licence({"README.md": card(front_matter)}, policy).to_dict()


@pytest.mark.parametrize("licence", PASSING)
def test_an_open_licence_declared_on_the_card_passes(licence, verdict_for, card):
    result = verdict_for(f"license: {licence}")
    assert result["verdict"] == "pass", result
    assert result["licence"] == licence
    assert "model card" in result["reasons"][0]


@pytest.mark.parametrize("licence", REVIEWED)
def test_a_licence_with_use_restrictions_or_no_derivatives_goes_to_an_organiser(licence, verdict_for):
    assert verdict_for(f"license: {licence}")["verdict"] == "review"


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("MIT OR llama2", "pass"),
        ("llama2 OR cc-by-nc-nd-4.0", "review"),
        ("MIT AND Apache-2.0", "pass"),
        ("MIT AND llama3", "review"),
        ("Apache-2.0 AND unknown", "fail"),
        ("(MIT OR unknown) AND BSD-3-Clause", "pass"),
        ("Apache-2.0 WITH LLVM-exception", "pass"),
        ("GPL-3.0-or-later WITH Classpath-exception-2.0", "pass"),
        ("gemma WITH LLVM-exception", "review"),
    ],
)
def test_an_spdx_expression_passes_when_it_offers_or_combines_open_licences(expression, expected, verdict_for):
    result = verdict_for(f'license: "{expression}"')
    assert result["verdict"] == expected, result
    assert result["licence"] == expression


def test_an_exception_is_named_in_the_reason(verdict_for):
    result = verdict_for("license: Apache-2.0 WITH LLVM-exception")
    assert "LLVM-exception" in result["reasons"][0]


@pytest.mark.parametrize("text", ["MIT OR", "(MIT", "MIT AND AND BSD-3-Clause", "Apache License, v2", "mit or or"])
def test_an_unparseable_licence_expression_fails_with_a_clear_reason(text, verdict_for):
    result = verdict_for(f'license: "{text}"')
    assert result["verdict"] == "fail"
    assert "neither a licence id nor a valid SPDX expression" in result["reasons"][0]


@pytest.mark.parametrize("licence", ["unknown", "proprietary", "LicenseRef-Proprietary"])
def test_unknown_or_proprietary_licences_fail(licence, verdict_for):
    assert verdict_for(f"license: {licence}")["verdict"] == "fail"


def test_other_with_a_licence_link_goes_to_an_organiser(verdict_for):
    result = verdict_for("license: other\nlicense_name: fjord-community\nlicense_link: LICENSE.md")
    assert result["verdict"] == "review"
    assert "fjord-community" in result["reasons"][0] and "LICENSE.md" in result["reasons"][0]


def test_other_without_a_licence_link_fails(verdict_for):
    assert verdict_for("license: other\nlicense_name: secret")["verdict"] == "fail"


def test_a_card_without_a_licence_and_without_a_licence_file_fails(card, policy):
    result = check_licence({"README.md": card("language: [fi]")}, policy).to_dict()
    assert result == {
        "verdict": "fail",
        "licence": None,
        "reasons": [
            "No licence found: the model card declares no `license` in its front matter and there is no LICENSE file."
        ],
    }


def test_a_card_without_front_matter_and_no_files_at_all_both_fail(policy):
    assert check_licence({"README.md": b"# Just a title\n"}, policy).verdict is Outcome.FAIL
    assert check_licence({}, policy).verdict is Outcome.FAIL


@pytest.mark.parametrize("front_matter", ["license: [mit, apache-2.0]", "license: 42", "license: {a: b}"])
def test_a_licence_field_that_is_not_text_fails(front_matter, verdict_for):
    assert verdict_for(front_matter)["verdict"] == "fail"


def test_malformed_front_matter_fails_with_the_yaml_problem_named(verdict_for):
    result = verdict_for("license: [mit\nlanguage: en")
    assert result["verdict"] == "fail"
    assert "not a valid YAML" in result["reasons"][0]


def test_front_matter_that_is_a_list_fails(verdict_for):
    assert verdict_for("- license\n- mit")["verdict"] == "fail"


def test_the_policy_is_built_from_the_challenge_configuration(policy):
    policy = LicencePolicy.from_config(
        {
            "pass": ["MIT"],
            "review": ["Apache-2.0"],
            "fail": ["gpl-3.0"],
            "unlisted": "fail",
            "base_model_forces_review": False,
        }
    )
    assert policy.outcome_for("mit")[0] is Outcome.PASS
    assert policy.outcome_for("apache-2.0")[0] is Outcome.REVIEW
    assert policy.outcome_for("GPL-3.0-or-later")[0] is Outcome.FAIL
    assert policy.outcome_for("wtfpl")[0] is Outcome.FAIL
    assert not policy.base_model_forces_review


def test_a_licence_on_no_list_goes_to_review_under_the_default_policy(verdict_for):
    assert verdict_for("license: wtfpl")["verdict"] == "review"


def test_a_typo_in_the_licence_configuration_is_an_error():
    with pytest.raises(ValueError, match="pas"):
        LicencePolicy.from_config({"pas": ["mit"]})
    with pytest.raises(ValueError):
        LicencePolicy.from_config({"pass": "mit"})
