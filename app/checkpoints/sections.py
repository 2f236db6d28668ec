"""The challenge-configuration section this feature owns, registered with the configuration parser on import."""

from __future__ import annotations

from app.challenges.config import register_section
from app.checkpoints.limits import SubmissionLimits

register_section("limits", SubmissionLimits.from_config)
