"""Operations endpoints: liveness, readiness (database reachable, scheduler heartbeat fresh, no step failing)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.db import get_session, utcnow
from app.ops.models import SchedulerLease
from app.ops.steps import failing_steps
from app.security import public

bp = Blueprint("ops", __name__)
HEARTBEAT_FRESH = timedelta(seconds=60)


@bp.record_once
def _observability(state) -> None:
    """Request ids, latency and structured logs for the whole app (see observability.py)."""
    from app.ops.observability import init_observability

    init_observability(state.app)


@bp.route("/healthz")
@public
def healthz():
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.route("/readyz")
@public
def readyz():
    """Ready when the database answers, the scheduler renewed its lease within the last minute and no scheduler
    step keeps failing (named with its last error when one does)."""
    checks: dict[str, str] = {}
    session = get_session()
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready; the message helps the operator
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
        session.rollback()
    else:
        lease = session.get(SchedulerLease, "scheduler")
        if lease is None:
            checks["scheduler"] = "never started"
        elif utcnow() - lease.heartbeat_at > HEARTBEAT_FRESH:
            checks["scheduler"] = f"last heartbeat {int((utcnow() - lease.heartbeat_at).total_seconds())} s ago"
        else:
            checks["scheduler"] = "ok"
        checks["scheduler_steps"] = _steps_check(session)
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), 200 if ready else 503


def _steps_check(session) -> str:
    """ "ok", or which scheduler steps keep failing and why (`app.ops.steps.failing_steps`)."""
    failing = failing_steps(session)
    if not failing:
        return "ok"
    return "failing: " + "; ".join(
        f"{row.name} ({row.consecutive_failures} runs in a row; {row.last_error[:200]})" for row in failing
    )


from app.ops import metrics  # noqa: E402,F401  (registers /metrics on this blueprint)
