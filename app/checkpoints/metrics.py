"""The checkpoint feature's gauges for `/metrics`: submissions by status."""

from __future__ import annotations

from typing import Iterator

from prometheus_client.core import Metric
from sqlmodel import Session

from app.checkpoints.models import Submission, SubmissionStatus
from app.ops.metrics import by_label, counts_by, gauges


@gauges
def submission_gauges(session: Session) -> Iterator[Metric]:
    """lagc_submissions{status}."""
    counts = counts_by(session, Submission.status, [status.value for status in SubmissionStatus])
    yield by_label("lagc_submissions", "Submissions by status.", "status", counts)
