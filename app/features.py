"""The features of the platform, in dependency order, and how the shell finds their parts.

A feature is a package; by convention it may have `models.py` (tables), `routes.py` (a blueprint `bp`),
`api.py` (routes registered with `app.api.route`), `cli.py` (a click group `cli`), `jobs.py` (`STEPS`, run by
the scheduler on every cycle) and `demo.py` (`extend_demo(session, settings, challenge)`). Adding a feature
means adding its package name here; nothing else in the shell needs to change.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

FEATURES = (
    "app.accounts", "app.challenges", "app.teams", "app.audit", "app.ops", "app.web",
    "app.eligibility", "app.checkpoints", "app.licences", "evaluation", "evaluation.sites", "app.judging",
    "leaderboard", "app.prizes", "app.organiser", "app.notifications", "app.privacy",
)


def feature_modules(part: str) -> list[ModuleType]:
    """Import `<feature>.<part>` for every feature that has one, in FEATURES order."""
    modules = []
    for feature in FEATURES:
        name = f"{feature}.{part}"
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # the feature package itself does not exist (yet)
            continue
        if spec is not None:
            modules.append(importlib.import_module(name))
    return modules
