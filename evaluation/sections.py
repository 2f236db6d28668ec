"""The challenge-configuration sections this feature owns (`[clusters.*]`, `[evaluation]`), registered with the
configuration parser on import. The parsers themselves are pure and need no app (`clusters`, `policy`)."""

from __future__ import annotations

from app.challenges.config import register_section
from evaluation.clusters import parse_clusters_section
from evaluation.policy import EvaluationPolicy

register_section("clusters", parse_clusters_section)
register_section("evaluation", EvaluationPolicy.from_config)
