"""The challenge's licence policy: which licences pass, which an organiser reviews, which fail.

The policy is data, read from the `[licence]` section of a challenge's TOML file, so a later
challenge can change its lists without touching the code.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.licences.ids import canonical_id


class Outcome(str, Enum):
    """The result of one rule; a verdict is the worst outcome among its findings."""

    PASS = "pass"
    REVIEW = "review"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        """Order outcomes so that `max(..., key=severity)` finds the worst one."""
        return {"pass": 0, "review": 1, "fail": 2}[self.value]


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """Return the worst of some outcomes (fail > review > pass); pass when there are none."""
    return max(outcomes, key=lambda o: o.severity, default=Outcome.PASS)


def best(outcomes: Iterable[Outcome]) -> Outcome:
    """Return the best of some outcomes (pass < review < fail); fail when there are none."""
    return min(outcomes, key=lambda o: o.severity, default=Outcome.FAIL)


_DEFAULT_PASS = (
    "apache-2.0",
    "mit",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "isc",
    "cc0-1.0",
    "unlicense",
    "zlib",
    "bsl-1.0",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "gpl-3.0",
    "lgpl-3.0",
    "agpl-3.0",
    "mpl-2.0",
    "eupl-1.2",
)
_DEFAULT_REVIEW = (
    "openrail",
    "openrail++",
    "creativeml-openrail-m",
    "bigscience-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "cc-by-nc-nd-4.0",
    "cc-by-nd-4.0",
)
_DEFAULT_FAIL = ("unknown", "proprietary", "all-rights-reserved", "licenseref-proprietary")

# What each well-known licence lets people do with released weights, for the reasons of a passing verdict
# ("it passes because ..."). A passing licence not listed here is described only as accepted by the
# challenge: the words must never promise more than the licence allows.
_PERMISSIVE = "it lets anyone use, modify and redistribute the weights for any purpose"
_COPYLEFT = "it lets anyone use, modify and redistribute the weights, under the same licence"
TERMS = {
    **dict.fromkeys(
        ("apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "isc", "zlib", "bsl-1.0"),
        _PERMISSIVE,
    ),
    **dict.fromkeys(
        ("cc0-1.0", "unlicense"), "it puts the weights in the public domain: anyone may use them for any purpose"
    ),
    "cc-by-4.0": "it lets anyone use, adapt and share the weights for any purpose, with attribution",
    "cc-by-sa-4.0": "it lets anyone use, adapt and share the weights for any purpose, with attribution and "
    "under the same licence",
    "cc-by-nc-4.0": "it lets anyone use, adapt and share the weights for non-commercial use, with attribution",
    "cc-by-nc-sa-4.0": "it lets anyone use, adapt and share the weights for non-commercial use, with "
    "attribution and under the same licence",
    "cc-by-nd-4.0": "it lets anyone share the weights unchanged, with attribution (no adaptations)",
    "cc-by-nc-nd-4.0": "it lets anyone share the weights unchanged for non-commercial use, with attribution "
    "(no adaptations)",
    **dict.fromkeys(("gpl-3.0", "agpl-3.0", "lgpl-3.0", "mpl-2.0", "eupl-1.2"), _COPYLEFT),
}


RELEASE_WAYS = ("weights", "publication")  # the ways a winner may meet the release obligation, in this order


@dataclass(frozen=True)
class LicencePolicy:
    """Lists of canonical licence ids per outcome, and what to do with the rest.

    `unlisted` is the outcome of a well-formed id on none of the lists (an organiser decides
    by default). `base_model_forces_review` sends every model that declares a `base_model`
    to review, because the challenge asks for models trained from scratch.
    `release_deadline_days` is how long a winner has, from the award date, to release the
    weights or publish; `release_ways` how ("weights" on the Hub under a passing licence,
    "publication" of the findings: a DOI or an arXiv id), from `release = [...]`.
    """

    passing: frozenset[str]
    reviewed: frozenset[str]
    failing: frozenset[str]
    unlisted: Outcome = Outcome.REVIEW
    base_model_forces_review: bool = True
    release_deadline_days: int = 365
    release_ways: tuple[str, ...] = RELEASE_WAYS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "LicencePolicy":
        """Build a policy from the `[licence]` section of a challenge TOML (a plain dict).

        Missing keys take the 2024 challenge's defaults; unknown keys are an error so that a
        typo in the configuration does not silently weaken the check.
        """
        known = {"pass", "review", "fail", "unlisted", "base_model_forces_review", "release_deadline_days", "release"}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown keys in [licence]: {', '.join(sorted(unknown))}")
        return cls(
            passing=_ids(config.get("pass", _DEFAULT_PASS)),
            reviewed=_ids(config.get("review", _DEFAULT_REVIEW)),
            failing=_ids(config.get("fail", _DEFAULT_FAIL)),
            unlisted=Outcome(config.get("unlisted", "review")),
            base_model_forces_review=bool(config.get("base_model_forces_review", True)),
            release_deadline_days=_days(config.get("release_deadline_days", 365)),
            release_ways=_ways(config.get("release", list(RELEASE_WAYS))),
        )

    @classmethod
    def default(cls) -> "LicencePolicy":
        """The policy of the 2024 challenge."""
        return cls.from_config({})

    def outcome_for(self, licence_id: str) -> tuple[Outcome, str]:
        """Return the outcome for one canonical id and the rule applied, in plain words."""
        key = canonical_id(licence_id)
        if key in self.failing:
            return Outcome.FAIL, "the challenge does not accept it"
        if key in self.passing:
            return Outcome.PASS, TERMS.get(key, "the challenge accepts it")
        if key in self.reviewed:
            return Outcome.REVIEW, "it restricts use or derivatives, so an organiser decides"
        if self.unlisted is Outcome.PASS:
            return Outcome.PASS, "the challenge accepts licences it does not list"
        if self.unlisted is Outcome.FAIL:
            return Outcome.FAIL, "it is not on the challenge's list of accepted licences"
        return Outcome.REVIEW, "it is not on the challenge's lists, so an organiser decides"


@dataclass(frozen=True)
class ReleaseTerms:
    """What a winner must do: the ways allowed, the least use a released licence must allow, the deadline."""

    ways: tuple[str, ...]
    least_use: str  # "non-commercial use" | "any purpose"
    deadline_days: int

    @property
    def words(self) -> str:
        """The obligation in one sentence, as a winner's dashboard and the release page state it."""
        use = "use for any purpose" if self.least_use == "any purpose" else f"at least {self.least_use}"
        weights = (
            "Release the model's weights on the Hugging Face Hub under an open licence the challenge "
            f"accepts, allowing {use}"
        )
        publication = "publish your findings (a DOI or an arXiv id)"
        if self.ways == ("weights",):
            what = weights
        elif self.ways == ("publication",):
            what = publication[0].upper() + publication[1:]
        else:
            what = f"{weights}, or {publication}"
        return f"{what}, within {self.deadline_days} days of the award."


def release_terms(policy: LicencePolicy) -> ReleaseTerms:
    """The release obligation of the challenge's winners, from its `[licence]` section: the least use a
    passing licence allows is non-commercial when the challenge passes any non-commercial licence."""
    non_commercial = any("-nc" in licence for licence in policy.passing)
    return ReleaseTerms(
        policy.release_ways, "non-commercial use" if non_commercial else "any purpose", policy.release_deadline_days
    )


def _ways(value: Any) -> tuple[str, ...]:
    """`release`: a non-empty list of distinct ways among "weights" and "publication"."""
    if (
        not isinstance(value, list)
        or not value
        or len(set(map(str, value))) != len(value)
        or not set(value) <= set(RELEASE_WAYS)
    ):
        raise ValueError('licence.release must list how winners release: "weights", "publication" or both')
    return tuple(way for way in RELEASE_WAYS if way in value)


def _days(value: Any) -> int:
    """A positive whole number of days (a bool is not a number of days, though Python says it is)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3650:
        raise ValueError("licence.release_deadline_days must be a whole number of days, 1 to 3650")
    return value


def _ids(values: Iterable[str]) -> frozenset[str]:
    """Canonicalise a configured list of ids; a bare string is a configuration mistake."""
    if isinstance(values, str):
        raise ValueError("licence lists must be lists of ids, not a single string")
    return frozenset(canonical_id(v) for v in values)
