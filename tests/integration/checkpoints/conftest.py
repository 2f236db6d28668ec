"""Fixtures for checkpoint intake: eligible teams with API tokens, a tiny sound checkpoint, a tus client over
the Flask test client, and a view of the storage tree to compare before and after."""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from app.accounts.models import Role
from tests.integration.conftest import bearer, open_config_text

TUS = {"Tus-Resumable": "1.0.0"}
CONFIG = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 4}
APPLICATION = {
    "legal_name": "Aurora Language Labs Oy", "country": "FI", "founded_on": "2021-05-10",
    "staff_headcount": 24, "annual_turnover_eur": 1_800_000, "balance_sheet_total_eur": 2_500_000,
    "accounts_approved": True, "previous_period": None, "partner_enterprises": [], "linked_enterprises": [],
    "public_bodies_control_percent": 0, "responsible_ai_commitment": True,
    "large_scale_ai_experience": "We trained a 13B Finnish-English model on LUMI in 2023.",
    "planned_model": {"parameters": 34_000_000_000, "from_scratch": True},
}


def checkpoint_files(seed: int = 0) -> dict[str, bytes]:
    """A sound one-file checkpoint (GPT-2 layout, 28 parameters) as name -> bytes."""
    rng = np.random.default_rng(seed)
    weights = save({"wte.weight": rng.standard_normal((4, 4), dtype=np.float32),
                    "ln_f.weight": np.ones(12, dtype=np.float32)}, metadata={"format": "pt"})
    return {"config.json": json.dumps(CONFIG).encode(), "tokenizer.json": b'{"version": "1.0"}',
            "README.md": b"---\nlicense: apache-2.0\n---\n# Tiny\n", "LICENSE": b"Apache License 2.0\n",
            "model.safetensors": weights}


def storage_tree(root: Path) -> dict[str, str]:
    """Every file under the storage root (relative path -> sha256), ignoring empty folders."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def chunk_checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


class Intake:
    """A script's view of the intake API, over the Flask test client."""

    def __init__(self, client, headers: dict, app):
        self.client, self.headers, self.app = client, headers, app

    def start(self, label: str = "Aurora 30B v1", slug: str = "lagc-2024") -> int:
        response = self.client.post(f"/api/v1/challenges/{slug}/submissions", json={"label": label},
                                    headers=self.headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def create(self, submission: int | str, name: str, length: int, prefix: str = "/api/v1", **extra):
        headers = {**self.headers, **TUS, "Upload-Length": str(length),
                   "Upload-Metadata": meta(filename=name, submission=str(submission), **extra)}
        return self.client.post(f"{prefix}/uploads", headers=headers)

    def patch(self, url: str, offset: int, data: bytes, checksum: str | None = "auto", headers=None):
        sent = {**(self.headers if headers is None else headers), **TUS, "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream"}
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
            response = self.patch(url, start, data[start:start + chunk])
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
    from app.challenges.services import get_challenge
    from app.eligibility.services import confirm_experience, rules_for, submit_application
    from app.teams.services import register_team

    organiser_id = make_user("organiser-ck@lagc.eu", Role.organiser)

    def make(email: str, name: str, eligible: bool = True, slug: str = challenge) -> Intake:
        headers = bearer(client, make_user, db, email)
        with db() as session:
            found = get_challenge(session, slug)
            user = find_user(session, email)
            team = register_team(session, user, found, name)
            session.flush()
            if eligible:
                application = submit_application(session, team, user, dict(APPLICATION), rules_for(found))
                confirm_experience(session, application, session.get(User, organiser_id))
        return Intake(client, headers, app)
    return make


@pytest.fixture
def entrant(eligible_team) -> Intake:
    return eligible_team("ana@aurora.eu", "Aurora Labs")


@pytest.fixture
def limited_challenge(db):
    """A copy of the 2024 challenge with small limits: 2 per day, 3 in all, 4,000 bytes per submission."""
    from app.challenges.services import load_config_text
    from app.settings import BUNDLED_CHALLENGES

    text = (BUNDLED_CHALLENGES / "lagc-2024.toml").read_text().replace('slug = "lagc-2024"', 'slug = "tiny-limits"')
    text = text.split("[limits]")[0] + ("[limits]\nsubmissions_per_day = 2\nsubmissions_total = 3\n"
                                        "max_bytes_per_submission = 4000\nupload_expiry_hours = 1\n")
    with db() as session:
        return load_config_text(session, open_config_text(text)).slug

