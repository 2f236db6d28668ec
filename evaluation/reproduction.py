"""Cross-site reproducibility: an organiser orders a re-evaluation of an entry at another site, the two results
are compared task by task (the pure rule: ``scoring.reproduction``), and every winner of a challenge
evaluated at sites needs a reproduction that agrees, or an organiser's resolution, before the award.

- ``order`` queues a copy of a finished site evaluation (the same pinned files, suite and task hashes) that
  must not run at the original's site (``request["placement"]``, the leasing's extension point), optionally
  only at a named one. Its purpose is ``reproduction``: the counted rule (`evaluation.counted`) never counts
  it for the team.
- ``state_of`` reads what the rule needs; ``comparison_of`` and ``award_blocks`` apply it.
- ``resolve`` records an organiser's justification for a discrepancy or a missing reproduction.

Every order and resolution is an audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Optional

from sqlmodel import Session, select

from app.db import utcnow
from app.errors import DomainError, Kind
from evaluation import services
from evaluation.models import (
    Evaluation,
    EvaluationPurpose,
    EvaluationState as S,
    Reproduction,
    ReproductionResolution,
    Site,
    TaskResult,
)
from evaluation.policy import SITE_RUNNER, SITES_CLUSTER
from scoring.reproduction import Comparison, Measured, ReproductionState, RunFacts, award_block, compare

OPEN = (S.queued, S.dispatching, S.dispatched, S.running)
JUSTIFICATION_MAX = 2000


class ReproductionError(DomainError, ValueError):
    """An order or a resolution that is not possible (the message says why): a conflict with the evaluation's
    state, unless the input itself is at fault (an unknown site, a justification too short or too long)."""

    kind = Kind.conflict


def order(
    session: Session,
    original: Evaluation,
    actor_id: Optional[int],
    site: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Evaluation:
    """Queue a re-evaluation of ``original`` at another site (only at ``site`` when given); its evaluation."""
    now = now or utcnow()
    origin = _site_of(session, original)
    if _is_reproduction(session, original.id):
        raise ReproductionError(f"evaluation {original.id} is itself a reproduction: reproduce the original")
    if S(original.state) != S.finished or origin is None:
        raise ReproductionError(
            f"evaluation {original.id} did not finish at a site: only a finished site "
            "evaluation can be reproduced at another site"
        )
    if any(S(ev.state) in OPEN for ev in reproductions_of(session, original.id)):
        raise ReproductionError(f"a reproduction of evaluation {original.id} is already under way")
    placement: dict[str, list[str]] = {"exclude": [origin.name]}
    if site is not None:
        target = session.exec(select(Site).where(Site.name == site)).first()
        if target is None or target.revoked_at is not None:
            raise ReproductionError(f"there is no site named {site!r}", kind=Kind.invalid, field="site")
        if target.name == origin.name:
            raise ReproductionError(f"evaluation {original.id} ran at {site}: a reproduction runs at another site")
        placement["only"] = [target.name]
    request = {k: v for k, v in (original.request or {}).items() if k != "profile"}
    request.update(runner=SITE_RUNNER, cluster=SITES_CLUSTER, placement=placement)
    ev = services.create(
        session,
        original.challenge_id,
        original.team_id,
        original.submission_id,
        request,
        original.max_attempts,
        now,
        purpose=EvaluationPurpose.reproduction,
    )
    session.add(
        Reproduction(
            challenge_id=original.challenge_id,
            original_id=original.id,
            evaluation_id=ev.id,
            ordered_by_id=actor_id,
            ordered_at=now,
        )
    )
    services.audit(
        session,
        original,
        "evaluation.reproduction_ordered",
        actor_id=actor_id,
        reproduction_id=ev.id,
        original_site=origin.name,
        only=placement.get("only"),
    )
    return ev


def resolve(
    session: Session, original: Evaluation, actor_id: Optional[int], justification: str, now: Optional[datetime] = None
) -> ReproductionResolution:
    """Accept the original for the award despite its reproduction's discrepancy (or its missing reproduction),
    for the reason given. A later reproduction that differs needs a resolution of its own."""
    words = " ".join((justification or "").split())
    if len(words) < 10:
        raise ReproductionError(
            "say why in a sentence (at least 10 characters): the justification is kept, "
            "audited and shown to judges and organisers",
            kind=Kind.invalid,
            field="justification",
        )
    if len(words) > JUSTIFICATION_MAX:
        raise ReproductionError(
            f"the justification is limited to {JUSTIFICATION_MAX} characters", kind=Kind.invalid, field="justification"
        )
    state = state_of(session, original)
    if state.comparison is not None and state.comparison.agrees:
        raise ReproductionError(f"the reproduction of evaluation {original.id} agrees: there is nothing to resolve")
    row = ReproductionResolution(
        original_id=original.id,
        reproduction_id=state.reproduction_id,
        justification=words,
        resolved_by_id=actor_id,
        resolved_at=now or utcnow(),
    )
    session.add(row)
    services.audit(
        session,
        original,
        "evaluation.reproduction_resolved",
        actor_id=actor_id,
        reproduction_id=state.reproduction_id,
        justification=words,
    )
    return row


def reproductions_of(session: Session, original_id: int) -> list[Evaluation]:
    """The re-evaluations ordered of an evaluation, oldest first."""
    return list(
        session.exec(
            select(Evaluation)
            .join(Reproduction, Reproduction.evaluation_id == Evaluation.id)
            .where(Reproduction.original_id == original_id)
            .order_by(Evaluation.id)
        ).all()
    )


def resolutions_of(session: Session, original_id: int) -> list[ReproductionResolution]:
    return list(
        session.exec(
            select(ReproductionResolution)
            .where(ReproductionResolution.original_id == original_id)
            .order_by(ReproductionResolution.id)
        ).all()
    )


def state_of(session: Session, original: Evaluation) -> ReproductionState:
    """The latest finished reproduction's comparison, whether one is under way, and what was resolved."""
    ordered = reproductions_of(session, original.id)
    finished = [ev for ev in ordered if S(ev.state) == S.finished]
    latest = finished[-1] if finished else None
    return ReproductionState(
        comparison=comparison_of(session, original, latest) if latest else None,
        reproduction_id=latest.id if latest else None,
        pending=any(S(ev.state) in OPEN for ev in ordered),
        resolved_for=tuple(r.reproduction_id for r in resolutions_of(session, original.id)),
    )


def comparison_of(session: Session, original: Evaluation, reproduction: Evaluation) -> Comparison:
    """The two evaluations' results compared task by task (the original's tasks)."""
    return compare(
        _measured(session, original.id), _measured(session, reproduction.id), facts_of(original), facts_of(reproduction)
    )


def facts_of(ev: Evaluation) -> RunFacts:
    """What the provenance says of the setup that decides determinism."""
    p: Mapping[str, Any] = ev.provenance or {}
    site = p.get("site") or {}
    return RunFacts(
        lock_sha256=p.get("lock_sha256"),
        dtype=p.get("dtype"),
        backend=p.get("backend"),
        batch_size=None if p.get("batch_size") is None else str(p.get("batch_size")),
        seeds=dict(p.get("seeds") or {}),
        gpu_model=site.get("gpu_model") or p.get("gpu_model"),
        task_hashes=dict(p.get("task_hashes") or {}),
    )


def award_blocks(session: Session, winners: Iterable[tuple[str, Optional[int]]]) -> list[str]:
    """Why the award must wait: each winner (team name, its counted evaluation) evaluated at a site without an
    agreeing reproduction or an organiser's resolution. Evaluations the platform ran itself are not gated."""
    blocks = []
    for team, evaluation_id in winners:
        original = session.get(Evaluation, evaluation_id) if evaluation_id is not None else None
        if original is None:
            blocks.append(f"{team}: no evaluation to reproduce")
            continue
        if original.runner != SITE_RUNNER:
            continue  # evaluated by the platform's own runner: there is no other site to reproduce it at
        block = award_block(team, state_of(session, original))
        if block:
            blocks.append(block)
    return blocks


def summary(session: Session, original: Evaluation) -> dict[str, Any]:
    """What the scorecard and the organiser's page show of an evaluation's reproduction."""
    state = state_of(session, original)
    reproduction = session.get(Evaluation, state.reproduction_id) if state.reproduction_id else None
    resolutions = resolutions_of(session, original.id)
    current = [r for r in resolutions if r.reproduction_id == state.reproduction_id]
    return {
        "original_id": original.id,
        "original_site": _name(_site_of(session, original)),
        "reproduction_id": state.reproduction_id,
        "reproduction_site": _name(_site_of(session, reproduction)) if reproduction else None,
        "pending": state.pending,
        "comparison": state.comparison,
        "agrees": bool(state.comparison and state.comparison.agrees),
        "resolution": current[-1] if current else None,
        "resolutions": resolutions,
        "blocks": award_block("this entry", state),
    }


def _measured(session: Session, evaluation_id: int) -> dict[str, Measured]:
    rows = session.exec(select(TaskResult).where(TaskResult.evaluation_id == evaluation_id)).all()
    return {row.task: Measured(row.value, row.stderr) for row in rows}


def _site_of(session: Session, ev: Optional[Evaluation]) -> Optional[Site]:
    return session.get(Site, ev.site_id) if ev is not None and ev.site_id is not None else None


def _name(site: Optional[Site]) -> Optional[str]:
    return site.name if site is not None else None


def _is_reproduction(session: Session, evaluation_id: int) -> bool:
    return session.exec(select(Reproduction.id).where(Reproduction.evaluation_id == evaluation_id)).first() is not None
