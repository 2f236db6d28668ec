"""The words a verdict uses for a licence say what that licence allows: a non-commercial licence is never
described as letting anyone use the weights for anything, and a policy that passes a restrictive licence
does not call it open."""

import pytest

from app.licences.policy import LicencePolicy, Outcome

POLICY = LicencePolicy.default()


@pytest.mark.parametrize("licence", ["cc-by-nc-4.0", "cc-by-nc-sa-4.0", "CC-BY-NC-4.0"])
def test_a_non_commercial_licence_is_described_as_for_non_commercial_use(licence):
    outcome, reason = POLICY.outcome_for(licence)
    assert outcome is Outcome.PASS
    assert "for non-commercial use" in reason and "for any purpose" not in reason


@pytest.mark.parametrize("licence", ["apache-2.0", "mit", "bsd-3-clause", "isc", "cc-by-4.0"])
def test_a_permissive_licence_lets_anyone_use_the_weights_for_any_purpose(licence):
    assert "for any purpose" in POLICY.outcome_for(licence)[1]


@pytest.mark.parametrize("licence", ["cc-by-sa-4.0", "gpl-3.0", "agpl-3.0", "lgpl-3.0", "mpl-2.0"])
def test_a_copyleft_licence_says_that_its_terms_carry_over(licence):
    assert "under the same licence" in POLICY.outcome_for(licence)[1]


def test_every_licence_the_default_policy_passes_has_its_own_words():
    for licence in POLICY.passing:
        assert POLICY.outcome_for(licence)[1] != "the challenge accepts it", licence


def test_a_restrictive_licence_an_organiser_puts_on_the_pass_list_is_not_called_open():
    lenient = LicencePolicy.from_config({"pass": ["llama3", "cc-by-nc-nd-4.0"]})
    assert lenient.outcome_for("llama3") == (Outcome.PASS, "the challenge accepts it")
    assert "non-commercial" in lenient.outcome_for("cc-by-nc-nd-4.0")[1]
    assert "redistribute" not in lenient.outcome_for("cc-by-nc-nd-4.0")[1]
