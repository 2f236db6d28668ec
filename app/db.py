"""Database engine and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Iterator, Mapping

from flask import current_app, g
from pydantic import Field as PydanticField
from sqlalchemy import event, inspect, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


# Ids are 32-bit INTEGER columns (PostgreSQL's SERIAL; SQLite would take more, PostgreSQL would not).
MAX_DATABASE_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")


def database_id(value: object) -> int | None:
    """An id a caller sent (text from a header, metadata, a form or a query string, or a JSON number) as an
    int the database can hold, or None: then nothing has that id. Never pass a user's number to the database
    without it (`<int:...>` in routes and `DatabaseId` in API bodies apply the same bound)."""
    if isinstance(value, str):
        value = int(value) if _DIGITS.fullmatch(value) and len(value.lstrip("0")) <= 10 else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_DATABASE_ID else None


# In API bodies (pydantic models): an id in the database's range, stated in the OpenAPI document too.
DatabaseId = Annotated[int, PydanticField(ge=1, le=MAX_DATABASE_ID, description="an id (1 to 2,147,483,647)")]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC: the form every timestamp is stored and compared in."""
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite make sure its folder exists and turn on WAL and foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def analyse(engine: Engine) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load or a restore (``ANALYZE``); until autovacuum
    gets to it, a table without statistics is planned as if it held a row or two. Nothing on SQLite, whose
    hot queries are written not to depend on statistics."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_session() -> Session:
    """The request's session (opened on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = Session(current_app.extensions["lagc_engine"], expire_on_commit=False)
    return g.db_session


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for the CLI and the scheduler: commits on success, rolls back on error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def compare_and_set(
    session: Session, model: type, key: Any, expected: Mapping[str, Any], changes: Mapping[str, Any] | None = None
) -> bool:
    """Change the row `key` of `model` only if its columns still hold `expected`; True when it did.

    The one way a state change that people can fire twice is made (finalise a submission, terminate an
    upload, lock or publish judging, decide on an application, confirm an award...): a single
    `UPDATE ... WHERE id = :key AND status = :expected`, checked by its row count. It is atomic on both
    databases, and its lock is held until the caller commits or rolls back, so the work that follows a
    successful claim (files, audit events) happens once:
    - PostgreSQL: the UPDATE row-locks the row; a concurrent one waits for that transaction, then re-reads
      the committed row, no longer matches, and changes nothing (like `SELECT ... FOR UPDATE`);
    - SQLite: the UPDATE takes the database's write lock (it waits up to the busy timeout), so writers
      take turns and each sees what the one before committed.
    A value in `expected` may be None (IS NULL) or a tuple (one of). Without `changes` the row is only
    locked (a column set to itself): a guard for work that must not overlap a change of that row. After
    it, read what the loser needs through queries, not through objects the session already holds.
    """
    mapper = inspect(model)
    primary = mapper.primary_key[0]
    conditions = [primary == key]
    for name, value in expected.items():
        column = getattr(model, name)
        if value is None:
            conditions.append(column.is_(None))
        elif isinstance(value, (tuple, list, set, frozenset)):
            conditions.append(column.in_(list(value)))
        else:
            conditions.append(column == value)
    if changes:
        values = dict(changes)
    else:
        column = next(c for c in mapper.columns if not c.primary_key)
        values = {column.key: getattr(model, column.key)}
    result = session.execute(
        update(model).where(*conditions).values(**values),
        execution_options={"synchronize_session": "fetch" if changes else False},
    )
    return result.rowcount == 1


def lock_row(session: Session, model: type, key: Any) -> bool:
    """Take the row's lock for the rest of the transaction (see `compare_and_set`); False if there is no
    such row. Serialises acts that insert rows guarded by it (a team's registration, a challenge's
    judging lock) where no column changes."""
    return compare_and_set(session, model, key, {})
