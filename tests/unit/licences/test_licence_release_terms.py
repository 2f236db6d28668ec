"""What a winner must do, in words, from the challenge's `[licence]` section: release the weights under a
licence the challenge passes (the least it allows: non-commercial use, when a non-commercial licence passes),
or publish the findings, when `release` allows it, within the configured days."""

import pytest

from app.licences.policy import LicencePolicy, release_terms


def test_the_2024_rules_ask_for_open_weights_at_least_for_non_commercial_use_or_a_publication():
    terms = release_terms(LicencePolicy.default())
    assert terms.ways == ("weights", "publication") and terms.least_use == "non-commercial use"
    assert "allowing at least non-commercial use" in terms.words and "or publish your findings" in terms.words
    assert "within 365 days of the award" in terms.words


def test_a_challenge_passing_only_permissive_licences_asks_for_use_for_any_purpose():
    terms = release_terms(LicencePolicy.from_config({"pass": ["apache-2.0", "mit"], "release": ["weights"]}))
    assert terms.least_use == "any purpose" and "allowing use for any purpose" in terms.words
    assert "publish" not in terms.words and terms.ways == ("weights",)


def test_a_challenge_may_ask_for_a_publication_only():
    terms = release_terms(LicencePolicy.from_config({"release": ["publication"], "release_deadline_days": 90}))
    assert terms.words.startswith("Publish your findings") and "within 90 days" in terms.words


@pytest.mark.parametrize("value", [[], ["code"], "weights", ["weights", "weights"], [1]])
def test_release_must_name_weights_or_publication(value):
    with pytest.raises(ValueError, match="licence.release"):
        LicencePolicy.from_config({"release": value})
