"""The demo's evaluations: the offline suite written under the instance folder, where the demo challenge's
``[benchmark] include_path = "eval-suite"`` points, so the scheduler evaluates the demo teams' tiny models
for real with lm-eval on this machine (the submissions themselves come from app/checkpoints/demo.py)."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from app.challenges.models import Challenge
from app.settings import Settings
from evaluation.suite import write_suite

SUITE_FOLDER = "eval-suite"


def extend_demo(session: Session, settings: Settings, challenge: Challenge) -> None:
    """Write the offline suite (idempotent: the same seed writes the same bytes)."""
    write_suite(Path(settings.instance_dir) / SUITE_FOLDER, seed=0)
