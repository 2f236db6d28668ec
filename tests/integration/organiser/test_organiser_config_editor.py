"""Editing a challenge's configuration in the browser: preview with problems or changes, save, slug rules,
new challenges from the template, import and export."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.challenges.models import Challenge, Phase
from app.challenges.services import get_challenge
from tests.helpers import csrf_token, page_text, post_config, preview_then_save

EDIT = "/organiser/c/lagc-2024/config"
SUBMISSION_ENDS = "ends = 2024-04-30T15:00:00Z   # unconfirmed"


@pytest.fixture
def challenge(closed_challenge):
    """The bundled 2024 file as it is: these tests edit its own lines (its dates)."""
    return closed_challenge


def _current(db) -> str:
    with db() as session:
        return get_challenge(session, "lagc-2024").config_text


def test_preview_lists_every_problem_of_a_broken_file_and_saves_nothing(organiser, db, challenge):
    before = _current(db)
    broken = before.replace('slug = "lagc-2024"', 'slug = "Bad Slug"').replace(
        SUBMISSION_ENDS, "ends = 2024-01-01T00:00:00Z"
    )
    response = post_config(organiser, EDIT, broken)
    text = page_text(response)
    assert response.status_code == 422
    assert "challenge.slug must be" in text and "phases[1] (submission) ends before it starts" in text
    assert 'value="save"' not in text  # nothing to save
    assert _current(db) == before


def test_text_that_is_not_toml_is_a_problem_not_an_error(organiser, challenge):
    response = post_config(organiser, EDIT, "[challenge\nslug = ")
    assert response.status_code == 422 and "not valid TOML" in page_text(response)


def test_a_valid_edit_previews_its_changes_then_saves_audits_and_moves_the_phase(organiser, db, challenge):
    before = _current(db)
    edited = before.replace(SUBMISSION_ENDS, "ends = 2024-05-07T15:00:00Z").replace(
        "starts = 2024-04-30T15:00:00Z", "starts = 2024-05-07T15:00:00Z"
    )
    preview, saved = preview_then_save(organiser, EDIT, edited)
    text = page_text(preview)
    assert preview.status_code == 200
    assert "Phase 'submission' ends 2024-05-07 15:00 UTC instead of 2024-04-30 15:00 UTC." in text
    assert '<span class="add">+ends = 2024-05-07T15:00:00Z</span>' in text
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/organiser/c/lagc-2024")
    with db() as session:
        found = get_challenge(session, "lagc-2024")
        ends = session.exec(
            select(Phase.ends_at).where(Phase.challenge_id == found.id, Phase.key == "submission")
        ).one()
        assert ends.strftime("%Y-%m-%d %H:%M") == "2024-05-07 15:00"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "challenge.config_edited")).one()
        assert event.details["new_sha256"] == found.config_sha256 != event.details["old_sha256"]
        assert event.actor_id is not None and event.challenge_id == found.id


def test_save_without_a_preview_of_that_text_only_previews(organiser, db, challenge):
    before = _current(db)
    edited = before.replace("pool_eur = 1_000_000", "pool_eur = 2_000_000")
    response = post_config(organiser, EDIT, edited, "save", sha="0" * 64)
    assert response.status_code == 200
    assert "Prize pool: EUR 1,000,000 becomes EUR 2,000,000." in page_text(response)
    assert _current(db) == before


def test_the_slug_of_an_existing_challenge_cannot_change(organiser, db, challenge):
    before = _current(db)
    preview, saved = preview_then_save(organiser, EDIT, before.replace('slug = "lagc-2024"', 'slug = "lagc-2025"'))
    assert preview.status_code == 422 and "challenge.slug cannot change" in page_text(preview)
    assert saved.status_code == 422
    with db() as session:
        assert get_challenge(session, "lagc-2025") is None


def test_a_new_challenge_starts_from_the_2024_template(organiser, db, challenge):
    template = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page_text(organiser.get("/organiser/new")), re.S)[1]
    assert 'slug = "new-challenge"' in template
    preview, saved = preview_then_save(organiser, "/organiser/new", template)
    assert "New challenge 'new-challenge'" in page_text(preview)
    assert saved.status_code == 302
    taken = post_config(organiser, "/organiser/new", _current(db))
    assert taken.status_code == 422 and "'lagc-2024' is taken" in page_text(taken)
    with db() as session:
        assert len(session.exec(select(Challenge)).all()) == 2


def _import(client, text: bytes, url: str = EDIT):
    html = client.get(url).get_data(as_text=True)
    return client.post(
        url,
        data={"action": "import", "csrf_token": csrf_token(html), "file": (io.BytesIO(text), "challenge.toml")},
        content_type="multipart/form-data",
    )


def test_export_then_import_round_trips_and_an_edited_import_saves(organiser, db, challenge):
    exported = organiser.get("/organiser/c/lagc-2024/config.toml")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="lagc-2024.toml"'
    same = _import(organiser, exported.data)
    assert same.status_code == 200 and "Nothing: the file is the same" in page_text(same)
    edited = exported.data.replace(b"max_winners = 4", b"max_winners = 3")
    preview = _import(organiser, edited)
    assert "Prize most winners: 4 becomes 3." in page_text(preview)
    _, saved = preview_then_save(organiser, EDIT, edited.decode("utf-8"))
    assert saved.status_code == 302
    assert organiser.get("/organiser/c/lagc-2024/config.toml").data == edited


def test_an_import_too_large_or_not_text_is_refused(organiser, challenge):
    assert "larger than" in page_text(_import(organiser, b"#" * (600 * 1024)))
    refused = _import(organiser, b"\xff\xfe\x00bad")
    assert refused.status_code == 422 and "not UTF-8" in page_text(refused)
