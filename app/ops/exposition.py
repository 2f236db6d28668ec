"""The Prometheus text exposition format (version 0.0.4), and a latency histogram. Pure: standard library only."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, Mapping[str, str], float]]) -> str:
    """One metric family: HELP and TYPE lines, then `name{labels} value` per sample (suffix, labels, value)."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{suffix}{_labels(labels)} {_number(value)}" for suffix, labels, value in samples]
    return "\n".join(lines) + "\n"


@dataclass
class Histogram:
    """Cumulative-bucket histogram of observations in seconds (one per process)."""

    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        """Count one observation in the first bucket that holds it (the last one is +Inf)."""
        index = next((i for i, bound in enumerate(self.buckets) if seconds <= bound), len(self.buckets))
        self.counts[index] += 1
        self.total += seconds

    def snapshot(self) -> dict:
        return {"buckets": list(self.buckets), "counts": list(self.counts), "sum": self.total}


def histogram_samples(snapshot: Mapping, labels: Mapping[str, str]) -> list[tuple[str, dict, float]]:
    """The `_bucket` (cumulative, with `le`), `_sum` and `_count` samples of one histogram snapshot."""
    samples, running = [], 0
    bounds = list(snapshot["buckets"]) + [float("inf")]
    for bound, count in zip(bounds, snapshot["counts"]):
        running += count
        samples.append(("_bucket", {**labels, "le": _number(bound)}, running))
    samples.append(("_sum", dict(labels), snapshot["sum"]))
    samples.append(("_count", dict(labels), running))
    return samples
