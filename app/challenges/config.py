"""Challenge configuration files (TOML): parsed and validated into frozen dataclasses.

Pure: no Flask, no database. The sections that capabilities own (eligibility, benchmark, clusters, scoring,
licence, limits, evaluation) are kept as plain dicts here and validated by those capabilities' own parsers:
the pure scoring library's (`[scoring]`, `[benchmark]`) are known here; each feature registers its own with
`register_section` in its `sections.py` (the shell imports every one, see `app.features.sections`). A section
nobody registered is refused, never skipped: a broken or missing parser fails loudly instead of leaving the
platform on defaults.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import Any, Callable, Mapping

from app.challenges.gating import ACTIONS, PhaseGate, default_allows, gate, unknown_actions
from scoring.config import ScoringConfig, parse_benchmark_section

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
PRIZE_POLICIES = ("fixed", "equal", "rank_weighted", "score_proportional")
CORE_TABLES = ("challenge", "phases", "prize")
# A section's parser takes the section's dict and returns its parsed value, raising ValueError (or TypeError,
# KeyError) with a message naming the key.
SectionParser = Callable[[Any], Any]
SECTION_PARSERS: dict[str, SectionParser] = {
    "scoring": ScoringConfig.from_config,
    "benchmark": parse_benchmark_section,
}


def register_section(section: str, parser: SectionParser) -> None:
    """Declare the parser of a configuration section (a feature's `sections.py` calls this on import)."""
    known = SECTION_PARSERS.get(section)
    if known is not None and known != parser:
        raise ValueError(f"[{section}] already has a parser: {known!r}")
    SECTION_PARSERS[section] = parser


def section_parser(section: str) -> SectionParser:
    """The parser of a section; ConfigError when no feature registered one."""
    parser = SECTION_PARSERS.get(section)
    if parser is None:
        raise ConfigError(
            [
                f"[{section}] is not a section this platform knows (the sections are "
                f"{', '.join(sorted(SECTION_PARSERS))})"
            ]
        )
    return parser


def parse_section(config: "ChallengeConfig", section: str) -> Any:
    """A section of a challenge's configuration, parsed by its feature; None when the section is absent."""
    raw = config.sections.get(section)
    if raw is None:
        return None
    return section_parser(section)(raw)


class ConfigError(ValueError):
    """A challenge configuration that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    name: str
    starts: datetime  # aware, UTC
    ends: datetime  # aware, UTC
    allows: tuple[str, ...] | None = None  # the entrant actions it allows; None: the defaults of its key

    @property
    def actions(self) -> frozenset[str]:
        """The entrant actions this phase allows (`allows`, or the defaults of its key)."""
        return frozenset(default_allows(self.key) if self.allows is None else self.allows)


@dataclass(frozen=True)
class PrizeSpec:
    pool_cents: int
    max_winners: int
    policy: str
    per_winner_cents: int | None
    gpu_hours_per_winner: int
    compute_hours: Mapping[str, int]
    weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class ChallengeConfig:
    slug: str
    name: str
    call_date: date
    description: str
    phases: tuple[PhaseSpec, ...]
    prize: PrizeSpec
    sections: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    text: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def phase_at(self, moment: datetime) -> PhaseSpec | None:
        """The phase running at `moment` (aware), or None between or outside phases."""
        return next((p for p in self.phases if p.starts <= moment < p.ends), None)

    def next_deadline(self, moment: datetime) -> PhaseSpec | None:
        """The first phase that ends after `moment`."""
        return next((p for p in self.phases if p.ends > moment), None)

    def gate(self, action: str, moment: datetime) -> PhaseGate:
        """Whether the phases allow the entrant action (register, apply, submit) at `moment`, and why not."""
        return gate(self.phases, action, moment)


def parse_config(text: str) -> ChallengeConfig:
    """Parse and validate a challenge configuration; raises ConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"]) from None
    except RecursionError:  # tomllib recurses once per level of nesting, like Python's JSON parser
        raise ConfigError(["not valid TOML: it nests arrays or tables too deeply"]) from None
    problems: list[str] = []
    head = _table(data, "challenge", problems)
    slug = _get(head, "challenge.slug", str, problems, "")
    if slug and not SLUG.match(slug):
        problems.append("challenge.slug must be 3-64 lower-case letters, digits and dashes")
    name = _get(head, "challenge.name", str, problems, "")
    call_date = _get(head, "challenge.call_date", date, problems, date(1970, 1, 1))
    description = head.get("description", "") if isinstance(head.get("description", ""), str) else ""
    phases = _parse_phases(data.get("phases"), problems)
    prize = _parse_prize(_table(data, "prize", problems), problems)
    sections = {k: v for k, v in data.items() if k not in CORE_TABLES}
    for key, raw in sections.items():
        try:
            section_parser(key)(raw)
        except ConfigError as exc:
            problems.extend(exc.problems)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(f"[{key}]: {exc}")
    if problems:
        raise ConfigError(problems)
    return ChallengeConfig(slug, name, call_date, description, phases, prize, MappingProxyType(sections), text)


def _table(data: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        problems.append(f"[{key}] table is missing")
        return {}
    return value


def _get(table: Mapping[str, Any], path: str, kind: type, problems: list[str], default: Any) -> Any:
    key = path.rsplit(".", 1)[-1]
    value = table.get(key)
    if value is None:
        problems.append(f"{path} is missing")
        return default
    if (
        kind is date
        and isinstance(value, datetime)
        or not isinstance(value, kind)
        or (kind is int and isinstance(value, bool))
    ):
        problems.append(f"{path} must be a {kind.__name__}, not {type(value).__name__}")
        return default
    return value


def _utc(value: Any, path: str, problems: list[str]) -> datetime | None:
    if not isinstance(value, datetime):
        problems.append(f"{path} must be a date-time with a UTC offset, e.g. 2024-01-16T17:00:00Z")
        return None
    if value.tzinfo is None:
        problems.append(f"{path} has no UTC offset; write it as e.g. 2024-01-16T17:00:00Z")
        return None
    return value.astimezone(timezone.utc)


def _parse_phases(raw: Any, problems: list[str]) -> tuple[PhaseSpec, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append("[[phases]]: at least one phase is required")
        return ()
    phases: list[PhaseSpec] = []
    for i, item in enumerate(raw):
        where = f"phases[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a table")
            continue
        key = _get(item, f"{where}.key", str, problems, "")
        name = _get(item, f"{where}.name", str, problems, key)
        starts = _utc(item.get("starts"), f"{where}.starts", problems)
        ends = _utc(item.get("ends"), f"{where}.ends", problems)
        if starts and ends and ends <= starts:
            problems.append(f"{where} ({key}) ends before it starts")
        allows = _parse_allows(item.get("allows"), f"{where}.allows", problems)
        if starts and ends:
            phases.append(PhaseSpec(key, name, starts, ends, allows))
    keys = [p.key for p in phases]
    if len(set(keys)) != len(keys):
        problems.append("[[phases]]: phase keys must be unique")
    for before, after in zip(phases, phases[1:]):
        if after.starts < before.ends:
            problems.append(f"phase {after.key!r} starts before phase {before.key!r} ends")
    return tuple(phases)


def _parse_allows(raw: Any, path: str, problems: list[str]) -> tuple[str, ...] | None:
    """A phase's `allows`: a list of entrant actions (None when absent: the key's defaults apply)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        problems.append(f'{path} must be a list of actions, e.g. ["register", "apply"]')
        return None
    for name in unknown_actions(raw):
        problems.append(f"{path}: {name!r} is not an action; the actions are {', '.join(ACTIONS)}")
    return tuple(dict.fromkeys(name for name in raw if name in ACTIONS))


def _parse_prize(table: Mapping[str, Any], problems: list[str]) -> PrizeSpec:
    pool_eur = _get(table, "prize.pool_eur", int, problems, 0)
    max_winners = _get(table, "prize.max_winners", int, problems, 1)
    policy = table.get("policy", "fixed")
    if policy not in PRIZE_POLICIES:
        problems.append(f"prize.policy must be one of {', '.join(PRIZE_POLICIES)}")
    if pool_eur < 0 or max_winners < 1:
        problems.append("prize.pool_eur must be >= 0 and prize.max_winners >= 1")
    per_winner = table.get("per_winner_eur")
    if per_winner is not None and (not isinstance(per_winner, int) or per_winner * max(max_winners, 1) > pool_eur):
        problems.append("prize.per_winner_eur must be a whole number and per-winner times max_winners <= pool")
    compute = table.get("compute_hours", {})
    if not isinstance(compute, dict) or not all(isinstance(v, int) and v >= 0 for v in compute.values()):
        problems.append("prize.compute_hours must map cluster names to whole, non-negative GPU hours")
        compute = {}
    weights = table.get("weights", [])
    if not isinstance(weights, list) or not all(isinstance(w, (int, float)) and w > 0 for w in weights):
        problems.append("prize.weights must be a list of positive numbers")
        weights = []
    return PrizeSpec(
        pool_eur * 100,
        max_winners,
        policy,
        None if per_winner is None else per_winner * 100,
        int(table.get("gpu_hours_per_winner", 0) or 0),
        MappingProxyType(dict(compute)),
        tuple(float(w) for w in weights),
    )
