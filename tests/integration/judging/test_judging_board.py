"""What the public leaderboard shows of decisions taken elsewhere: final scores appear (and rank) only once
judging is published; an organiser's licence resolution reaches the board; an entry's page shows its model
card as safe markdown. The board is refreshed as the scheduler refreshes it (`refresh_all`, which notices a changed
watermark)."""

from __future__ import annotations

from sqlmodel import select


def _scheduler_cycle(db) -> list:
    """The scheduler's leaderboard step; web workers see its snapshots within `cache.HEAD_TTL` (here: now)."""
    from leaderboard import cache
    from leaderboard.services import refresh_all

    with db() as session:
        done = refresh_all(session)
    cache.forget_heads()
    return done


def _board(client, slug: str) -> dict:
    response = client.get(f"/api/v1/leaderboard?challenge={slug}")
    assert response.status_code == 200
    return response.get_json()


def test_final_scores_reach_the_public_board_only_once_judging_is_published(client, db, field, judging):
    for judge in ("j1", "j2"):
        for team in (field.a, field.b):
            judging.assign(judge, team)
            judging.sheet(judge, team)
    judging.lock()
    _scheduler_cycle(db)
    locked = _board(client, field.slug)
    assert locked["key"] == "benchmark_score" and not locked["judging_published"]
    assert all(row["final"] is None and row["judges"] is None for row in locked["rows"])
    judging.publish()
    assert any(slug == field.slug for slug, _, _ in _scheduler_cycle(db))
    published = _board(client, field.slug)
    assert published["key"] == "final_score" and published["judging_published"]
    finals = {row["team"]: row["final"] for row in published["rows"]}
    assert finals["Alpha"] is not None and finals["Bravo"] is not None
    ranked = [row for row in published["rows"] if row["rank"] is not None]
    assert [row["final"] for row in ranked] == sorted((row["final"] for row in ranked), reverse=True)


def test_an_entry_page_shows_the_model_card_as_safe_markdown_without_front_matter(client, db, field, app):
    from app.checkpoints.models import Submission

    with db() as session:
        submission = session.exec(select(Submission).where(Submission.team_id == field.a)).one()
    folder = app.config["LAGC"].storage_dir / "submissions" / str(submission.id)
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(
        "---\nlicense: apache-2.0\n---\n# Alpha 1B\n<script>alert(1)</script>\nTrained on *EuroHPC*.\n"
    )
    _scheduler_cycle(db)
    html = client.get(f"/leaderboard/{field.slug}/entries/{field.a}").get_data(as_text=True)
    assert "<h3>Alpha 1B</h3>" in html and "Trained on <em>EuroHPC</em>." in html and "license:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_an_organisers_licence_resolution_reaches_the_public_board(client, db, field):
    from app.checkpoints.models import Submission
    from app.licences.services import resolve_review

    with db() as session:
        submission = session.exec(select(Submission).where(Submission.team_id == field.a)).one()
        submission.licence_verdict = "review"
        session.add(submission)
    _scheduler_cycle(db)
    assert {r["team"]: r["licence"] for r in _board(client, field.slug)["rows"]}["Alpha"] == "review"
    with db() as session:
        resolve_review(
            session,
            session.get(Submission, submission.id),
            "pass",
            "Apache-2.0 confirmed with the authors of the base model.",
            field.users["org"],
        )
    assert any(slug == field.slug for slug, _, _ in _scheduler_cycle(db))  # the watermark moved
    assert {r["team"]: r["licence"] for r in _board(client, field.slug)["rows"]}["Alpha"] == "pass"
