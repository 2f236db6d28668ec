"""What an edit of a challenge configuration changes, in words: pure, over the parsed configurations.

`summarise(old, new)` lists the changes an organiser checks before saving (phases moved, the prize changed,
tasks added or removed...); `outline(config)` is the structured summary shown beside the editor;
`unified_diff(old, new)` is the line diff, as (kind, line) pairs for safe rendering.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from app.challenges.config import ChallengeConfig

# Arrays of tables whose items have an identity: changes are told per item.
KEYED_LISTS = (("benchmark", "tasks", "name", "benchmark task"), ("scoring", "rubric", "id", "rubric criterion"))


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add" | "remove" | "hunk" | "file" | "same"
    text: str


def unified_diff(old: str, new: str, old_name: str = "current", new_name: str = "edited") -> list[DiffLine]:
    """The unified diff of two texts, each line classified for display."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2)
    return [DiffLine(_kind(line), line) for line in lines]


def _kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "remove"}.get(line[:1], "same")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def summarise(old: ChallengeConfig | None, new: ChallengeConfig) -> list[str]:
    """The changes from `old` to `new` in words; for a new challenge, what it contains."""
    if old is None:
        return [
            f"New challenge {new.slug!r} ({new.name}) with {len(new.phases)} phases, a prize pool of "
            f"EUR {new.prize.pool_cents // 100:,} and sections {', '.join(sorted(new.sections)) or 'none'}."
        ]
    changes = _head_changes(old, new) + _phase_changes(old, new) + _prize_changes(old, new)
    for section, key, identity, label in KEYED_LISTS:
        changes += _keyed_changes(
            _items(old.sections, section, key, identity), _items(new.sections, section, key, identity), label
        )
    changes += _section_changes(old.sections, new.sections)
    return changes


def _head_changes(old: ChallengeConfig, new: ChallengeConfig) -> list[str]:
    changes = []
    for label, before, after in (("name", old.name, new.name), ("call date", old.call_date, new.call_date)):
        if before != after:
            changes.append(f"The challenge's {label} changes from {before} to {after}.")
    if old.description != new.description:
        changes.append("The challenge's description changes.")
    return changes


def _phase_changes(old: ChallengeConfig, new: ChallengeConfig) -> list[str]:
    before, after = {p.key: p for p in old.phases}, {p.key: p for p in new.phases}
    changes = [
        f"Phase {k!r} is added ({_when(after[k].starts)} to {_when(after[k].ends)})." for k in after if k not in before
    ]
    changes += [f"Phase {k!r} is removed." for k in before if k not in after]
    for key in (k for k in after if k in before):
        a, b = before[key], after[key]
        if a.name != b.name:
            changes.append(f"Phase {key!r} is renamed from {a.name!r} to {b.name!r}.")
        for edge in ("starts", "ends"):
            if getattr(a, edge) != getattr(b, edge):
                changes.append(f"Phase {key!r} {edge} {_when(getattr(b, edge))} instead of {_when(getattr(a, edge))}.")
        if a.actions != b.actions:
            changes.append(f"Phase {key!r} allows {_actions(b.actions)} instead of {_actions(a.actions)}.")
    if [p.key for p in old.phases if p.key in after] != [p.key for p in new.phases if p.key in before]:
        changes.append("The phases are in a different order.")
    return changes


def _actions(actions: frozenset[str]) -> str:
    return ", ".join(sorted(actions)) or "no entrant action"


def _prize_changes(old: ChallengeConfig, new: ChallengeConfig) -> list[str]:
    a, b = old.prize, new.prize
    fields = (
        ("pool", _eur(a.pool_cents), _eur(b.pool_cents)),
        ("most winners", a.max_winners, b.max_winners),
        ("policy", a.policy, b.policy),
        ("amount per winner", _eur(a.per_winner_cents), _eur(b.per_winner_cents)),
        ("GPU hours per winner", a.gpu_hours_per_winner, b.gpu_hours_per_winner),
        ("compute hours", dict(a.compute_hours), dict(b.compute_hours)),
        ("rank weights", list(a.weights), list(b.weights)),
    )
    return [f"Prize {label}: {x} becomes {y}." for label, x, y in fields if x != y]


def _eur(cents: int | None) -> str:
    return "none" if cents is None else f"EUR {cents // 100:,}"


def _items(sections: Mapping[str, Any], section: str, key: str, identity: str) -> dict[str, Any]:
    raw = sections.get(section)
    items = raw.get(key) if isinstance(raw, Mapping) else None
    if not isinstance(items, list):
        return {}
    return {str(item.get(identity, f"#{i}")): item for i, item in enumerate(items) if isinstance(item, Mapping)}


def _keyed_changes(before: dict[str, Any], after: dict[str, Any], label: str) -> list[str]:
    changes = [f"The {label} {k!r} is added." for k in after if k not in before]
    changes += [f"The {label} {k!r} is removed." for k in before if k not in after]
    for key in (k for k in after if k in before and after[k] != before[k]):
        fields = sorted(f for f in set(before[key]) | set(after[key]) if before[key].get(f) != after[key].get(f))
        changes.append(
            f"The {label} {key!r} changes: "
            + ", ".join(f"{f} {_short(before[key].get(f))} → {_short(after[key].get(f))}" for f in fields)
            + "."
        )
    return changes


def _section_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Other sections, told per top-level key (the keyed lists are told above)."""
    told = {(section, key) for section, key, _, _ in KEYED_LISTS}
    changes = []
    for section in sorted(set(before) | set(after)):
        if section not in before:
            changes.append(f"The [{section}] section is added.")
        elif section not in after:
            changes.append(f"The [{section}] section is removed.")
        elif isinstance(before[section], Mapping) and isinstance(after[section], Mapping):
            keys = sorted(set(before[section]) | set(after[section]))
            for key in (k for k in keys if (section, k) not in told):
                if before[section].get(key) != after[section].get(key):
                    changes.append(
                        f"[{section}] {key}: {_short(before[section].get(key))} → {_short(after[section].get(key))}."
                    )
        elif before[section] != after[section]:
            changes.append(f"The [{section}] section changes.")
    return changes


def _short(value: Any, limit: int = 80) -> str:
    text = "absent" if value is None else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def outline(config: ChallengeConfig) -> dict[str, Any]:
    """The structured summary of a configuration shown beside the editor."""
    sections = config.sections
    return {
        "phases": list(config.phases),
        "prize": config.prize,
        "tasks": list(_items(sections, "benchmark", "tasks", "name").values()),
        "rubric": list(_items(sections, "scoring", "rubric", "id").values()),
        "clusters": sorted(sections.get("clusters", {}) if isinstance(sections.get("clusters"), Mapping) else []),
        "rules": list(_rules(sections)),
        "evaluation": dict(sections.get("evaluation", {})) if isinstance(sections.get("evaluation"), Mapping) else {},
    }


def _rules(sections: Mapping[str, Any]) -> Iterable[str]:
    eligibility = sections.get("eligibility")
    rules = eligibility.get("rules", []) if isinstance(eligibility, Mapping) else []
    return (str(r) for r in rules) if isinstance(rules, list) else ()
