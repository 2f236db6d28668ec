"""This platform instance's identifier: `LAGC_INSTANCE_ID` when set, else the one its database holds (made by
the migration that added it, or here on first use), so it survives restarts and moves with a restore."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.ops.models import PlatformInstance
from app.settings import Settings


def new_identifier() -> str:
    """Eight random lower-case hex digits: short in a job name, and 4 billion to one against a clash."""
    return secrets.token_hex(4)


def instance_id(session: Session, settings: Settings) -> str:
    """The identifier in this instance's cluster job names (see `evaluation.planning.job_name`)."""
    if settings.instance_id:
        return settings.instance_id
    row = session.get(PlatformInstance, 1)
    if row is None:  # a database from before the identifier existed, or built without the migrations
        try:
            with session.begin_nested():
                session.add(PlatformInstance(id=1, identifier=new_identifier()))
        except IntegrityError:  # another process made it first
            pass
        row = session.get(PlatformInstance, 1)
    return row.identifier
