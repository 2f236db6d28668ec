"""Identifying a licence from the text of a LICENSE file.

Each licence the policy knows ships as a reference text in `texts/<id>.txt` (the key paragraphs
of the licence; long licences are abridged). A LICENSE file is normalised the same way (lower
case, words only, copyright lines dropped, so re-wrapping, markdown and punctuation do not
matter), cut into overlapping runs of five words, and compared with every reference: the
share of a reference's runs found in the file is its similarity. The best reference above the
threshold wins; a near-copy with a changed clause (CC-BY vs CC-BY-NC) loses to the exact one
because its own distinguishing runs are missing.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_LICENSE_BYTES = 512_000  # the longest real licence (GPL-3.0) is about 35 KB
THRESHOLD = 0.6
_SHINGLE = 5
_TEXTS = Path(__file__).with_name("texts")
_COPYRIGHT_LINE = re.compile(r"^\W*(copyright\b|\(c\)|©).*$", re.IGNORECASE | re.MULTILINE)
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})
_PROPRIETARY = (
    "all rights reserved",
    "proprietary",
    "confidential",
    "may not be copied",
    "may not be distributed",
    "may not be redistributed",
    "not be redistributed",
    "prior written permission",
    "no license is granted",
    "no licence is granted",
)


@dataclass(frozen=True)
class TextMatch:
    """What a LICENSE file says: a canonical licence id, `proprietary`, or None if unknown."""

    licence: str | None
    similarity: float = 0.0
    truncated: bool = False


def identify_text(data: bytes) -> TextMatch:
    """Identify the licence a LICENSE file contains, reading at most `MAX_LICENSE_BYTES`."""
    truncated = len(data) > MAX_LICENSE_BYTES
    head = data[:MAX_LICENSE_BYTES]
    if b"\x00" in head:
        return TextMatch(licence=None, truncated=truncated)
    text = head.decode("utf-8", errors="replace")
    best_id, best_similarity = _best_reference(normalise(text))
    if best_id is None and _reads_as_proprietary(text):
        return TextMatch(licence="proprietary", truncated=truncated)
    return TextMatch(licence=best_id, similarity=round(best_similarity, 3), truncated=truncated)


def _best_reference(words: list[str]) -> tuple[str | None, float]:
    """Pick the reference the text contains best.

    Among references above the threshold, one whose title appears in the text wins; then any
    reference within 0.05 of the best similarity competes on the number of runs it matched, so
    BSD-3-Clause beats BSD-2-Clause on a BSD-3-Clause text (which contains all of BSD-2).
    """
    found = shingles(words)
    joined = " " + " ".join(words) + " "
    candidates = []
    for licence, (title, reference) in _references().items():
        matched = len(reference & found)
        similarity = matched / len(reference)
        if similarity >= THRESHOLD:
            candidates.append((f" {title} " in joined, similarity, matched, licence))
    if not candidates:
        return None, 0.0
    top = max(similarity for _, similarity, _, _ in candidates)
    titled, similarity, matched, licence = max(candidates, key=lambda c: (c[0], c[1] >= top - 0.05, c[2]))
    return licence.split("@", 1)[0], round(similarity, 3)


def normalise(text: str) -> list[str]:
    """Reduce a licence text to its words: lower case, no punctuation, no copyright lines."""
    text = _COPYRIGHT_LINE.sub(" ", text.translate(_QUOTES))
    return re.findall(r"[a-z0-9]+", text.lower())


def shingles(words: list[str]) -> frozenset[tuple[str, ...]]:
    """The set of runs of `_SHINGLE` consecutive words."""
    return frozenset(tuple(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1))


def known_texts() -> tuple[str, ...]:
    """The licence ids that have a reference text."""
    return tuple(sorted({name.split("@", 1)[0] for name in _references()}))


@lru_cache(maxsize=1)
def _references() -> dict[str, tuple[str, frozenset[tuple[str, ...]]]]:
    """Load each reference text once per process: its title (first line) and its runs. A file named
    `ID@variant.txt` is another accepted form of licence ID (e.g. the Apache-2.0 notice projects ship
    instead of the full text); the best-matching form counts."""
    references = {}
    for path in sorted(_TEXTS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = " ".join(normalise(text.strip().splitlines()[0]))
        references[path.stem] = (title, shingles(normalise(text)))
    return references


def _reads_as_proprietary(text: str) -> bool:
    """A text that matches no open licence and reserves rights or forbids copying."""
    plain = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    return any(phrase in plain for phrase in _PROPRIETARY)
