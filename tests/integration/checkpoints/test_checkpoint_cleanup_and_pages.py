"""The scheduled clean-up of abandoned uploads, and who sees which submission page."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from app.accounts.models import Role
from scoring.units import human_bytes
from tests.factories import checkpoint_files
from tests.helpers import sign_in, storage_tree


def test_abandoned_uploads_are_deleted_and_their_submission_stops_counting(entrant, storage, db):
    from app.checkpoints.models import Submission, Upload
    from app.db import utcnow

    submission = entrant.start()
    url = entrant.create(submission, "config.json", 100).headers["Location"]
    assert entrant.patch(url, 0, b"{").status_code == 204
    orphan = storage / "uploads" / ("f" * 32 + ".part")  # a crash between the file and its row
    orphan.write_bytes(b"half")
    os.utime(orphan, (time.time() - 2 * 86400,) * 2)
    entrant.run_jobs()
    assert entrant.head(url).status_code == 200  # not expired yet: kept
    with db() as session:
        for upload in session.query(Upload).all():
            upload.expires_at = utcnow() - timedelta(minutes=1)
        row = session.get(Submission, submission)
        row.created_at = utcnow() - timedelta(days=3)
    entrant.run_jobs()
    assert storage_tree(storage) == {}
    assert entrant.head(url).status_code == 404
    body = entrant.get(submission)
    assert body["status"] == "rejected" and "Abandoned" in body["findings"]["errors"][0]


def test_pages_show_a_team_its_submissions_and_hide_them_from_other_teams(client, entrant, eligible_team, make_user):
    submission = entrant.start("Aurora 30B v1")
    entrant.upload_all(submission, checkpoint_files())
    entrant.finalise(submission)
    entrant.run_jobs()
    sign_in(client, "ana@aurora.eu")
    listing = client.get("/c/lagc-2024/submissions").get_data(as_text=True)
    assert "Aurora 30B v1" in listing and "accepted" in listing
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    assert "model.safetensors" in page and "F32: 28" in page and "Files (pinned)" in page
    eligible_team("bob@baltic.eu", "Baltic Tensor")
    with client.session_transaction() as flask_session:
        flask_session.clear()
    sign_in(client, "bob@baltic.eu")
    assert client.get(f"/submissions/{submission}").status_code == 404
    assert "Aurora 30B v1" not in client.get("/c/lagc-2024/submissions").get_data(as_text=True)
    with client.session_transaction() as flask_session:
        flask_session.clear()
    make_user("olga@lagc.eu", Role.organiser)
    sign_in(client, "olga@lagc.eu")
    assert "Aurora 30B v1" in client.get("/c/lagc-2024/submissions").get_data(as_text=True)
    assert client.get(f"/submissions/{submission}").status_code == 200


def test_an_entrant_starts_an_upload_submission_from_the_page(client, eligible_team):
    from tests.helpers import submit

    eligible_team("ines@iberia.eu", "Iberia NLP")
    sign_in(client, "ines@iberia.eu")
    response = submit(client, "/c/lagc-2024/submissions", {"label": "Iberia 30B"}, page="/c/lagc-2024/submissions")
    assert response.status_code == 302 and "/submissions/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="uploader"' in page and "upload.js" in page


def test_the_submission_page_keeps_finalise_disabled_until_every_file_is_in(client, entrant):
    submission = entrant.start("Aurora 30B v2")
    sign_in(client, "ana@aurora.eu")
    assert 'id="finalise" data-ready="0" aria-describedby="finalise-hint"\n' in _finalise_button(client, submission)
    url = entrant.create(submission, "config.json", 100).headers["Location"]
    assert entrant.patch(url, 0, b"{").status_code == 204
    assert "disabled" in _finalise_button(client, submission)  # 1 of 100 bytes: not yet
    entrant.upload_all(submission, {"model.safetensors": checkpoint_files()["model.safetensors"]})
    assert "disabled" in _finalise_button(client, submission)  # config.json still half sent
    assert entrant.patch(url, 1, b"x" * 99).status_code == 204
    assert "disabled" not in _finalise_button(client, submission)


def _finalise_button(client, submission: int) -> str:
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    return page[page.index('<button type="submit" id="finalise"') :].split(">", 1)[0]


def test_sizes_read_in_human_units_on_the_submission_pages(client, entrant):
    submission = entrant.start("Aurora 30B v1")
    files = checkpoint_files()
    files["README.md"] += b"A long model card. " * 300  # over a kilobyte in all: "6.1 kB", not "6,133 bytes"
    entrant.upload_all(submission, files)
    entrant.finalise(submission)
    entrant.run_jobs()
    sign_in(client, "ana@aurora.eu")
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    total = sum(len(data) for data in files.values())
    assert f"<dt>Size</dt><dd>{human_bytes(total)}</dd>" in page and human_bytes(total).endswith(" kB")
    card = len(files["README.md"])
    assert f'title="{card:,} bytes">{human_bytes(card)}<' in page
    listing = client.get("/c/lagc-2024/submissions").get_data(as_text=True)
    assert f"<td>{human_bytes(total)}</td>" in listing and "of up to 200 GB each" in listing
