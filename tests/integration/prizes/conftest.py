"""Prize fixtures: a challenge with a one-task suite and a two-winner prize, and `World`, which inserts the
award's inputs directly (teams, eligibility, accepted submissions, finished evaluations and results, judges'
sheets, the judging lock and the board freeze), the way the other features would have left them.

Final score = 0.6 x benchmark + 0.4 x judges. Every entry gets the same judges' sheet, so the order follows
the benchmark: arc (chance 0.25) raw 0.85 -> 0.80, 0.70 -> 0.60, 0.55 -> 0.40, 0.40 -> 0.20.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from app.accounts.models import Role
from scoring.config import DEFAULT_2024_TOML

SLUG = "prize-test"
PASSWORD = "correct-horse-battery"
SHEET = {"technical_excellence": 7, "european_languages_and_impact": 7, "responsible_ai": 7,
         "feasibility_of_plan": 7, "openness": 7}
NOW = datetime.now(timezone.utc)


def config_text(*, entry_id_tie_break: bool = True) -> str:
    """Two winners of EUR 500,000 each (fixed), 1,000 LUMI and 600 LEONARDO GPU hours to share."""
    iso = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    scoring = DEFAULT_2024_TOML
    if not entry_id_tie_break:
        scoring = scoring.replace("tie_break_by_entry_id = true", "tie_break_by_entry_id = false")
    return f"""
[challenge]
slug = "{SLUG}"
name = "Prize Test Challenge"
call_date = {(NOW - timedelta(days=90)).date().isoformat()}

[[phases]]
key = "award"
name = "Award"
starts = {iso(NOW - timedelta(days=60))}
ends = {iso(NOW + timedelta(days=30))}

[prize]
pool_eur = 1_000_000
max_winners = 2
policy = "fixed"
per_winner_eur = 500_000
gpu_hours_per_winner = 0

[prize.compute_hours]
lumi = 1_000
leonardo = 600

[licence]
release_deadline_days = 30

[[benchmark.tasks]]
name = "arc"
metric = "acc_norm"
baseline = 0.25
""" + scoring


@dataclass
class World:
    """Inserts the award's inputs straight into the tables of the features that own them."""

    db: object
    challenge_id: int
    user_id: int
    judge_id: int
    organiser_id: int

    def entry(self, name: str, arc: float, *, eligible: str = "eligible", licence: str | None = "pass",
              baseline: bool = False, judged: bool = True) -> int:
        """A team with an eligibility verdict, one accepted submission, one finished evaluation and a sheet."""
        from app.checkpoints.models import Submission, SubmissionStatus
        from app.teams.models import Team
        from evaluation.models import Evaluation, EvaluationState, TaskResult

        with self.db() as session:
            team = Team(challenge_id=self.challenge_id, name=name, is_baseline=baseline)
            session.add(team)
            session.flush()
            sub = Submission(challenge_id=self.challenge_id, team_id=team.id, submitted_by_id=self.user_id,
                             label=f"{name} v1", source="hub", status=SubmissionStatus.accepted,
                             accepted_at=NOW - timedelta(days=10), licence_verdict=licence)
            session.add(sub)
            session.flush()
            ev = Evaluation(challenge_id=self.challenge_id, team_id=team.id, submission_id=sub.id,
                            state=EvaluationState.finished, cluster="lumi", finished_at=NOW - timedelta(days=9))
            session.add(ev)
            session.flush()
            session.add(TaskResult(evaluation_id=ev.id, task="arc", metric="acc_norm", value=arc, stderr=0.01))
            if not baseline:
                self._eligibility(session, team.id, eligible)
                if judged:
                    self._sheet(session, team.id)
            return team.id

    def _eligibility(self, session, team_id: int, status: str) -> None:
        from app.eligibility.models import EligibilityApplication

        checks = [] if status == "eligible" else [{"rule": "sme", "outcome": "fail",
                                                   "reason": "The company is not an SME."}]
        session.add(EligibilityApplication(team_id=team_id, challenge_id=self.challenge_id, version=1,
                                           document={}, verdict={"status": status, "checks": checks},
                                           status=status, submitted_by=self.user_id))

    def _sheet(self, session, team_id: int) -> None:
        from app.judging.models import RubricScoreSheet

        session.add(RubricScoreSheet(challenge_id=self.challenge_id, judge_id=self.judge_id, team_id=team_id,
                                     scores=dict(SHEET)))

    def lock_judging(self) -> None:
        from app.judging.models import JudgingLock

        with self.db() as session:
            session.add(JudgingLock(challenge_id=self.challenge_id, locked_by=self.organiser_id))

    def freeze(self) -> None:
        from leaderboard.models import LeaderboardFreeze

        with self.db() as session:
            session.add(LeaderboardFreeze(challenge_id=self.challenge_id, frozen_at=NOW - timedelta(hours=1),
                                          frozen_by_id=self.organiser_id, reason="final ranking"))

    def settle(self) -> None:
        """Judging locked and the board frozen: the preview's preconditions."""
        self.lock_judging()
        self.freeze()

    def overdue(self, team_id: int) -> None:
        """Make the team's release obligation overdue (as the scheduler's licence step would)."""
        from sqlmodel import select

        from app.licences.models import ObligationStatus, ReleaseObligation

        with self.db() as session:
            for obligation in session.exec(select(ReleaseObligation).where(ReleaseObligation.team_id == team_id)):
                obligation.status, obligation.deadline = ObligationStatus.overdue, NOW - timedelta(days=1)
                session.add(obligation)


def load_challenge(db, **kwargs) -> int:
    from app.challenges.services import load_config_text

    with db() as session:
        return load_config_text(session, config_text(**kwargs)).id


@pytest.fixture
def people(make_user) -> dict[str, int]:
    return {"organiser": make_user("olga@example.eu", Role.organiser),
            "judge": make_user("jonas@example.eu", Role.judge),
            "entrant": make_user("aino@example.eu", Role.entrant)}


@pytest.fixture
def world(db, people) -> World:
    return World(db, load_challenge(db), people["entrant"], people["judge"], people["organiser"])


@pytest.fixture
def four_entries(world) -> dict[str, int]:
    """Aurora 0.80, Baltic 0.60 (benchmark), a baseline 0.70 and Iberia 0.40; all eligible, licences pass."""
    return {"Aurora": world.entry("Aurora", 0.85), "Reference": world.entry("Reference", 0.775, baseline=True),
            "Baltic": world.entry("Baltic", 0.70), "Iberia": world.entry("Iberia", 0.55)}

