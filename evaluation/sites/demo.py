"""The demo's site: ``demo-laptop``, serving the ``local`` cluster profile, registered once and offline until
someone runs an agent for it (README.md, "Running a site agent against the demo"). Its token is public, as
the demo accounts' password is: the demo is never loaded in production."""

from __future__ import annotations

from sqlmodel import Session

from app.audit.services import record
from app.challenges.models import Challenge
from app.settings import Settings
from evaluation.models import Site
from evaluation.sites.services import get_site, token_sha256

DEMO_SITE = "demo-laptop"
DEMO_TOKEN = "lagc_site_demo-laptop-not-a-secret"


def extend_demo(session: Session, settings: Settings, challenge: Challenge) -> None:
    """Register the demo site (idempotent; a site revoked by hand stays revoked)."""
    if get_site(session, DEMO_SITE) is None:
        session.add(Site(name=DEMO_SITE, cluster="local", max_jobs=1, token_sha256=token_sha256(DEMO_TOKEN)))
        record(session, "site.added", "site", DEMO_SITE, cluster="local", max_jobs=1, demo=True)
