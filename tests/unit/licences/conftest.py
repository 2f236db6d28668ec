"""Shared helpers for the licence tests: model cards and reformatted licence texts."""

import textwrap
from pathlib import Path

import pytest

from app.licences.policy import LicencePolicy
from tests.factories import model_card

DATA = Path(__file__).with_name("data")
REFERENCES = Path(__file__).parents[3] / "app" / "licences" / "texts"


def reformatted(licence_id: str, width: int = 61) -> bytes:
    """A reference licence text as people paste it: re-wrapped, under a markdown header, with copyright lines."""
    paragraphs = REFERENCES.joinpath(f"{licence_id}.txt").read_text().split("\n\n")
    wrapped = "\n\n".join(textwrap.fill(" ".join(p.split()), width=width) for p in paragraphs)
    return ("## LICENSE\n\nCopyright (c) 2024 Example Labs GmbH\n\n" + wrapped + "\n").encode()


POLICY = LicencePolicy.default()


@pytest.fixture(name="card")
def card_fixture():
    """Build a README.md from YAML front matter."""
    return model_card


@pytest.fixture(name="reformatted")
def reformatted_fixture():
    """Reformat a shipped reference licence text as people paste it."""
    return reformatted


@pytest.fixture
def policy() -> LicencePolicy:
    """The 2024 challenge's policy."""
    return POLICY


@pytest.fixture
def data() -> Path:
    """The folder of fixture files."""
    return DATA
