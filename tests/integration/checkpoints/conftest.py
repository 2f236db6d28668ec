"""Fixtures for checkpoint intake: eligible teams with API tokens, a tiny sound checkpoint, a tus client over
the Flask test client, and a view of the storage tree to compare before and after."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.accounts.models import Role
from tests import factories
from tests.helpers import TUS, bearer, chunk_checksum, meta


class Intake:
    """A script's view of the intake API, over the Flask test client."""

    def __init__(self, client, headers: dict, app):
        self.client, self.headers, self.app = client, headers, app

    def start(self, label: str = "Aurora 30B v1", slug: str = "lagc-2024") -> int:
        response = self.client.post(
            f"/api/v1/challenges/{slug}/submissions", json={"label": label}, headers=self.headers
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def create(self, submission: int | str, name: str, length: int, prefix: str = "/api/v1", **extra):
        headers = {
            **self.headers,
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": meta(filename=name, submission=str(submission), **extra),
        }
        return self.client.post(f"{prefix}/uploads", headers=headers)

    def patch(self, url: str, offset: int, data: bytes, checksum: str | None = "auto", headers=None):
        sent = {
            **(self.headers if headers is None else headers),
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }
        if checksum is not None:
            sent["Upload-Checksum"] = chunk_checksum(data) if checksum == "auto" else checksum
        return self.client.patch(url, data=data, headers=sent)

    def head(self, url: str):
        return self.client.head(url, headers={**self.headers, **TUS})

    def upload(self, submission: int, name: str, data: bytes, chunk: int = 64, **extra) -> str:
        """Upload one file in chunks; returns its upload URL."""
        created = self.create(submission, name, len(data), **extra)
        assert created.status_code == 201, created.get_json()
        url = created.headers["Location"]
        for start in range(0, len(data), chunk):
            response = self.patch(url, start, data[start : start + chunk])
            assert response.status_code == 204, response.get_json()
        return url

    def upload_all(self, submission: int, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            self.upload(submission, name, data, chunk=max(1, len(data) // 3 + 1))

    def finalise(self, submission: int):
        return self.client.post(f"/api/v1/submissions/{submission}/finalise", headers=self.headers)

    def get(self, submission: int) -> dict:
        return self.client.get(f"/api/v1/submissions/{submission}", headers=self.headers).get_json()

    def run_jobs(self) -> None:
        """One scheduler cycle of the intake steps."""
        from sqlmodel import Session

        from app.checkpoints.jobs import STEPS

        for step in STEPS:
            with Session(self.app.extensions["lagc_engine"], expire_on_commit=False) as session:
                step(session, self.app.config["LAGC"])
                session.commit()


@pytest.fixture
def storage(app) -> Path:
    return app.config["LAGC"].storage_dir


@pytest.fixture
def eligible_team(client, make_user, db, challenge, app):
    """`eligible_team("a@x.eu", "Team A")` -> Intake for an entrant whose team is eligible (pass eligible=False
    for a team that has not applied)."""
    from app.accounts.models import User
    from app.accounts.services import find_user

    organiser_id = make_user("organiser-ck@lagc.eu", Role.organiser)

    def make(email: str, name: str, eligible: bool = True, slug: str = challenge) -> Intake:
        headers = bearer(client, make_user, db, email)
        with db() as session:
            user = find_user(session, email)
            team = factories.registered_team(session, user, slug, name)
            session.flush()
            if eligible:
                factories.eligible(session, team, user, session.get(User, organiser_id))
        return Intake(client, headers, app)

    return make


@pytest.fixture
def entrant(eligible_team) -> Intake:
    return eligible_team("ana@aurora.eu", "Aurora Labs")


@pytest.fixture
def limited_challenge(db):
    """A copy of the 2024 challenge with small limits: 2 per day, 3 in all, 4,000 bytes per submission."""
    text = factories.bundled_text(slug="tiny-limits")
    text = text.split("[limits]")[0] + (
        "[limits]\nsubmissions_per_day = 2\nsubmissions_total = 3\n"
        "max_bytes_per_submission = 4000\nupload_expiry_hours = 1\n"
    )
    with db() as session:
        return factories.open_challenge(session, text).slug
