"""Every feature's parts are imported by name in `app/features.py`: a part on disk that the list forgets would
silently do nothing (a command that does not exist, a step that never runs), so this test names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import features

ROOT = Path(__file__).resolve().parents[2]
PARTS = {
    "models": features.models,
    "routes": features.routes,
    "api": features.api,
    "cli": features.cli,
    "jobs": features.jobs,
    "demo": features.demos,
    "sections": features.sections,
    "metrics": features.metrics,
}


@pytest.mark.parametrize("part", sorted(PARTS))
def test_every_part_of_every_feature_is_listed(part):
    on_disk = {
        f"{feature}.{part}"
        for feature in features.FEATURES
        if (ROOT / feature.replace(".", "/") / f"{part}.py").exists()
    }
    listed = {module.__name__ for module in PARTS[part]()}
    assert on_disk - listed == set(), f"add them to app.features.{PARTS[part].__name__}()"
