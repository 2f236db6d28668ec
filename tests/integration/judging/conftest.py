"""Judging fixtures: a challenge with a benchmark suite, two entries and a baseline with finished
evaluations (rows inserted directly), two judges, an organiser, and the entrants of both teams.

Hand-computed normalised scores, (raw - chance) / (1 - chance):
  arc    (chance 0.25): A 0.55 -> 0.40, B 0.52 -> 0.36, baseline 0.40 -> 0.20; stderr 0.01 -> 0.01333
  boolq  (chance 0.50): A 0.70 -> 0.40, B 0.72 -> 0.44; stderr 0.02 -> 0.04, so A and B are within
         their combined error sqrt(0.04^2 + 0.04^2) = 0.0566 of each other: a statistical tie
  secret (chance 0, hidden): A 0.30, B 0.30, an exact tie: both rank 1
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.accounts.models import Role
from tests import factories
from tests.factories import IN_2024_REGISTRATION, SHEET

BENCHMARK = """
[benchmark]
[[benchmark.tasks]]
name = "arc"
metric = "acc_norm"
baseline = 0.25
[[benchmark.tasks]]
name = "boolq"
metric = "acc"
baseline = 0.5
[[benchmark.tasks]]
name = "secret"
metric = "acc"
baseline = 0.0
hidden = true
"""
RESULTS = {
    "Alpha": {"arc": (0.55, 0.01), "boolq": (0.70, 0.02), "secret": (0.30, None)},
    "Bravo": {"arc": (0.52, 0.01), "boolq": (0.72, 0.02), "secret": (0.30, None)},
    "Baseline": {"arc": (0.40, 0.01), "boolq": (0.50, 0.02)},
}
# Each entry's accepted submission and finished evaluation, as the intake and the ingest leave them.
SUBMISSION = {
    "parameters": 1_234_567_890,
    "total_bytes": 2_469_135_780,
    "dtypes": {"bfloat16": 1_234_567_890},
    "manifest": [{"name": "model.safetensors", "bytes": 2_469_135_780, "sha256": "ab" * 32}],
    "licence_verdict": "pass",
    "licence_id": "apache-2.0",
    "licence_reasons": ["Apache-2.0 is open."],
}
EVALUATION = {
    "cluster": "leonardo",
    "job_id": "4242",
    "gpu_hours": 3.5,
    "provenance": {"lm_eval_version": "0.4.8", "task_hashes": {"arc": "feedc0de" * 4}},
}


def _without_benchmark(text: str) -> str:
    """The configuration without its `[benchmark]` tables, so the tests control the suite."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.split("#")[0].strip().strip("[]").startswith("benchmark")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _evaluate(session, challenge, team, user_id, results) -> None:
    submission = factories.submission(session, challenge.id, team.id, user_id, label=f"{team.name} v1", **SUBMISSION)
    factories.evaluation(
        session, submission, results, task_hashes={t: f"hash-{t}" for t in results if t != "arc"}, **EVALUATION
    )


@pytest.fixture
def field(db, make_user):
    """The judging world; returns ids, e-mails and the slug."""
    from app.challenges.services import load_config_text

    ids = {
        name: make_user(f"{name}@example.eu", role)
        for name, role in (
            ("j1", Role.judge),
            ("j2", Role.judge),
            ("j3", Role.judge),
            ("org", Role.organiser),
            ("alice", Role.entrant),
            ("bob", Role.entrant),
        )
    }
    with db() as session:
        challenge = load_config_text(session, _without_benchmark(factories.bundled_text()) + BENCHMARK)
        # The 2024 phases are over: the teams registered back then, during its registration phase.
        team_a = factories.registered_team(session, ids["alice"], challenge, "Alpha", now=IN_2024_REGISTRATION)
        team_b = factories.registered_team(session, ids["bob"], challenge, "Bravo", now=IN_2024_REGISTRATION)
        baseline = factories.team(session, challenge.id, "Baseline", baseline=True)
        for team in (team_a, team_b, baseline):
            _evaluate(session, challenge, team, ids["org"], RESULTS[team.name])
        return SimpleNamespace(
            slug=challenge.slug, challenge_id=challenge.id, a=team_a.id, b=team_b.id, baseline=baseline.id, users=ids
        )


@pytest.fixture
def judging(db, field):
    """Helpers acting through the services: assign, sheet, conflict, lock (each committed)."""
    from app.accounts.models import User
    from app.challenges.models import Challenge
    from app.judging import services

    def act(fn, *args, judge=None, **kwargs):
        with db() as session:
            challenge = session.get(Challenge, field.challenge_id)
            if judge is not None:
                args = (session.get(User, field.users[judge]), *args)
            return fn(session, challenge, *args, **kwargs)

    return SimpleNamespace(
        assign=lambda judge, team: act(services.assign_judge, team, judge=judge, actor_id=field.users["org"]),
        sheet=lambda judge, team, scores=SHEET, notes="": act(services.submit_sheet, team, scores, notes, judge=judge),
        conflict=lambda judge, team, reason="advisor": act(services.declare_conflict, team, reason, judge=judge),
        lock=lambda: act(services.finalise, actor_id=field.users["org"]),
        publish=lambda: act(services.publish, actor_id=field.users["org"]),
        scores=lambda **kw: act(services.judges_scores, **kw),
        state=lambda: act(services.judging_state),
    )
