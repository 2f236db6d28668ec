"""How snapshots are stored and read: JSON text through orjson, lz4 on PostgreSQL, and query plans that do not
depend on the planner's statistics (SQLite and PostgreSQL)."""

from __future__ import annotations

import math

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from leaderboard.models import LeaderboardSnapshot


def _challenge_id(db, slug: str) -> int:
    from app.challenges.services import get_challenge

    with db() as session:
        return get_challenge(session, slug).id


def _snapshot(db, challenge_id: int, rows_sql: str) -> list:
    with db() as session:
        session.execute(
            text(
                "INSERT INTO leaderboardsnapshot (challenge_id, audience, computed_at, etag, watermark, "
                "stale, compute_ms, meta, rows) VALUES (:c, 'public', CURRENT_TIMESTAMP, 'e', 'w', "
                "false, 0, '{}', :rows)"
            ),
            {"c": challenge_id, "rows": rows_sql},
        )
    with db() as session:
        return session.execute(select(LeaderboardSnapshot)).scalar_one().rows


def test_rows_are_written_and_read_as_json_text(db, challenge):
    with db() as session:
        session.add(
            LeaderboardSnapshot(
                challenge_id=_challenge_id(db, challenge),
                audience="public",
                etag="e",
                watermark="w",
                rows=[{"team": "Ä", "tasks": [[0.5, None, 0.25, 1e-07]]}],
            )
        )
    with db() as session:
        snapshot = session.execute(select(LeaderboardSnapshot)).scalar_one()
        stored = session.execute(text("SELECT rows FROM leaderboardsnapshot")).scalar_one()
        assert snapshot.rows == [{"team": "Ä", "tasks": [[0.5, None, 0.25, 1e-07]]}]
        assert isinstance(stored, str) and stored.startswith('[{"team":')


def test_rows_the_json_module_wrote_before_still_read_even_with_nan(db, challenge):
    rows = _snapshot(db, _challenge_id(db, challenge), '[{"team": "A", "tasks": [[0.5, NaN, 0.25, null]]}]')
    assert rows[0]["team"] == "A" and math.isnan(rows[0]["tasks"][0][1])


def test_postgres_compresses_snapshot_rows_with_lz4(db, database_url):
    if not database_url.startswith("postgresql"):
        return  # SQLite has no column compression
    with db() as session:
        method = session.execute(
            text(
                "SELECT attcompression FROM pg_attribute WHERE attname = 'rows' "
                "AND attrelid = 'leaderboardsnapshot'::regclass"
            )
        ).scalar_one()
    assert method == "l"  # lz4: 0.15 s to write 13 MB instead of pglz's 0.48 s (migration 0010)


def test_the_counted_evaluations_are_joined_by_submission_id_alone():
    """Neither database may look the evaluations up by challenge and state for each submission (17 s on
    PostgreSQL for 10,000 teams before ANALYZE, against 0.1 s): the join and the filters name no evaluation
    column but its submission id (indexed) and its purpose."""
    from evaluation.counted import submissions_query

    for dialect in (postgresql.dialect(), sqlite.dialect()):
        compiled = str(submissions_query(1, None).compile(dialect=dialect))
        join, _, where = compiled.partition(" WHERE ")
        on = join.split(" ON ", 1)[1]
        assert "evaluation.submission_id = submission.id" in on and "evaluation.purpose IN" in on
        assert "evaluation.challenge_id" not in compiled and "evaluation.state" not in on + where


def test_seeding_leaves_postgres_with_planner_statistics(app, db, database_url):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--teams", "5"])
    assert result.exit_code == 0, result.output
    if not database_url.startswith("postgresql"):
        return
    with db() as session:
        analysed = session.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'taskresult'")
        ).scalar_one()
    assert analysed is not None
