"""What a team (and an organiser) sees of an evaluation: its state in words, queue position, running time,
the reason and the last log lines of a failure, and the scores (hidden tasks withheld from entrants until
the award)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlmodel import Session, select

from app.challenges.models import Phase
from app.db import utcnow
from evaluation.layout import describe
from evaluation.models import Evaluation, EvaluationState as S, Site, TaskResult
from evaluation.jobspec import planned_layout
from evaluation.policy import hidden_tasks_revealed
from evaluation.services import queue_position

WORDS = {
    S.queued: "Queued",
    S.dispatching: "Being submitted to the cluster",
    S.dispatched: "Waiting on the cluster",
    S.running: "Running",
    S.finished: "Finished",
    S.failed: "Failed",
    S.cancelled: "Cancelled",
}
TERMINAL = (S.finished.value, S.cancelled.value)


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat() if moment else None


def revealed(session: Session, challenge_id: int, now: datetime) -> bool:
    """Whether hidden tasks' results may be shown to entrants (the award phase has begun)."""
    phases = session.exec(select(Phase).where(Phase.challenge_id == challenge_id)).all()
    spans = [(p.key, _aware(p.starts_at), _aware(p.ends_at)) for p in phases]
    return hidden_tasks_revealed(spans, now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def scores_of(session: Session, ev: Evaluation, show_hidden: bool) -> list[dict[str, Any]]:
    """The recorded scores in suite order; hidden tasks without their numbers unless show_hidden."""
    rows = {r.task: r for r in session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id)).all()}
    out = []
    for spec in (ev.request or {}).get("tasks", []):
        row = rows.get(spec["name"])
        if row is None:
            continue
        hidden = bool(spec.get("hidden")) and not show_hidden
        out.append(
            {
                "task": row.task,
                "metric": row.metric,
                "hidden": bool(spec.get("hidden")),
                "value": None if hidden else row.value,
                "stderr": None if hidden else row.stderr,
                "n_samples": row.n_samples,
                "num_fewshot": row.num_fewshot,
            }
        )
    return out


def status_of(session: Session, ev: Evaluation, organiser: bool, now: Optional[datetime] = None) -> dict[str, Any]:
    """The JSON a page polls and a script reads: everything about where the evaluation stands."""
    now = now or utcnow()
    state = S(ev.state)
    running_for = None
    if state == S.running and ev.started_at is not None:
        running_for = max(0, int((now - _aware(ev.started_at)).total_seconds()))
    show_hidden = organiser or revealed(session, ev.challenge_id, now)
    return {
        "id": ev.id,
        "state": state.value,
        "label": WORDS[state],
        "final": state.value in TERMINAL or (state == S.failed and ev.retry_at is None),
        "attempt": ev.attempt,
        "max_attempts": ev.max_attempts,
        "submission_id": ev.submission_id,
        "queue_position": queue_position(session, ev),
        "cluster": ev.cluster,
        "runner": ev.runner,
        "site": _site_name(session, ev),
        "job_id": ev.job_id,
        "node": ev.node,
        "queued_at": _iso(ev.queued_at),
        "dispatched_at": _iso(ev.dispatched_at),
        "started_at": _iso(ev.started_at),
        "running_seconds": running_for,
        "finished_at": _iso(ev.finished_at),
        "reason": ev.failure_reason if state in (S.failed, S.cancelled) else None,
        "retry_at": _iso(ev.retry_at),
        "log_tail": (ev.log_tail or "").splitlines() if state == S.failed else [],
        "gpu_hours": ev.gpu_hours,
        "elapsed_seconds": ev.elapsed_seconds,
        **_layout(ev),
        "scores": scores_of(session, ev, show_hidden) if state == S.finished else [],
        "history": ev.history if organiser else [],
    }


def _site_name(session: Session, ev: Evaluation) -> Optional[str]:
    """The site holding (or that ran) a site evaluation."""
    site = session.get(Site, ev.site_id) if ev.site_id else None
    return site.name if site else None


def _layout(ev: Evaluation) -> dict[str, Any]:
    """The planned layout (backend, nodes, parallel sizes, the planner's reasons) and the same in a few words."""
    request = ev.request or {}
    layout = planned_layout(request)
    if layout is None:
        return {"layout": None, "layout_words": None}
    return {"layout": layout.to_dict(), "layout_words": describe(layout, request.get("device", "cuda"))}
