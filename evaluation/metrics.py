"""The evaluation feature's gauges for `/metrics`: the queue waiting for dispatch and evaluations by state."""

from __future__ import annotations

from typing import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session

from app.ops.metrics import by_label, counts_by, gauges
from evaluation.models import Evaluation, EvaluationState


@gauges
def evaluation_gauges(session: Session) -> Iterator[Metric]:
    """lagc_evaluation_queue_depth and lagc_evaluations{state}."""
    counts = counts_by(session, Evaluation.state, [state.value for state in EvaluationState])
    yield GaugeMetricFamily(
        "lagc_evaluation_queue_depth",
        "Evaluations waiting to be dispatched.",
        value=counts[EvaluationState.queued.value],
    )
    yield by_label("lagc_evaluations", "Evaluations by state.", "state", counts)
