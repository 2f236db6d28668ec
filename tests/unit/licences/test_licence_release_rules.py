"""The pure rules behind release obligations: publication ids and the configured release deadline."""

import pytest

from app.licences.policy import LicencePolicy
from app.licences.publication import parse_publication_id


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("10.1000/xyz123", "10.1000/xyz123"),
        ("https://doi.org/10.48550/arXiv.2401.12345", "10.48550/arXiv.2401.12345"),
        ("doi:10.5281/zenodo.1234567", "10.5281/zenodo.1234567"),
        ("2401.12345", "arXiv:2401.12345"),
        ("arXiv:2401.12345v2", "arXiv:2401.12345v2"),
        ("https://arxiv.org/abs/2312.0001", "arXiv:2312.0001"),
    ],
)
def test_a_doi_or_an_arxiv_id_is_accepted_in_its_canonical_form(text, canonical):
    assert parse_publication_id(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "my blog post",
        "10.12/too-short-registrant",
        "2413.12345",
        "2401.123",
        "https://example.com/paper.pdf",
        "10.1000/" + "x" * 300,
    ],
)
def test_anything_else_is_refused_with_a_hint(text):
    with pytest.raises(ValueError, match="DOI|200 characters"):
        parse_publication_id(text)


def test_the_release_deadline_defaults_to_a_year():
    assert LicencePolicy.default().release_deadline_days == 365
    assert LicencePolicy.from_config({"release_deadline_days": 180}).release_deadline_days == 180


@pytest.mark.parametrize("value", [0, -1, 4000, "365", 36.5, True])
def test_a_release_deadline_that_is_not_a_sensible_number_of_days_is_a_configuration_error(value):
    with pytest.raises(ValueError, match="release_deadline_days"):
        LicencePolicy.from_config({"release_deadline_days": value})
