"""An entry's scorecard: the team and its verdicts, the checkpoint, the benchmark table with provenance,
the chart data, and the judges' part as far as the viewer may see it.

Who sees what: organisers everything; an assigned, non-recused judge everything but other judges' notes,
and other judges' scores only after submitting their own sheet (or once judging is locked); the team's own
entrants the benchmarks (hidden tasks left out: `SEES_HIDDEN_TASKS`), verdicts and provenance, and only the
judges' aggregate score once published, never a single judge's scores or notes. A recused judge: 403 saying
so; everyone else: 404 (`JudgingError`).

The checkpoint and benchmarks are the team's counted evaluation as the board ranks it, as of the freeze
(`app.judging.field.field_of`); without one, the card says why in the board's words ("evaluation of ...
pending").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.challenges.models import Challenge
from app.checkpoints.models import Submission
from app.eligibility.services import current_status
from app.errors import Kind
from app.judging.field import Run, TaskField, field_of
from app.judging.models import RubricScoreSheet
from app.judging.services import (
    OPEN,
    PUBLISHED,
    JudgingError,
    entry_team,
    judges_scores,
    judging_state,
    require_judge_access,
    rubric_of,
    sheet_of,
    sheets_of,
)
from app.teams.models import Team, TeamMembership
from evaluation.counted import CountedEntry
from evaluation.policy import SITE_RUNNER
from evaluation.reproduction import summary as reproduction_summary
from scoring.rubric import JudgesScore, Rubric, weighted_rubric_score


# Who sees hidden tasks' scores on a scorecard: the one place that decides it. Organisers, and the judges
# assigned to the entry: they judge the whole entry (technical excellence covers every task the final score
# counts, and a gap between public and hidden tasks is a sign of overfitting), and they are bound to keep
# them confidential, which the scorecard reminds them of. Never the team, nor the public board, before the
# hidden tasks are revealed.
SEES_HIDDEN_TASKS = frozenset({"organiser", "judge"})


@dataclass(frozen=True)
class TaskLine:
    """One row of the benchmark table (and one bar of the chart)."""

    field: TaskField
    result: Any  # evaluation.models.TaskResult or None
    normalised: Any  # scoring NormalisedScore or None
    rank: Optional[int]
    tied_with: tuple[str, ...]
    baselines: list[tuple[str, Any, Any]]  # (baseline name, TaskResult or None, NormalisedScore or None)
    task_hash: Optional[str]


@dataclass
class Scorecard:
    """Everything the scorecard page shows, already filtered for the viewer."""

    challenge: Challenge
    team: Team
    viewer: str  # "organiser" | "judge" | "entrant"
    state: str
    rubric: Rubric
    eligibility: Any
    run: Optional[Run]
    submission: Optional[Submission]
    counted: Optional[CountedEntry] = None  # what counts for the team (status, notes)
    as_of: Optional[datetime] = None  # the cut-off counted as of: the freeze in force, or None (live)
    lines: list[TaskLine] = field(default_factory=list)
    own_sheet: Optional[RubricScoreSheet] = None
    others: list[dict[str, Any]] = field(default_factory=list)
    others_visible: bool = False
    judges: Optional[JudgesScore] = None
    reproduction: Optional[dict[str, Any]] = None  # the cross-site check (organisers and judges only)

    @property
    def provenance(self) -> dict[str, Any]:
        """The counted evaluation's provenance: lm-eval version, environment lock, cluster, job id, GPU-hours."""
        if self.run is None:
            return {}
        ev, prov = self.run.evaluation, self.run.evaluation.provenance or {}
        return {
            "evaluation_id": ev.id,
            "lm_eval_version": prov.get("lm_eval_version"),
            "transformers_version": prov.get("transformers_version"),
            "lock_sha256": prov.get("lock_sha256"),
            "cluster": prov.get("cluster") or ev.cluster,
            "job_id": prov.get("job_id") or ev.job_id,
            "node": prov.get("node") or ev.node,
            "gpu_hours": ev.gpu_hours,
            "finished_at": ev.finished_at,
            "model_sha256": prov.get("model_sha256"),
        }


def viewer_role(session: Session, challenge: Challenge, user: User, team: Team) -> str:
    """The viewer's relation to the entry, or JudgingError 404 when they may not see it."""
    role = Role(user.role)
    if role is Role.organiser:
        return "organiser"
    if role is Role.judge:
        require_judge_access(session, challenge, user, team.id)
        return "judge"
    member = session.exec(
        select(TeamMembership).where(TeamMembership.team_id == team.id, TeamMembership.user_id == user.id)
    ).first()
    if member is None:
        raise JudgingError(Kind.not_found, "No such entry.")
    return "entrant"


def build_scorecard(session: Session, challenge: Challenge, team_id: int, user: User) -> Scorecard:
    """The scorecard of the entry as `user` may see it (404 `JudgingError` when they may not)."""
    team = entry_team(session, challenge, team_id)
    viewer = viewer_role(session, challenge, user, team)
    found = field_of(session, challenge)
    runs = found.runs
    run = runs.get(team.id)
    card = Scorecard(
        challenge,
        team,
        viewer,
        judging_state(session, challenge),
        rubric_of(challenge),
        current_status(session, team.id),
        run,
        session.get(Submission, run.evaluation.submission_id) if run else None,
        found.entries.get(team.id) or CountedEntry(team.id),
        found.as_of,
    )
    baselines = [r for r in runs.values() if r.team.is_baseline]
    card.lines = [
        _line(task, run, runs, baselines) for task in found.tasks if viewer in SEES_HIDDEN_TASKS or not task.spec.hidden
    ]
    _judges_part(session, card, user)
    if viewer in ("organiser", "judge") and run is not None and run.evaluation.runner == SITE_RUNNER:
        card.reproduction = reproduction_summary(session, run.evaluation)
    return card


def _line(task: TaskField, run: Optional[Run], runs: dict[int, Run], baselines: list[Run]) -> TaskLine:
    """The benchmark-table row of one task for the entry."""
    name = task.spec.name
    result = run.results.get(name) if run else None
    ranked = task.ranking.get(run.team.id) if run else None
    tied = tuple(
        runs[int(i)].team.name
        for i in (ranked.statistically_tied_with if ranked else ())
        if not runs[int(i)].team.is_baseline
    )
    task_hash = None
    if result is not None:
        task_hash = result.task_hash or (run.evaluation.provenance.get("task_hashes") or {}).get(name)
    return TaskLine(
        task,
        result,
        task.normalised.get(run.team.id) if run else None,
        ranked.rank if ranked else None,
        tied,
        [(b.team.name, b.results.get(name), task.normalised.get(b.team.id)) for b in baselines],
        task_hash,
    )


def _judges_part(session: Session, card: Scorecard, user: User) -> None:
    """Fill in the sheets the viewer may see (see the module docstring for the rule)."""
    challenge, team = card.challenge, card.team
    if card.viewer == "entrant":
        if card.state == PUBLISHED:
            card.judges = judges_scores(session, challenge).get(team.id)
        return
    card.own_sheet = sheet_of(session, challenge, user.id, team.id) if card.viewer == "judge" else None
    card.others_visible = card.viewer == "organiser" or card.own_sheet is not None or card.state != OPEN
    if not card.others_visible:
        return
    users = {u.id: u for u in session.exec(select(User).where(User.role == Role.judge)).all()}
    for sheet in sheets_of(session, challenge, team.id):
        if sheet.judge_id == user.id:
            continue
        judge = users.get(sheet.judge_id)
        card.others.append(
            {
                "judge": judge.display_name if judge else f"judge {sheet.judge_id}",
                "scores": sheet.scores,
                "weighted": _weighted(card.rubric, sheet.scores),
                "notes": sheet.notes if card.viewer == "organiser" else None,
                "submitted_at": sheet.submitted_at,
            }
        )
    card.judges = judges_scores(session, challenge, published_only=False).get(team.id)


def _weighted(rubric: Rubric, scores: dict) -> Optional[float]:
    """A sheet's weighted score in [0, 1], or None when the rubric changed under it."""
    try:
        return weighted_rubric_score(rubric, scores)
    except ValueError:
        return None
