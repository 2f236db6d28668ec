"""The one rule for names others read: invisible and direction-changing characters are refused with a message
naming the character; every script people write names in is accepted."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from app.visible import BIDI_CONTROLS, hidden_character_problem

BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]


@pytest.mark.parametrize("char", BIDI)
def test_every_bidirectional_control_is_refused_by_its_code_point_and_name(char):
    problem = hidden_character_problem(f"ev{char}il labs", "The team name")
    assert problem is not None and problem.startswith(f"The team name contains U+{ord(char):04X} ")
    assert "at position 3" in problem and "order in which text is shown" in problem


def test_the_right_to_left_override_message_reads_as_a_sentence():
    assert hidden_character_problem("\u202eevil", "The label") == (
        "The label contains U+202E RIGHT-TO-LEFT OVERRIDE at position 1, an invisible control that changes the "
        "order in which text is shown (so “evil” can read “live”). Remove it."
    )


@pytest.mark.parametrize(
    "char, words",
    [
        ("\u200b", "ZERO WIDTH SPACE"),
        ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
        ("\u2060", "WORD JOINER"),
        ("\u00ad", "SOFT HYPHEN"),
        ("\U000e0041", "TAG LATIN CAPITAL LETTER A"),
    ],
)
def test_other_invisible_format_characters_are_refused(char, words):
    problem = hidden_character_problem(f"Aurora{char}Labs", "The team name")
    assert words in problem and "invisible formatting character" in problem


@pytest.mark.parametrize(
    "char, words",
    [
        ("\x00", "NULL"),
        ("\t", "CHARACTER TABULATION"),
        ("\n", "LINE FEED"),
        ("\x1b", "ESCAPE"),
        ("\x85", "U+0085"),
        ("\u2028", "LINE SEPARATOR"),
    ],
)
def test_control_characters_and_line_breaks_are_refused(char, words):
    assert words in hidden_character_problem(f"a{char}b", "The name")


def test_a_lone_surrogate_is_refused():
    assert "lone surrogate" in hidden_character_problem("a\ud800b", "The name")


@pytest.mark.parametrize(
    "name",
    [
        "Aurora Labs",
        "Łódź AI sp. z o.o.",
        "Ελληνικά Μοντέλα",
        "Ümlaut & Söhne GmbH",
        "مختبر اللغة",
        "日本語ラボ",
        "می\u200cخواهم",
        "क्\u200dष",
        "👩\u200d💻 Coders",
        "Non\u00a0breaking",
        "e\u0301cole",
    ],
)
def test_names_in_every_script_are_accepted_with_the_joiners_they_need(name):
    assert hidden_character_problem(name, "The team name") is None


@pytest.mark.parametrize("name", ["\u200dLabs", "Labs\u200c", "a \u200d b", "a\u200d\u200db"])
def test_a_joiner_that_joins_nothing_is_refused(name):
    assert "joiner that is not between two visible characters" in hidden_character_problem(name, "The name")


@given(st.text(), st.sampled_from(sorted(BIDI_CONTROLS)), st.text())
def test_a_bidi_control_anywhere_is_always_refused(before, control, after):
    assert hidden_character_problem(before + control + after, "The name") is not None
