"""Names shown to other people must show what they say: no invisible characters.

A right-to-left override (U+202E) makes "evil" display as "live" and a file name's extension appear in the
middle; zero-width spaces make two names that look identical differ; control characters break lines and
logs. `hidden_character_problem` is the one rule for every name someone types and others read (team names,
submission labels, display names, baseline models, the enterprises named in an eligibility application,
API token names); the services call it, so the pages, the API and the command line refuse alike.

Refused: the bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), every other
format character (Unicode category Cf: zero-width space, word joiner, byte order mark, soft hyphen, ...),
control characters (Cc), line and paragraph separators, and lone surrogates. Allowed: the zero-width
joiner and non-joiner (U+200D, U+200C) between two visible characters, which Persian and Indic spellings
and emoji sequences need. Pure standard library.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
JOINERS = frozenset("\u200c\u200d")
_CONTROL_NAMES = {
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x00": "NULL",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def _kind(char: str) -> str | None:
    """Why `char` may not appear in a name, or None."""
    if char in BIDI_CONTROLS:
        return "an invisible control that changes the order in which text is shown (so “evil” can read “live”)"
    category = unicodedata.category(char)
    if category == "Cf":
        return "an invisible formatting character"
    if category == "Cc":
        return "a control character"
    if category in ("Zl", "Zp"):
        return "a line break"
    if category == "Cs":
        return "half of a character (a lone surrogate)"
    return None


def _visible(char: str) -> bool:
    return not char.isspace() and _kind(char) is None and char not in JOINERS


def hidden_character_problem(text: str, what: str) -> str | None:
    """Why `text` cannot be used as `what` (e.g. "The team name"), naming the first offending character and
    its position; None when every character shows."""
    for position, char in enumerate(text):
        if char in JOINERS:
            inside = 0 < position < len(text) - 1
            if inside and _visible(text[position - 1]) and _visible(text[position + 1]):
                continue
            kind = "an invisible joiner that is not between two visible characters"
        else:
            kind = _kind(char)
            if kind is None:
                continue
        name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
        label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
        return f"{what} contains {label} at position {position + 1}, {kind}. Remove it."
    return None
