"""What one scheduler cycle knows (the time, each challenge's parsed setup), shared by the scheduler's steps for
its own clusters (evaluation.jobs) and for the sites (evaluation.sites.dispatch)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from app.challenges.models import Challenge
from app.db import utcnow
from app.ops.instance import instance_id
from app.settings import Settings
from evaluation import services
from evaluation.models import Evaluation
from evaluation.planning import SetupError, Setup, gpu_hours_at_most, setup_of


class Cycle:
    """What one cycle knows: the time, and each challenge's setup (parsed once)."""

    def __init__(self, session: Session, settings: Settings, now: datetime | None = None):
        self.session, self.settings, self.now = session, settings, now or utcnow()
        self._setups: dict[int, Setup | SetupError] = {}
        self._instance: str | None = None

    @property
    def instance(self) -> str:
        """This platform instance's identifier, for its job names (`app.ops.instance`)."""
        if self._instance is None:
            self._instance = instance_id(self.session, self.settings)
        return self._instance

    def setup(self, challenge_id: int) -> Setup:
        if challenge_id not in self._setups:
            try:
                self._setups[challenge_id] = setup_of(self.session.get(Challenge, challenge_id), self.settings)
            except (SetupError, ValueError) as exc:
                self._setups[challenge_id] = SetupError(str(exc))
        found = self._setups[challenge_id]
        if isinstance(found, SetupError):
            raise found
        return found


def reserved_gpu_hours(cycle: Cycle, team_ids: set[int]) -> dict[tuple[int, str], float]:
    """{(team, cluster): GPU-hours the team's jobs in flight may still cost}, at most their whole time limit."""
    reserved: dict[tuple[int, str], float] = {}
    if not team_ids:
        return reserved
    rows = cycle.session.exec(
        select(Evaluation).where(
            Evaluation.state.in_([s.value for s in services.ACTIVE]), Evaluation.team_id.in_(sorted(team_ids))
        )
    ).all()
    for ev in rows:
        try:
            hours = gpu_hours_at_most(cycle.setup(ev.challenge_id), ev.cluster, ev.request or {})
        except SetupError:
            continue
        reserved[(ev.team_id, ev.cluster)] = reserved.get((ev.team_id, ev.cluster), 0.0) + hours
    return reserved
