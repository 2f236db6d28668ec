"""The catalogue of well-known base models and their licences, shipped with the platform.

A base-model lookup is any function from a Hub repo id to a licence id (or None when it does
not know the model). `catalogue_lookup` reads the shipped catalogue; where the Hub is reachable
a caller can pass a lookup that asks it, falling back to the catalogue.
"""

import json
from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from app.licences.ids import canonical_id

BaseLookup = Callable[[str], "str | None"]

_CATALOGUE = Path(__file__).with_name("base_models.json")
_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")


def catalogue_lookup(repo_id: str) -> str | None:
    """Return the canonical licence id of a well-known base model, or None if it is unknown."""
    name = repo_id.strip()
    for prefix in _PREFIXES:
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
    name = name.strip("/").lower()
    for pattern, licence in _entries():
        if fnmatchcase(name, pattern):
            return licence
    return None


def chain(*lookups: BaseLookup) -> BaseLookup:
    """Combine lookups: the first one that knows the model answers (e.g. the Hub, then us)."""

    def lookup(repo_id: str) -> str | None:
        for candidate in lookups:
            licence = candidate(repo_id)
            if licence:
                return canonical_id(licence)
        return None

    return lookup


@lru_cache(maxsize=1)
def _entries() -> tuple[tuple[str, str], ...]:
    """The catalogue's (lower-case pattern, canonical licence) pairs, in file order."""
    models = json.loads(_CATALOGUE.read_text(encoding="utf-8"))["models"]
    return tuple((pattern.lower(), canonical_id(licence)) for pattern, licence in models.items())
