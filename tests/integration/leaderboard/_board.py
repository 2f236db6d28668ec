"""The leaderboard tests' challenge: a three-task suite (one hidden) whose phases run around today. The
`board` fixture builds its entries with `tests.factories.World`."""

from __future__ import annotations

from datetime import datetime, timedelta

from scoring.config import DEFAULT_2024_TOML

SLUG = "board-test"
HIDDEN = "zanzibar_secretqa"  # a name that appears nowhere else, so leak checks can search for it


def config_text(now: datetime, *, ended: bool = False) -> str:
    """A challenge whose last phase ends in 30 days (or ended yesterday), with a hidden task."""
    start = now - timedelta(days=60)
    end = now - timedelta(days=1) if ended else now + timedelta(days=30)
    iso = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return (
        f"""
[challenge]
slug = "{SLUG}"
name = "Board Test Challenge"
call_date = {start.date().isoformat()}

[[phases]]
key = "submission"
name = "Submission"
starts = {iso(start)}
ends = {iso(end)}

[prize]
pool_eur = 1000
max_winners = 1
policy = "fixed"
per_winner_eur = 1000
gpu_hours_per_winner = 0

[[benchmark.tasks]]
name = "arc_easy"
metric = "acc_norm"
baseline = 0.25

[[benchmark.tasks]]
name = "boolq"
metric = "acc"
baseline = 0.5

[[benchmark.tasks]]
name = "{HIDDEN}"
metric = "acc"
baseline = 0.25
hidden = true
"""
        + DEFAULT_2024_TOML
    )
