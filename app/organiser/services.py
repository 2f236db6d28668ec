"""The organiser console: editing a challenge's configuration with a preview, the dashboard's counts, and
baseline teams. The audit log's search lives in `auditlog.py`, the change summary in `changes.py` (pure)."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.config import ChallengeConfig, ConfigError, parse_config, parse_section
from app.challenges.models import Challenge
from app.challenges.services import config_of, get_challenge, load_config_text
from app.organiser.changes import DiffLine, summarise, unified_diff
from app.settings import BUNDLED_CHALLENGES
from app.teams.models import Team
from app.visible import hidden_character_problem

log = logging.getLogger(__name__)
TEMPLATE_FILE = BUNDLED_CHALLENGES / "lagc-2024.toml"
MAX_IMPORT_BYTES = 512 * 1024  # a configuration is a few kilobytes; anything far larger is a mistake


@dataclass
class Preview:
    """What saving `text` would do: the problems that prevent it, or the diff and the changes in words."""

    text: str
    problems: list[str] = field(default_factory=list)
    config: Optional[ChallengeConfig] = None
    diff: list[DiffLine] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def normalise_text(text: str) -> str:
    """Browsers send a textarea with CRLF line ends; the stored file uses LF."""
    return text.replace("\r\n", "\n")


def template_text() -> str:
    """The starting point of a new challenge: the 2024 configuration with a placeholder slug and name."""
    text = TEMPLATE_FILE.read_text(encoding="utf-8")
    return text.replace('slug = "lagc-2024"', 'slug = "new-challenge"', 1).replace(
        'name = "Large AI Grand Challenge 2024"', 'name = "New Grand Challenge"', 1
    )


def parse_for_preview(text: str) -> tuple[Optional[ChallengeConfig], list[str]]:
    """Parse without ever raising: the configuration, or every problem with its key."""
    try:
        return parse_config(text), []
    except ConfigError as exc:
        return None, list(exc.problems)
    except Exception as exc:  # a section parser tripping over an unexpected shape must not become a 500
        log.warning("configuration parser failed unexpectedly: %r", exc)
        return None, [f"the file could not be read: {exc}"]


def preview(existing: Optional[Challenge], text: str, taken: bool = False) -> Preview:
    """What saving `text` over `existing` (None: a new challenge) would change, or why it cannot be saved.

    `taken` says that the new file's slug already belongs to another challenge."""
    result = Preview(text=normalise_text(text))
    config, result.problems = parse_for_preview(result.text)
    if config is None:
        return result
    result.problems += _storage_problems(config)
    if existing is not None and config.slug != existing.slug:
        result.problems.append(
            f"challenge.slug cannot change for an existing challenge: keep "
            f"{existing.slug!r} (create a new challenge for {config.slug!r})"
        )
    if existing is None and taken:
        result.problems.append(f"challenge.slug {config.slug!r} is taken: edit that challenge instead")
    if result.problems:
        return result
    result.config = config
    old_text = existing.config_text if existing is not None else ""
    result.diff = unified_diff(old_text, result.text)
    result.changes = summarise(config_of(existing) if existing is not None else None, config)
    return result


def _storage_problems(config: ChallengeConfig) -> list[str]:
    """Lengths the database columns hold (parse_config does not know them)."""
    problems = [] if len(config.name) <= 200 else ["challenge.name must be at most 200 characters"]
    for i, phase in enumerate(config.phases):
        if len(phase.key) > 40 or len(phase.name) > 120:
            problems.append(f"phases[{i}]: the key must be at most 40 characters and the name at most 120")
    return problems


def preview_for(session: Session, slug: Optional[str], text: str) -> Preview:
    """The preview of `text` as the new file of challenge `slug` (None: as a new challenge)."""
    existing = get_challenge(session, slug) if slug else None
    if slug is None:
        config, _ = parse_for_preview(text)
        return preview(None, text, taken=config is not None and get_challenge(session, config.slug) is not None)
    return preview(existing, text)


def save(session: Session, slug: Optional[str], text: str, actor_id: int) -> tuple[Preview, Optional[Challenge]]:
    """Save `text` when its preview has no problems; audits the old and the new sha256. The caller commits."""
    result = preview_for(session, slug, text)
    if not result.ok:
        return result, None
    existing = get_challenge(session, slug) if slug else None
    old_sha = existing.config_sha256 if existing is not None else None
    challenge = load_config_text(session, result.text, actor_id=actor_id)
    if old_sha != challenge.config_sha256:
        record(
            session,
            "challenge.config_edited",
            "challenge",
            challenge.slug,
            actor_id=actor_id,
            challenge_id=challenge.id,
            old_sha256=old_sha,
            new_sha256=challenge.config_sha256,
            changes=result.changes[:50],
        )
    return result, challenge


def read_upload(data: bytes) -> str:
    """The text of an uploaded configuration file; ValueError when it is too large or not UTF-8."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ValueError(f"The file is larger than {MAX_IMPORT_BYTES // 1024} KiB; a configuration is a few KiB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text.") from None


# --- Dashboard: one small query per panel, each tolerant of empty tables ------------------------------------


def entry_teams(session: Session, challenge: Challenge) -> list[Team]:
    return list(
        session.exec(
            select(Team)
            .where(Team.challenge_id == challenge.id, Team.is_baseline == False)  # noqa: E712
            .order_by(Team.name)
        ).all()
    )


def applications_by_status(session: Session, challenge: Challenge) -> dict[str, int]:
    """Entry teams by eligibility status (not_applied, needs_review, eligible, ineligible)."""
    from app.eligibility.services import current_status

    return dict(Counter(current_status(session, team.id).status for team in entry_teams(session, challenge)))


def submissions_by_status(session: Session, challenge: Challenge) -> dict[str, int]:
    """Submissions by status (receiving, validating, accepted, rejected)."""
    from app.checkpoints.models import Submission

    rows = session.exec(
        select(Submission.status, func.count())
        .where(Submission.challenge_id == challenge.id)
        .group_by(Submission.status)
    ).all()
    return {_value(status): count for status, count in rows}


def evaluations_by_cluster(session: Session, challenge: Challenge) -> dict[str, dict[str, int]]:
    """{cluster: {state: count}} of the challenge's evaluations."""
    from evaluation.models import Evaluation

    rows = session.exec(
        select(Evaluation.cluster, Evaluation.state, func.count())
        .where(Evaluation.challenge_id == challenge.id)
        .group_by(Evaluation.cluster, Evaluation.state)
    ).all()
    table: dict[str, dict[str, int]] = {}
    for cluster, state, count in rows:
        table.setdefault(cluster, {})[_value(state)] = count
    return table


@dataclass(frozen=True)
class GpuUse:
    team: str
    cluster: str
    used: float
    allocation: Optional[float]  # None: no limit

    @property
    def share(self) -> Optional[float]:
        return None if not self.allocation else self.used / self.allocation


def gpu_hours_by_team(session: Session, challenge: Challenge) -> list[GpuUse]:
    """GPU-hours charged per team and cluster against the `[evaluation]` allocation (every team, baselines too)."""
    from evaluation.models import GpuCharge

    policy = _evaluation_policy(challenge)
    names = {t.id: t.name for t in session.exec(select(Team).where(Team.challenge_id == challenge.id)).all()}
    rows = session.exec(
        select(GpuCharge.team_id, GpuCharge.cluster, func.sum(GpuCharge.gpu_hours))
        .where(GpuCharge.challenge_id == challenge.id)
        .group_by(GpuCharge.team_id, GpuCharge.cluster)
    ).all()
    return sorted(
        (
            GpuUse(
                names.get(team_id, f"team {team_id}"),
                cluster,
                float(hours or 0),
                policy.allocation(cluster) if policy else None,
            )
            for team_id, cluster, hours in rows
        ),
        key=lambda u: (u.team, u.cluster),
    )


def _evaluation_policy(challenge: Challenge) -> Any:
    try:
        return parse_section(config_of(challenge), "evaluation")
    except (ValueError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class JudgeProgress:
    judge: str
    assigned: int
    submitted: int


def judges_progress(session: Session, challenge: Challenge) -> list[JudgeProgress]:
    """Per judge: entries assigned and score sheets submitted for them."""
    from app.accounts.models import User
    from app.judging.models import JudgeAssignment, RubricScoreSheet

    assigned = Counter(
        session.exec(select(JudgeAssignment.judge_id).where(JudgeAssignment.challenge_id == challenge.id)).all()
    )
    pairs = set(
        session.exec(
            select(JudgeAssignment.judge_id, JudgeAssignment.team_id).where(
                JudgeAssignment.challenge_id == challenge.id
            )
        ).all()
    )
    sheets = session.exec(
        select(RubricScoreSheet.judge_id, RubricScoreSheet.team_id).where(RubricScoreSheet.challenge_id == challenge.id)
    ).all()
    submitted = Counter(judge for judge, team in sheets if (judge, team) in pairs)
    names = {u.id: u.display_name for u in session.exec(select(User).where(User.id.in_(list(assigned)))).all()}
    return [
        JudgeProgress(names.get(j, f"judge {j}"), n, submitted.get(j, 0))
        for j, n in sorted(assigned.items(), key=lambda item: names.get(item[0], ""))
    ]


def upcoming_deadlines(challenge: Challenge, now: datetime, limit: int = 5) -> list[tuple[str, str, datetime]]:
    """The next phase starts and ends after `now`: (phase name, "starts" | "ends", when), soonest first."""
    events = [
        (p.name, edge, when)
        for p in config_of(challenge).phases
        for edge, when in (("starts", p.starts), ("ends", p.ends))
        if when > now
    ]
    return sorted(events, key=lambda e: e[2])[:limit]


def _value(enum_or_text: Any) -> str:
    return getattr(enum_or_text, "value", enum_or_text)


# --- Baselines ----------------------------------------------------------------------------------------------


def baseline_teams(session: Session, challenge: Challenge) -> list[Team]:
    return list(
        session.exec(
            select(Team)
            .where(Team.challenge_id == challenge.id, Team.is_baseline == True)  # noqa: E712
            .order_by(Team.name)
        ).all()
    )


def register_baseline(session: Session, challenge: Challenge, model: str, actor_id: int) -> Team:
    """A baseline team "Baseline: <model>": scored like an entry, never ranked as a winner. ValueError when
    the name is empty or taken."""
    model = " ".join(model.split())
    name = f"Baseline: {model}"[:120]
    if not model:
        raise ValueError("Name the baseline model.")
    hidden = hidden_character_problem(model, "The baseline model's name")
    if hidden:
        raise ValueError(hidden)
    if session.exec(select(Team.id).where(Team.challenge_id == challenge.id, Team.name == name)).first():
        raise ValueError(f"There is already a team called {name!r}.")
    team = Team(challenge_id=challenge.id, name=name, is_baseline=True)
    session.add(team)
    session.flush()
    record(session, "baseline.registered", "team", team.id, actor_id=actor_id, challenge_id=challenge.id, model=model)
    return team


def baseline_rows(session: Session, challenge: Challenge) -> list[tuple[Team, Any, Any]]:
    """Each baseline team with its latest submission and that submission's latest evaluation (or None)."""
    from app.checkpoints.models import Submission
    from evaluation.models import Evaluation

    rows = []
    for team in baseline_teams(session, challenge):
        submission = session.exec(
            select(Submission).where(Submission.team_id == team.id).order_by(Submission.id.desc())
        ).first()
        evaluation = (
            None
            if submission is None
            else session.exec(
                select(Evaluation).where(Evaluation.submission_id == submission.id).order_by(Evaluation.id.desc())
            ).first()
        )
        rows.append((team, submission, evaluation))
    return rows
