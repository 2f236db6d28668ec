"""Shared test set-up: tiers are folders (unit: pure code; integration: real databases; e2e: a real server
process driven in Chromium)."""

from hypothesis import HealthCheck, settings

# Property tests check properties, not speed: on a loaded 2-core CI machine an example may take longer than
# hypothesis's default 200 ms deadline without anything being wrong.
settings.register_profile("lagc", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lagc")

# Pure code parses whole challenge files in the unit tests too: every configuration section the platform knows
# has its parser, as in the web process and the scheduler (`app.features.sections`, pure modules only).
from app.features import sections  # noqa: E402

sections()
