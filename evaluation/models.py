"""Evaluations as a state machine stored in the database, their per-task results, and GPU-hour charges.

queued -> dispatching (job folder chosen, submission in flight) -> dispatched (job id known) -> running ->
finished | failed (reason kept) | cancelled; a failure that is not the model's fault, with attempts left,
goes back to queued at `retry_at`. Any process can die at any moment: the next scheduler cycle continues
from these rows (a `dispatching` row is reconciled by the job's name before anything is submitted again).

An evaluation of a challenge whose evaluations run at sites (`runner = "site"`) is leased to a `Site`: it is
`dispatching` with `site_id` and `lease_expires_at` while the site's agent stages it, and may go back to the
queue when the lease expires, until the agent says it is submitting the job (`work_dir` set): from then on
the evaluation stays with its site (see evaluation/sites/services.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from app.db import utcnow


class EvaluationState(str, Enum):
    queued = "queued"
    dispatching = "dispatching"
    dispatched = "dispatched"
    running = "running"
    finished = "finished"
    failed = "failed"
    cancelled = "cancelled"


class EvaluationPurpose(str, Enum):
    """Why an evaluation runs. Only ``primary`` runs (the scheduler's one run of each accepted submission) can
    count for a team (`evaluation.counting.COUNTED_PURPOSES`); a ``reproduction`` re-runs a finished evaluation
    at another site to check it (`evaluation.reproduction.order`) and never counts."""

    primary = "primary"
    reproduction = "reproduction"


class Evaluation(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    state: EvaluationState = Field(default=EvaluationState.queued, max_length=12, index=True)
    # An `EvaluationPurpose` value, stored as text so a new purpose needs no change to a database enum type.
    purpose: str = Field(
        default=EvaluationPurpose.primary.value,
        max_length=20,
        sa_column_kwargs={"server_default": EvaluationPurpose.primary.value},
    )
    runner: str = Field(default="local", max_length=10)  # local | slurm | site
    cluster: str = Field(default="local", max_length=40)
    job_id: Optional[str] = Field(default=None, max_length=64)  # pid for local, Slurm job id
    job_token: Optional[str] = Field(default=None, max_length=64)  # RunHandle.token (pid start time, cluster)
    node: Optional[str] = Field(default=None, max_length=120)
    attempt: int = Field(default=1)
    max_attempts: int = Field(default=3)
    queued_at: datetime = Field(default_factory=utcnow, index=True)
    dispatched_at: Optional[datetime] = None
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    failure_reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    log_tail: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    history: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [{at, from, to, reason}]
    work_dir: Optional[str] = Field(default=None, max_length=1000)
    results_path: Optional[str] = Field(default=None, max_length=1000)
    # What was asked for, pinned: tasks with few-shot counts, batch size, dtype, backend, limit, seeds.
    request: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What a judge needs to trust a number: lm-eval/transformers versions, task versions and hashes, model
    # sha256, dtype, batch size, seeds, backend, cluster, job id, node, elapsed time.
    provenance: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    elapsed_seconds: Optional[float] = None
    gpu_hours: Optional[float] = None
    cancel_requested: bool = Field(default=False)  # an organiser asked; the scheduler cancels the job
    retry_at: Optional[datetime] = None  # a retryable failure goes back to the queue at this time
    site_id: Optional[int] = Field(default=None, foreign_key="site.id", index=True)  # the site holding the lease
    lease_expires_at: Optional[datetime] = None  # renewed by the site's heartbeats while it stages


class TaskResult(SQLModel, table=True):
    """One task's counted metric of a finished evaluation (the raw results file is kept unchanged)."""

    __table_args__ = (UniqueConstraint("evaluation_id", "task"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    task: str = Field(max_length=120, index=True)
    metric: str = Field(max_length=60)
    value: float
    stderr: Optional[float] = None
    n_samples: Optional[int] = None
    task_version: Optional[str] = Field(default=None, max_length=40)
    task_hash: Optional[str] = Field(default=None, max_length=128)
    num_fewshot: Optional[int] = None


class GpuCharge(SQLModel, table=True):
    """GPU-hours charged to a team per cluster, in that cluster's unit, once per evaluation attempt."""

    __table_args__ = (UniqueConstraint("evaluation_id", "attempt"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    evaluation_id: int = Field(foreign_key="evaluation.id")
    attempt: int = Field(default=1)
    cluster: str = Field(max_length=40)
    gpu_hours: float
    charged_at: datetime = Field(default_factory=utcnow)


class LeaderboardFreeze(SQLModel, table=True):
    """An organiser's freeze of the board: the competition's cut-off. Results finished after ``frozen_at`` stay
    off the public board, its exports, the judges' scorecards and the award (`evaluation.counted.cutoff`) until
    ``unfrozen_at``; the organisers' live view and each team's own live result still show them."""

    __tablename__ = "leaderboardfreeze"

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    frozen_at: datetime
    unfrozen_at: Optional[datetime] = None
    frozen_by_id: int = Field(foreign_key="user.id")
    unfrozen_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class CountedChoice(SQLModel, table=True):
    """A team's choice of which of its evaluated submissions counts; ``submission_id`` None goes back to the
    default (the latest scored one). Append-only: the latest choice made by a moment is the one in force at
    that moment, so a choice made after the freeze never changes the frozen board (`evaluation.counting`)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    submission_id: Optional[int] = Field(default=None, foreign_key="submission.id")
    chosen_by_id: int = Field(foreign_key="user.id")
    chosen_at: datetime = Field(default_factory=utcnow)


class ChoicesAreAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a team's recorded choice."""


@event.listens_for(CountedChoice, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise ChoicesAreAppendOnly(f"counted choice {target.id} cannot be changed")


@event.listens_for(CountedChoice, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    raise ChoicesAreAppendOnly(f"counted choice {target.id} cannot be deleted")


class Site(SQLModel, table=True):
    """A supercomputer site whose agent pulls evaluations of one cluster profile. Only the sha256 of its token
    is kept; the agent's last heartbeat says whether it is online."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    cluster: str = Field(max_length=40, index=True)
    max_jobs: int = Field(default=4)
    token_sha256: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: Optional[datetime] = None
    last_seen_at: Optional[datetime] = Field(default=None, index=True)
    agent: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # version, host, hub, lock


class SiteUpload(SQLModel, table=True):
    """One output file (results or samples) a site uploaded for an attempt, stored under the platform's storage
    at ``path`` relative to the attempt's upload folder; the same file again is the same answer."""

    __table_args__ = (UniqueConstraint("evaluation_id", "attempt", "path"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    attempt: int
    site_id: int = Field(foreign_key="site.id")
    path: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    uploaded_at: datetime = Field(default_factory=utcnow)


class Reproduction(SQLModel, table=True):
    """A re-evaluation of a finished evaluation at another site, ordered by an organiser. Its evaluation never
    counts (its purpose is ``reproduction``, which the counted rule leaves out): it only checks the original."""

    id: Optional[int] = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    original_id: int = Field(foreign_key="evaluation.id", index=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", unique=True)
    ordered_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    ordered_at: datetime = Field(default_factory=utcnow)


class ReproductionResolution(SQLModel, table=True):
    """An organiser's decision that an original evaluation may count for the award although its reproduction
    differs (``reproduction_id``: that reproduction's evaluation) or is missing (None), with the reason."""

    id: Optional[int] = Field(default=None, primary_key=True)
    original_id: int = Field(foreign_key="evaluation.id", index=True)
    reproduction_id: Optional[int] = Field(default=None, foreign_key="evaluation.id")
    justification: str = Field(sa_column=Column(Text, nullable=False))
    resolved_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    resolved_at: datetime = Field(default_factory=utcnow)
