"""Helpers for the leaderboard tests: a challenge with a three-task suite (one hidden) whose phases run around
today, and `Board`, which inserts teams, submissions, finished evaluations and results directly."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from scoring.config import DEFAULT_2024_TOML

SLUG = "board-test"
HIDDEN = "zanzibar_secretqa"  # a name that appears nowhere else, so leak checks can search for it


def config_text(now: datetime, *, ended: bool = False) -> str:
    """A challenge whose last phase ends in 30 days (or ended yesterday), with a hidden task."""
    start = now - timedelta(days=60)
    end = now - timedelta(days=1) if ended else now + timedelta(days=30)
    iso = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return f"""
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
""" + DEFAULT_2024_TOML


@dataclass
class Board:
    """Inserts leaderboard inputs straight into the tables."""

    db: object
    challenge_id: int
    user_id: int

    def team(self, name: str, baseline: bool = False) -> int:
        from app.teams.models import Team
        with self.db() as session:
            team = Team(challenge_id=self.challenge_id, name=name, is_baseline=baseline)
            session.add(team)
            session.flush()
            return team.id

    def submission(self, team_id: int, label: str, *, parameters: int | None = 7_000_000_000,
                   licence: str | None = "pass", accepted_at: datetime | None = None) -> int:
        from app.checkpoints.models import Submission, SubmissionStatus
        with self.db() as session:
            sub = Submission(challenge_id=self.challenge_id, team_id=team_id, submitted_by_id=self.user_id,
                             label=label, source="hub", status=SubmissionStatus.accepted,
                             accepted_at=accepted_at or datetime.now(timezone.utc), parameters=parameters,
                             licence_verdict=licence)
            session.add(sub)
            session.flush()
            return sub.id

    def evaluation(self, team_id: int, submission_id: int, results: dict, *, cluster: str = "lumi",
                   finished_at: datetime | None = None) -> int:
        from evaluation.models import Evaluation, EvaluationState, TaskResult
        with self.db() as session:
            ev = Evaluation(challenge_id=self.challenge_id, team_id=team_id, submission_id=submission_id,
                            state=EvaluationState.finished, cluster=cluster,
                            finished_at=finished_at or datetime.now(timezone.utc))
            session.add(ev)
            session.flush()
            for task, (value, stderr) in results.items():
                session.add(TaskResult(evaluation_id=ev.id, task=task, metric="acc", value=value, stderr=stderr))
            return ev.id

    def entry(self, name: str, results: dict, **kwargs) -> int:
        """A team with one accepted submission and one finished evaluation; returns the team id."""
        team_id = self.team(name, baseline=kwargs.pop("baseline", False))
        sub_kwargs = {k: kwargs.pop(k) for k in ("parameters", "licence", "accepted_at") if k in kwargs}
        sub = self.submission(team_id, f"{name} model", **sub_kwargs)
        self.evaluation(team_id, sub, results, **kwargs)
        return team_id


