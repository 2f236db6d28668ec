"""Reading the licence fields of a model card (`README.md`) safely.

`huggingface_hub.ModelCard` parses the front matter exactly as the Hub does. Before handing it
the text we bound what it can cost: the README must be at most 1 MB of UTF-8 text, the front
matter at most 64 KB, and the YAML may not use anchors or aliases (the "billion laughs" bomb
expands a few lines of aliases into gigabytes; no real model card needs them).
"""

from dataclasses import dataclass

import yaml
from huggingface_hub import ModelCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK

MAX_README_BYTES = 1_000_000
MAX_FRONT_MATTER_CHARS = 64_000
MAX_FLOW_DEPTH = 50


@dataclass(frozen=True)
class CardLicence:
    """The licence fields of a model card; `problem` says why the card could not be read."""

    licence: object = None
    licence_name: str | None = None
    licence_link: str | None = None
    base_models: tuple[str, ...] = ()
    problem: str | None = None


def read_model_card(data: bytes) -> CardLicence:
    """Return the licence fields of a README, or a `problem` when it cannot be read safely."""
    text, problem = _decode(data)
    if problem:
        return CardLicence(problem=problem)
    problem = _check_front_matter(text)
    if problem:
        return CardLicence(problem=problem)
    try:
        card = ModelCard(text, ignore_metadata_errors=True)
    except (ValueError, TypeError, yaml.YAMLError, RecursionError) as error:
        return CardLicence(problem=f"its front matter is not a valid YAML mapping ({_short(error)})")
    fields = card.data.to_dict()
    return CardLicence(
        licence=fields.get("license"),
        licence_name=_text_or_none(fields.get("license_name")),
        licence_link=_text_or_none(fields.get("license_link")),
        base_models=_base_models(fields.get("base_model")),
    )


def _decode(data: bytes) -> tuple[str, str | None]:
    """Decode a README as UTF-8 text, refusing huge and binary files."""
    if len(data) > MAX_README_BYTES:
        return "", f"it is larger than the {MAX_README_BYTES:,}-byte limit for a model card"
    if b"\x00" in data:
        return "", "it is a binary file, not text"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", "it is not UTF-8 text"


def _check_front_matter(text: str) -> str | None:
    """Refuse front matter that is too long or uses YAML anchors and aliases."""
    match = REGEX_YAML_BLOCK.search(text[: MAX_FRONT_MATTER_CHARS + 16])
    if not match:
        if text.lstrip().startswith("---") and len(text) > MAX_FRONT_MATTER_CHARS:
            return f"its front matter is longer than {MAX_FRONT_MATTER_CHARS:,} characters"
        return None
    if _flow_depth(match.group(2)) > MAX_FLOW_DEPTH:
        # PyYAML's scanner is quadratic in the nesting of [ and {, so deep nesting hangs it
        return f"its front matter nests brackets more than {MAX_FLOW_DEPTH} levels deep"
    try:
        for token in yaml.scan(match.group(2), Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
                return "its front matter uses YAML anchors or aliases, which are not accepted"
    except yaml.YAMLError as error:
        return f"its front matter is not valid YAML ({_short(error)})"
    return None


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ and { in a text (a cheap over-estimate: quotes are ignored)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _base_models(value: object) -> tuple[str, ...]:
    """`base_model` is a string or a list of strings on the Hub."""
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return ()


def _text_or_none(value: object) -> str | None:
    """Keep a field only when it is a non-empty string."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def _short(error: Exception) -> str:
    """The first line of an error message, short enough for a reason."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[0][:120]
