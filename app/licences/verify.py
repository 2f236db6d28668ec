"""Licence verification of a submitted checkpoint: the one entry point the web API and CLI call.

`check_licence` works on file contents (the API passes uploaded files without writing them to
disk); `check_licence_dir` reads the same files from a folder with bounded reads. The verdict is
the worst outcome among the findings: fail > review > pass.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.licences.catalogue import BaseLookup, catalogue_lookup
from app.licences.findings import (
    Finding,
    judge_base_models,
    judge_declared,
    judge_text,
    judge_text_alone,
)
from app.licences.modelcard import MAX_README_BYTES, CardLicence, read_model_card
from app.licences.policy import LicencePolicy, Outcome, worst
from app.licences.texts import MAX_LICENSE_BYTES, TextMatch, identify_text

README_NAMES = ("readme.md",)
LICENSE_NAMES = (
    "license",
    "license.md",
    "license.txt",
    "licence",
    "licence.md",
    "licence.txt",
    "copying",
)
CONFIG_NAMES = ("config.json",)
MAX_CONFIG_BYTES = 1_000_000


@dataclass(frozen=True)
class LicenceVerdict:
    """The verdict on a checkpoint's licence, the licence found, and every finding behind it."""

    verdict: Outcome
    licence: str | None
    findings: tuple[Finding, ...]

    @property
    def reasons(self) -> list[str]:
        """The findings' reasons, in the order they were found."""
        return [f.reason for f in self.findings]

    def to_dict(self) -> dict:
        """`{"verdict": "pass" | "review" | "fail", "licence": str | None, "reasons": [str]}`."""
        return {"verdict": self.verdict.value, "licence": self.licence, "reasons": self.reasons}


def check_licence(
    files: Mapping[str, bytes],
    policy: LicencePolicy,
    base_lookup: BaseLookup = catalogue_lookup,
) -> LicenceVerdict:
    """Verify the licence of a checkpoint from its README.md, LICENSE file and config.json."""
    readme = _pick(files, README_NAMES)
    licence_file = _pick(files, LICENSE_NAMES)
    card = read_model_card(readme) if readme is not None else CardLicence()
    findings: list[Finding] = []
    declared = None
    if card.problem:
        findings.append(Finding(Outcome.FAIL, f"The model card README.md cannot be read safely: {card.problem}."))
    elif card.licence is not None:
        finding, declared = judge_declared(card, policy)
        findings.append(finding)
    match = identify_text(licence_file) if licence_file is not None else None
    if match is not None:
        raw = card.licence if isinstance(card.licence, str) else None
        findings.extend(judge_text(match, declared, raw))
    if card.licence is None and not card.problem:
        findings.extend(_undeclared(match, policy))
        if match is not None and match.licence not in (None, "proprietary"):
            declared = judge_text_alone(match, policy)[1]
    if card.base_models:
        findings.extend(judge_base_models(card.base_models, declared, policy, base_lookup))
    else:
        findings.extend(_config_hint(_pick(files, CONFIG_NAMES), base_lookup))
    return LicenceVerdict(
        verdict=worst(f.outcome for f in findings),
        licence=_licence_found(card, match),
        findings=tuple(findings),
    )


def check_licence_dir(
    path: str | Path,
    policy: LicencePolicy,
    base_lookup: BaseLookup = catalogue_lookup,
) -> LicenceVerdict:
    """Verify the licence of a checkpoint folder, reading only a bounded prefix of each file."""
    folder = Path(path)
    if not folder.is_dir():
        return LicenceVerdict(
            Outcome.FAIL, None, (Finding(Outcome.FAIL, f"{folder} is not a folder, so it has no licence."),)
        )
    limits = {name: MAX_README_BYTES for name in README_NAMES}
    limits.update({name: MAX_LICENSE_BYTES for name in LICENSE_NAMES})
    limits.update({name: MAX_CONFIG_BYTES for name in CONFIG_NAMES})
    files = {}
    for entry in sorted(folder.iterdir()):
        limit = limits.get(entry.name.lower())
        if limit is not None and entry.is_file():
            with entry.open("rb") as handle:
                files[entry.name] = handle.read(limit + 1)  # one byte more tells "too large"
    return check_licence(files, policy, base_lookup)


def _pick(files: Mapping[str, bytes], names: tuple[str, ...]) -> bytes | None:
    """The content of the first file whose base name matches, ignoring case, in `names` order."""
    by_name = {}
    for key, content in files.items():
        by_name.setdefault(key.replace("\\", "/").rsplit("/", 1)[-1].lower(), content)
    for name in names:
        if name in by_name:
            return by_name[name]
    return None


def _undeclared(match: TextMatch | None, policy: LicencePolicy) -> list[Finding]:
    """Findings when the model card declares no licence: the LICENSE file alone decides."""
    if match is None:
        return [
            Finding(
                Outcome.FAIL,
                "No licence found: the model card declares no `license` "
                "in its front matter and there is no LICENSE file.",
            )
        ]
    return judge_text_alone(match, policy)[0]


def _config_hint(config: bytes | None, base_lookup: BaseLookup) -> list[Finding]:
    """config.json's `_name_or_path` can reveal a fine-tuned base model the card does not name."""
    if config is None or len(config) > MAX_CONFIG_BYTES:
        return []
    try:
        name = json.loads(config.decode("utf-8")).get("_name_or_path")
    except (ValueError, AttributeError, RecursionError):
        return []
    if not isinstance(name, str) or "/" not in name or name.startswith((".", "/", "~")):
        return []
    try:
        licence = base_lookup(name)
    except Exception:  # a Hub lookup is a network edge; a hint is not worth a crash
        return []
    if not licence:
        return []
    return [
        Finding(
            Outcome.REVIEW,
            f"config.json says the model was loaded from {name}, a "
            f"well-known base model licensed {licence}, but the model card names no "
            "base_model; an organiser must check whether it was trained from scratch.",
        )
    ]


def _licence_found(card: CardLicence, match: TextMatch | None) -> str | None:
    """The licence to show: the declared one, else the one the LICENSE file contains."""
    if isinstance(card.licence, str) and card.licence.strip():
        return card.licence.strip()
    if match is not None and match.licence is not None:
        return match.licence
    return None
