"""World builders for every test tier: challenges, people, teams, eligibility, submissions, evaluations and
their task results, judges' sheets, the judging lock and the board freeze, and checkpoint files.

Each builder takes an open session first and keyword overrides after; its defaults are what the platform
would have left (an accepted submission has its `accepted_at` and a licence verdict, a finished evaluation its
`finished_at`). What a test needs to *behave* is made through the features' own services (`user`,
`registered_team`, `eligible`, `open_challenge`); what a test only needs to *exist* is inserted as a row, the
way the owning feature would have left it. `World` binds one challenge and its people to a session factory
(the `db` fixture, or `lambda: session_scope(engine)` for a running server) for tests that add many entries.

Test modules import this module (`from tests.factories import World`); they never import a conftest module.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np
from safetensors.numpy import save
from sqlmodel import Session, select

import app.models  # noqa: F401  (every table, so the foreign keys resolve wherever this module is used)
from app.accounts.models import Role, User
from app.accounts.services import create_user
from app.accounts.totp import demo_secret
from app.accounts.twofactor import enrol_with_secret, requires_second_factor
from app.challenges.models import Challenge
from app.challenges.services import get_challenge, load_config_file, load_config_text
from app.checkpoints.models import Submission, SubmissionSource, SubmissionStatus
from app.db import utcnow
from app.eligibility.models import EligibilityApplication
from app.eligibility.services import confirm_experience, rules_for, submit_application
from app.judging.models import JudgeAssignment, JudgingLock, RubricScoreSheet
from app.settings import BUNDLED_CHALLENGES
from app.teams.models import Team, TeamMembership
from app.teams.services import register_team
from evaluation.models import Evaluation, EvaluationState, LeaderboardFreeze, TaskResult
from scoring.config import DEFAULT_2024_TOML

PASSWORD = "correct-horse-battery"
NOW = datetime.now(timezone.utc)  # the moment this test run's prize worlds are built around
# A moment inside the bundled 2024 challenge's registration phase, for setting up its (closed) history through
# the services: `registered_team(..., now=IN_2024_REGISTRATION)`.
IN_2024_REGISTRATION = datetime(2023, 12, 1, tzinfo=timezone.utc)
BUNDLED_2024 = "lagc-2024.toml"
APPLICATION = {  # a valid eligibility application (an SME; its experience needs an organiser's confirmation)
    "legal_name": "Aurora Language Labs Oy",
    "country": "FI",
    "founded_on": "2021-05-10",
    "staff_headcount": 24,
    "annual_turnover_eur": 1_800_000,
    "balance_sheet_total_eur": 2_500_000,
    "accounts_approved": True,
    "previous_period": None,
    "partner_enterprises": [],
    "linked_enterprises": [],
    "public_bodies_control_percent": 0,
    "responsible_ai_commitment": True,
    "large_scale_ai_experience": "We trained a 13B Finnish-English model on LUMI in 2023.",
    "planned_model": {"parameters": 34_000_000_000, "from_scratch": True},
}
SHEET = {
    "technical_excellence": 7,
    "european_languages_and_impact": 8,
    "responsible_ai": 6,
    "feasibility_of_plan": 7,
    "openness": 9,
}
ISO = "%Y-%m-%dT%H:%M:%SZ"

# ---------------------------------------------------------------------------------------------- challenges


def bundled_text(name: str = BUNDLED_2024, *, slug: str | None = None) -> str:
    """A bundled challenge configuration's text, under another slug if given."""
    text = (BUNDLED_CHALLENGES / name).read_text(encoding="utf-8")
    return text if slug is None else re.sub(r'(?m)^slug = "[^"]*"', f'slug = "{slug}"', text, count=1)


def open_config_text(text: str, now: datetime | None = None) -> str:
    """A challenge configuration with its phases replaced by ones around `now` (default: the present), so
    the tests can act as entrants: the running phase allows registering, applying and submitting (`allows`);
    submission, evaluation, judging and the award follow, a month each (the award a year)."""
    from app.demo import without_sections

    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    spans = (
        ("registration", "Registration, eligibility and submission", -30, 30, '["register", "apply", "submit"]'),
        ("submission", "Checkpoint submission", 30, 60, None),
        ("evaluation", "Evaluation", 60, 90, None),
        ("judging", "Judging", 90, 120, None),
        ("award", "Award and release", 120, 485, None),
    )
    iso = lambda days: (now + timedelta(days=days)).strftime(ISO)  # noqa: E731
    phases = "".join(
        f'\n[[phases]]\nkey = "{key}"\nname = "{name}"\nstarts = {iso(a)}\nends = {iso(b)}\n'
        + (f"allows = {allows}\n" if allows else "")
        for key, name, a, b, allows in spans
    )
    return without_sections(text, ("phases",)).rstrip("\n") + "\n" + phases


def open_challenge(session: Session, text: str | None = None, *, now: datetime | None = None) -> Challenge:
    """A challenge (the bundled 2024 rules unless `text`) with its phases open for entrants around `now`."""
    return load_config_text(session, open_config_text(text or bundled_text(), now))


def closed_challenge(session: Session) -> Challenge:
    """The bundled 2024 challenge as it is: every phase is over, so entrants' actions are refused."""
    return load_config_file(session, BUNDLED_CHALLENGES / BUNDLED_2024)


# ------------------------------------------------------------------------------------------ people, teams


def user(
    session: Session,
    email: str,
    role: Role = Role.entrant,
    *,
    password: str = PASSWORD,
    name: str | None = None,
    secret_key: str | None = None,
) -> User:
    """An account made by the accounts service. Given the application's `secret_key`, an organiser or judge
    is enrolled with an authenticator whose secret is the demo secret of their e-mail."""
    made = create_user(session, email, password, name or email.split("@")[0], role)
    if secret_key is not None and requires_second_factor(made):
        enrol_with_secret(session, made, demo_secret(email), secret_key)
    return made


def registered_team(
    session: Session,
    owner: User | int,
    challenge: Challenge | str,
    name: str,
    *,
    now: datetime | None = None,
    members: Iterable[int] = (),
) -> Team:
    """A team registered by the teams service (while the challenge's phases allow it at `now`), owned by
    `owner` (a user or an id) in `challenge` (or its slug); `members` are more users' ids."""
    owner = session.get(User, owner) if isinstance(owner, int) else owner
    challenge = get_challenge(session, challenge) if isinstance(challenge, str) else challenge
    made = register_team(session, owner, challenge, name, now=now)
    for member in members:
        session.add(TeamMembership(team_id=made.id, user_id=member, challenge_id=challenge.id))
    return made


def team(session: Session, challenge_id: int, name: str, *, baseline: bool = False) -> Team:
    """A team row without members: a baseline, or a team whose people the test does not need."""
    made = Team(challenge_id=challenge_id, name=name, is_baseline=baseline)
    session.add(made)
    session.flush()
    return made


def team_named(session: Session, name: str) -> Team:
    """The one team called `name` (for worlds added to a running platform's demo)."""
    return session.exec(select(Team).where(Team.name == name)).one()


def eligible(
    session: Session,
    team: Team,
    owner: User,
    organiser: User,
    *,
    document: dict | None = None,
    now: datetime | None = None,
) -> EligibilityApplication:
    """The team's application (`APPLICATION` unless `document`) sent through the eligibility service at `now`,
    and its experience evidence confirmed by `organiser`: the team is eligible."""
    challenge = session.get(Challenge, team.challenge_id)
    application = submit_application(session, team, owner, dict(document or APPLICATION), rules_for(challenge), now=now)
    session.flush()
    confirm_experience(session, application, organiser)
    return application


def eligibility_verdict(
    session: Session, challenge_id: int, team_id: int, user_id: int, status: str = "eligible"
) -> EligibilityApplication:
    """An application row carrying only its verdict (`eligible`, `ineligible`, ...), as the feature leaves it."""
    checks = (
        [] if status == "eligible" else [{"rule": "sme", "outcome": "fail", "reason": "The company is not an SME."}]
    )
    row = EligibilityApplication(
        team_id=team_id,
        challenge_id=challenge_id,
        version=1,
        document={},
        verdict={"status": status, "checks": checks},
        status=status,
        submitted_by=user_id,
    )
    session.add(row)
    return row


# ------------------------------------------------------------------------- submissions and evaluations


def submission(
    session: Session, challenge_id: int, team_id: int, user_id: int, *, label: str = "model v1", **columns
) -> Submission:
    """A submission row as the intake leaves an accepted one (upload, 7B parameters, licence `pass`,
    `accepted_at` now); any column can be overridden (`status=SubmissionStatus.validating`, `parameters=None`)."""
    values = {
        "source": SubmissionSource.upload,
        "status": SubmissionStatus.accepted,
        "parameters": 7_000_000_000,
        "licence_verdict": "pass",
        **columns,
    }
    if values["status"] == SubmissionStatus.accepted:
        values.setdefault("accepted_at", utcnow())
    row = Submission(challenge_id=challenge_id, team_id=team_id, submitted_by_id=user_id, label=label, **values)
    session.add(row)
    session.flush()
    return row


def evaluation(
    session: Session,
    of: Submission,
    results: dict | None = None,
    *,
    metric: str = "acc",
    task_hashes: dict | None = None,
    **columns,
) -> Evaluation:
    """An evaluation of the submission `of`, finished now on `lumi` unless the columns say otherwise, with a
    task result per entry of `results` ({task: (value, stderr)}, all in `metric`)."""
    values = {"state": EvaluationState.finished, "cluster": "lumi", **columns}
    if values["state"] == EvaluationState.finished:
        values.setdefault("finished_at", utcnow())
    row = Evaluation(challenge_id=of.challenge_id, team_id=of.team_id, submission_id=of.id, **values)
    session.add(row)
    session.flush()
    task_results(session, row.id, results or {}, metric=metric, task_hashes=task_hashes)
    return row


def task_results(
    session: Session, evaluation_id: int, results: dict, *, metric: str = "acc", task_hashes: dict | None = None
) -> None:
    """One TaskResult per task: `results` is {task: (value, stderr)}; `task_hashes` {task: hash} if any."""
    for task, (value, stderr) in results.items():
        session.add(
            TaskResult(
                evaluation_id=evaluation_id,
                task=task,
                metric=metric,
                value=value,
                stderr=stderr,
                task_hash=(task_hashes or {}).get(task),
            )
        )


LM_EVAL_STAMP = "2026-03-04T05-06-07.000001"


def lm_eval_output(folder: Path, items: dict, *, task_hash: str = "h", documents: str = "d") -> Path:
    """An lm-eval output folder as `--log_samples` leaves it: `items` maps a task to (its metric key, e.g.
    `acc_norm,none`, and the per-item values, doc ids 0..n-1); each item's document and target hashes are its
    doc id's (prefixed by `documents`), so runs of the same task pair item by item."""
    folder.mkdir(parents=True, exist_ok=True)
    results, hashes = {}, {}
    for task, (key, values) in items.items():
        results[task] = {key: sum(values) / len(values), key.replace(",", "_stderr,", 1): 0.01}
        hashes[task] = f"{task_hash}-{task}"
        metric, _, filter_name = key.partition(",")
        (folder / f"samples_{task}_{LM_EVAL_STAMP}.jsonl").write_text(
            "".join(
                json.dumps(
                    {
                        "doc_id": i,
                        "filter": filter_name,
                        metric: v,
                        "doc_hash": f"{documents}{i}",
                        "target_hash": "t",
                        "prompt_hash": "p",
                    }
                )
                + "\n"
                for i, v in enumerate(values)
            )
        )
    (folder / f"results_{LM_EVAL_STAMP}.json").write_text(
        json.dumps({"results": results, "task_hashes": hashes, "config": {"model": "hf"}})
    )
    return folder


def kept_samples(
    session: Session, evaluation_id: int, storage_dir: Path, items: dict, output: Path | None = None, **folder
) -> Evaluation:
    """Keep per-item results for an evaluation as the scheduler does (`evaluation.archive.keep` into the
    storage, `provenance["kept"]`, each suite task in `request["tasks"]`): `items` as `lm_eval_output` takes
    them (`folder`: `lm_eval_output`'s options), or the lm-eval output folder `output` of a real run (then
    `items` maps a task to its metric)."""
    from evaluation.archive import keep

    row = session.get(Evaluation, evaluation_id)
    if output is None:
        output = lm_eval_output(Path(storage_dir) / "lm-eval-output" / str(evaluation_id), items, **folder)
        metrics = {task: key.split(",")[0] for task, (key, _) in items.items()}
    else:
        metrics = dict(items)
    kept = keep([output], storage_dir, evaluation_id)
    row.provenance = {**(row.provenance or {}), "kept": kept}
    row.request = {
        **(row.request or {}),
        "tasks": [{"name": task, "lm_eval_task": task, "metric": metric} for task, metric in metrics.items()],
    }
    session.add(row)
    session.flush()
    return row


def pin(folder: Path, model: Path | None = None) -> Path:
    """A submission's pinned checkpoint folder (`storage.submission_dir(id)`), holding a copy of `model` or a
    stand-in `config.json`."""
    if model is not None:
        shutil.copytree(model, folder)
    else:
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    return folder


# ------------------------------------------------------------------------------- judging and the board


def assignment(session: Session, challenge_id: int, judge_id: int, team_id: int) -> JudgeAssignment:
    row = JudgeAssignment(challenge_id=challenge_id, judge_id=judge_id, team_id=team_id)
    session.add(row)
    return row


def sheet(
    session: Session, challenge_id: int, judge_id: int, team_id: int, scores: dict | None = None, notes: str = ""
) -> RubricScoreSheet:
    """A judge's submitted score sheet (`SHEET` unless `scores`), as the judging feature stores one."""
    row = RubricScoreSheet(
        challenge_id=challenge_id,
        judge_id=judge_id,
        team_id=team_id,
        scores=dict(SHEET if scores is None else scores),
        notes=notes,
    )
    session.add(row)
    return row


def judging_lock(
    session: Session, challenge_id: int, organiser_id: int, *, published_at: datetime | None = None
) -> JudgingLock:
    """Judging locked by the organiser (and published at `published_at`, when given)."""
    row = JudgingLock(
        challenge_id=challenge_id,
        locked_by=organiser_id,
        published_at=published_at,
        published_by=organiser_id if published_at else None,
    )
    session.add(row)
    return row


def freeze(
    session: Session,
    challenge_id: int,
    organiser_id: int,
    *,
    frozen_at: datetime | None = None,
    reason: str = "final ranking",
) -> LeaderboardFreeze:
    """The board frozen at `frozen_at` (default: now)."""
    row = LeaderboardFreeze(
        challenge_id=challenge_id, frozen_at=frozen_at or utcnow(), frozen_by_id=organiser_id, reason=reason
    )
    session.add(row)
    return row


# ------------------------------------------------------------------------------------------------ World

_SUBMISSION_COLUMNS = set(Submission.model_fields)


@dataclass
class World:
    """One challenge's rows, each call in its own committed block of `db()`; ids in, ids out.
    `submission_defaults` and `evaluation_defaults` override the factories' defaults for this world."""

    db: Callable
    challenge_id: int
    user_id: int  # the entrant who submits
    judge_id: Optional[int] = None
    organiser_id: Optional[int] = None
    submission_defaults: dict = field(default_factory=dict)
    evaluation_defaults: dict = field(default_factory=dict)

    def team(self, name: str, baseline: bool = False) -> int:
        with self.db() as session:
            return team(session, self.challenge_id, name, baseline=baseline).id

    def submission(self, team_id: int, label: str, *, licence: str | None = "pass", **columns) -> int:
        """An accepted submission (`licence`: its verdict)."""
        with self.db() as session:
            return submission(
                session,
                self.challenge_id,
                team_id,
                self.user_id,
                label=label,
                **{**self.submission_defaults, "licence_verdict": licence, **columns},
            ).id

    def evaluation(self, team_id: int, submission_id: int, results: dict, **columns) -> int:
        """An evaluation of the team's submission with `results` ({task: (value, stderr)}); finished unless
        `state` says otherwise."""
        with self.db() as session:
            of = session.get(Submission, submission_id)
            assert of.team_id == team_id, "the submission is another team's"
            return evaluation(session, of, results, **{**self.evaluation_defaults, **columns}).id

    def entry(
        self,
        name: str,
        results: dict,
        *,
        baseline: bool = False,
        eligible: str | None = None,
        judged: bool = False,
        scores: dict | None = None,
        label: str | None = None,
        **columns,
    ) -> int:
        """A team with one accepted submission and one finished evaluation of `results`; with `eligible`, an
        eligibility verdict; when `judged`, the world's judge's sheet. Submission columns (`licence`,
        `parameters`, `accepted_at`) and evaluation columns (`cluster`, `finished_at`, `metric`) go by name."""
        team_id = self.team(name, baseline=baseline)
        on_submission = {k: columns.pop(k) for k in list(columns) if k in _SUBMISSION_COLUMNS | {"licence"}}
        submission_id = self.submission(team_id, label or f"{name} model", **on_submission)
        self.evaluation(team_id, submission_id, results, **columns)
        with self.db() as session:
            if eligible is not None:
                eligibility_verdict(session, self.challenge_id, team_id, self.user_id, eligible)
            if judged:
                sheet(session, self.challenge_id, self.judge_id, team_id, scores)
        return team_id

    def refresh(self, storage_dir: Path | None = None) -> None:
        """Run the scheduler's leaderboard step, the only writer of snapshots (a request never computes one);
        with `storage_dir` (where kept samples are), the rows' paired comparisons too."""
        from leaderboard.services import refresh_all

        with self.db() as session:
            refresh_all(session, storage_dir=storage_dir)

    def lock_judging(self) -> None:
        with self.db() as session:
            judging_lock(session, self.challenge_id, self.organiser_id)

    def publish_judging(self) -> None:
        """The judges' scores published (judging locked first, when it is not)."""
        with self.db() as session:
            lock = session.exec(select(JudgingLock).where(JudgingLock.challenge_id == self.challenge_id)).first()
            if lock is None:
                judging_lock(session, self.challenge_id, self.organiser_id, published_at=utcnow())
            else:
                lock.published_at, lock.published_by = utcnow(), self.organiser_id
                session.add(lock)

    def freeze(self, frozen_at: datetime | None = None) -> None:
        with self.db() as session:
            freeze(session, self.challenge_id, self.organiser_id, frozen_at=frozen_at)

    def settle(self, frozen_at: datetime | None = None) -> None:
        """Judging locked and the board frozen: the prize preview's preconditions."""
        self.lock_judging()
        self.freeze(frozen_at)


# ------------------------------------------------------------------------- the prize test challenge

PRIZE_SLUG = "prize-test"
PRIZE_SHEET = {
    "technical_excellence": 7,
    "european_languages_and_impact": 7,
    "responsible_ai": 7,
    "feasibility_of_plan": 7,
    "openness": 7,
}  # the same for every entry: the benchmark decides


def prize_config_text(*, entry_id_tie_break: bool = True) -> str:
    """Award phase now; two winners of EUR 500,000 each (fixed), 1,000 LUMI and 600 LEONARDO GPU hours to
    share; a one-task suite (arc, chance 0.25); final score = 0.6 x benchmark + 0.4 x judges."""
    scoring = DEFAULT_2024_TOML
    if not entry_id_tie_break:
        scoring = scoring.replace("tie_break_by_entry_id = true", "tie_break_by_entry_id = false")
    return (
        f"""
[challenge]
slug = "{PRIZE_SLUG}"
name = "Prize Test Challenge"
call_date = {(NOW - timedelta(days=90)).date().isoformat()}

[[phases]]
key = "award"
name = "Award"
starts = {(NOW - timedelta(days=60)).strftime(ISO)}
ends = {(NOW + timedelta(days=30)).strftime(ISO)}

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
"""
        + scoring
    )


class PrizeWorld(World):
    """The award's inputs on the prize test challenge, inserted as the other features would have left them:
    accepted ten days before `NOW`, evaluated nine days before, judged, and frozen an hour before."""

    def entry(
        self,
        name: str,
        arc: float,
        *,
        eligible: str = "eligible",
        licence: str | None = "pass",
        baseline: bool = False,
        judged: bool = True,
    ) -> int:
        """A team with an eligibility verdict, one accepted submission, one finished evaluation scoring `arc`
        (raw acc_norm; chance 0.25) and the judge's sheet (baselines neither apply nor get judged)."""
        return super().entry(
            name,
            {"arc": (arc, 0.01)},
            baseline=baseline,
            label=f"{name} v1",
            eligible=None if baseline else eligible,
            judged=judged and not baseline,
            scores=PRIZE_SHEET,
            licence=licence,
            metric="acc_norm",
        )

    def settle(self, frozen_at: datetime | None = None) -> None:
        super().settle(frozen_at or NOW - timedelta(hours=1))

    def overdue(self, team_id: int) -> None:
        """Make the team's release obligation overdue (as the scheduler's licence step would)."""
        from app.licences.models import ObligationStatus, ReleaseObligation

        with self.db() as session:
            for obligation in session.exec(select(ReleaseObligation).where(ReleaseObligation.team_id == team_id)):
                obligation.status, obligation.deadline = ObligationStatus.overdue, NOW - timedelta(days=1)
                session.add(obligation)


def prize_world(db: Callable, people: dict[str, int], **config) -> PrizeWorld:
    """The prize test challenge loaded (`config`: `prize_config_text`'s options) and bound to the ids of
    `people["entrant"]`, `people["judge"]` and `people["organiser"]`."""
    with db() as session:
        challenge_id = load_config_text(session, prize_config_text(**config)).id
    return PrizeWorld(
        db,
        challenge_id,
        people["entrant"],
        people["judge"],
        people["organiser"],
        submission_defaults={"source": SubmissionSource.hub, "accepted_at": NOW - timedelta(days=10)},
        evaluation_defaults={"finished_at": NOW - timedelta(days=9)},
    )


# ---------------------------------------------------------------------------------------- checkpoint files

CHECKPOINT_CONFIG = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 4}
MIT_LICENSE = (Path(__file__).parent / "unit" / "licences" / "data" / "LICENSE-mit-markdown.md").read_bytes()


def checkpoint_files(seed: int = 0) -> dict[str, bytes]:
    """A sound one-file checkpoint (GPT-2 layout, 28 parameters) as name -> bytes."""
    rng = np.random.default_rng(seed)
    weights = save(
        {"wte.weight": rng.standard_normal((4, 4), dtype=np.float32), "ln_f.weight": np.ones(12, dtype=np.float32)},
        metadata={"format": "pt"},
    )
    return {
        "config.json": json.dumps(CHECKPOINT_CONFIG).encode(),
        "tokenizer.json": b'{"version": "1.0"}',
        "README.md": b"---\nlicense: apache-2.0\n---\n# Tiny\n",
        "LICENSE": b"Apache License 2.0\n",
        "model.safetensors": weights,
    }


def model_card(front_matter: str, body: str = "# A model\n") -> bytes:
    """A README.md with the given YAML front matter."""
    return f"---\n{textwrap.dedent(front_matter).strip()}\n---\n{body}".encode()
