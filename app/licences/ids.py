"""Licence identifiers: one spelling for the Hub's ids, SPDX ids and common free-form names.

The Hub writes `apache-2.0` and `gpl-3.0`; SPDX writes `Apache-2.0` and `GPL-3.0-or-later`.
Everything in this package compares licences by their canonical id: lower case, with the
SPDX "only" / "or later" suffixes dropped (the challenge rules treat both the same way).
"""

import re

# Free-form spellings seen on real model cards, mapped to the id they obviously mean.
_ALIASES = {
    "apache 2.0": "apache-2.0",
    "apache2": "apache-2.0",
    "apache-2": "apache-2.0",
    "apache license 2.0": "apache-2.0",
    "mit license": "mit",
    "llama-2": "llama2",
    "llama-3": "llama3",
    "cc-by-nc-sa-4": "cc-by-nc-sa-4.0",
    "cc-by-nc-4": "cc-by-nc-4.0",
    "cc-by-4": "cc-by-4.0",
}

# Licences that are the same set of terms for the purpose of comparing a card with a LICENSE file.
_FAMILIES = {
    "llama": ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"),
    "rail": (
        "openrail",
        "openrail++",
        "creativeml-openrail-m",
        "bigscience-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
    ),
}

_VALID_KEY = re.compile(r"^[a-z0-9][a-z0-9.+\-:_]*$")
_SPDX_SUFFIX = re.compile(r"-(only|or-later)$")


def canonical_id(raw: str) -> str:
    """Return the canonical spelling of one licence id (`GPL-3.0-or-later` -> `gpl-3.0`)."""
    key = " ".join(raw.strip().lower().split())
    key = _ALIASES.get(key, key)
    key = _SPDX_SUFFIX.sub("", key)
    if key.endswith("+") and key[-2:-1].isdigit():
        key = key[:-1]  # `GPL-3.0+` is the old SPDX spelling of "or later"
    return key


def is_valid_id(key: str) -> bool:
    """Tell whether a canonical id is spelled like a licence id (no spaces, commas or quotes)."""
    return bool(_VALID_KEY.match(key))


def family(key: str) -> str:
    """Return the family a licence belongs to (all Llama licences are `llama`), else the id itself."""
    for name, members in _FAMILIES.items():
        if key in members:
            return name
    return key


def same_terms(first: str, second: str) -> bool:
    """Tell whether two canonical ids name the same licence, or licences of one family."""
    return family(first) == family(second)
