"""Publication identifiers a winner may give instead of releasing the weights: a DOI or an arXiv id.

Pure: checks the syntax only (an organiser reads the publication before accepting it).
"""

from __future__ import annotations

import re

# Crossref's recommended pattern for modern DOIs: 10.<registrant>/<suffix>.
_DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:A-Za-z0-9]+$")
# New-style arXiv ids (since 2007): YYMM.NNNN or YYMM.NNNNN, with an optional version.
_ARXIV = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}(v\d+)?$")
_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "doi:",
    "https://arxiv.org/abs/",
    "http://arxiv.org/abs/",
    "arxiv:",
)


def parse_publication_id(text: str) -> str:
    """Return the canonical form (`10.xxxx/...` or `arXiv:2401.12345`), or raise ValueError saying why."""
    value = (text or "").strip()
    for prefix in _PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
            break
    if len(value) > 200:
        raise ValueError("A publication id is at most 200 characters long.")
    if _DOI.match(value):
        return value
    arxiv = _ARXIV.match(value)
    if arxiv and 1 <= int(arxiv.group(2)) <= 12:
        return f"arXiv:{value}"
    raise ValueError("Give a DOI (10.xxxx/...) or an arXiv id (e.g. 2401.12345).")
