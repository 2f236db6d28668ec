"""Helpers for the site tests: a challenge whose evaluations run at sites, registered sites, a scheduler cycle,
and a site agent's calls made through the Flask test client (the real agent runs in the e2e tests)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from evaluation import jobs
from evaluation.cycle import Cycle
from evaluation.models import Evaluation, Site
from evaluation.sites.dispatch import lease_to_sites
from evaluation.sites.services import add_site

from ._platform import accepted_submission, challenge_text, make_challenge, make_team

API = "/api/v1/sites"


def sites_challenge(db, settings, model: Path | None = None, suite_dir: Path | None = None, **evaluation):
    """A challenge leased to sites serving local-slurm, a team and one accepted submission; its slug."""
    options = {
        "runner": "sites",
        "cluster": "local-slurm",
        "clusters": ["local-slurm"],
        "max_concurrent": {"local-slurm": 4},
        **evaluation,
    }
    with db() as session:
        challenge = make_challenge(session, challenge_text(suite_dir=suite_dir, **options))
        user, team = make_team(session, challenge, "sites@example.eu")
        accepted_submission(session, settings, challenge, team, user, model=model)
        return challenge.slug


def register(db, name: str, cluster: str = "local-slurm", max_jobs: int = 4) -> str:
    """A registered site's token."""
    with db() as session:
        return add_site(session, name, cluster, max_jobs)[1]


def cycle(app, settings, now: datetime | None = None) -> list[Evaluation]:
    """One scheduler cycle of the evaluation steps (with ``now``: the sites' leasing step alone, at that
    time); the evaluations afterwards (detached)."""
    with Session(app.extensions["lagc_engine"], expire_on_commit=False) as session:
        if now is None:
            jobs.run_evaluations(session, settings)
        else:
            lease_to_sites(Cycle(session, settings, now))
        session.commit()
        return session.exec(select(Evaluation).order_by(Evaluation.id)).all()


def heard_from(app, site: str, at: datetime) -> None:
    """The site's agent heartbeat at that time (as if the clock had moved on)."""
    with Session(app.extensions["lagc_engine"]) as session:
        row = session.exec(select(Site).where(Site.name == site)).one()
        row.last_seen_at = at
        session.add(row)
        session.commit()


class SiteAgent:
    """A site's calls of the site API, through the test client."""

    def __init__(self, client, token: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def heartbeat(self, holding=()):
        return self.client.post(
            API + "/heartbeat",
            headers=self.headers,
            json={
                "agent": {"version": "test", "host": "login1"},
                "holding": [{"evaluation_id": e, "attempt": a} for e, a in holding],
            },
        )

    def leases(self):
        return self.client.get(API + "/leases", headers=self.headers)

    def event(self, ev: int, attempt: int, event: str, **body):
        return self.client.post(
            f"{API}/leases/{ev}/{attempt}/events", headers=self.headers, json={"event": event, **body}
        )

    def file(self, ev: int, attempt: int, sha256: str, **headers):
        return self.client.get(f"{API}/leases/{ev}/{attempt}/files/{sha256}", headers={**self.headers, **headers})

    def upload(self, ev: int, attempt: int, path: str, data: bytes, sha256: str | None = None):
        return self.client.put(
            f"{API}/leases/{ev}/{attempt}/outputs/{path}",
            data=data,
            headers={
                **self.headers,
                "Content-Type": "application/octet-stream",
                "X-Content-SHA256": sha256 or hashlib.sha256(data).hexdigest(),
            },
        )

    def result(self, ev: int, attempt: int, outputs: list[dict], **status):
        return self.client.post(
            f"{API}/leases/{ev}/{attempt}/result",
            headers=self.headers,
            json={
                "status": {"exit_code": 0, "node": "node1", "elapsed_seconds": 36.0, **status},
                "outputs": outputs,
                "provenance": {"job_id": "77", "gpu_model": None, "lm_eval_version": "0.0-fake"},
            },
        )


def results_json(tasks=("lagc_capitals_mc", "lagc_capitals_yesno"), hashes: dict | None = None) -> bytes:
    """A results file as lm-eval writes it, for the suite's tasks."""
    return json.dumps(
        {
            "results": {
                t: {"alias": t, "acc,none": 0.5 + 0.125 * i, "acc_stderr,none": 0.01} for i, t in enumerate(tasks)
            },
            "versions": {t: 1.0 for t in tasks},
            "n-shot": {t: 0 for t in tasks},
            "n-samples": {t: {"original": 48, "effective": 8} for t in tasks},
            "task_hashes": hashes or {t: f"hash-{t}" for t in tasks},
            "lm_eval_version": "0.4.13",
            "transformers_version": "5.0",
            "total_evaluation_time_seconds": "1.5",
            "config": {
                "model": "hf",
                "model_args": "pretrained=/site/models/x",
                "batch_size": "4",
                "device": "cpu",
                "model_dtype": "torch.float32",
                "limit": 8.0,
                "random_seed": 0,
            },
        }
    ).encode()


def run_to_the_end(agent: SiteAgent, ev: int, attempt: int = 1, data: bytes | None = None):
    """staged, submitting, submitted, running, one results file uploaded, the result: its answer."""
    for event, body in (
        ("staged", {}),
        ("submitting", {"job_dir": f"/scratch/site/jobs/{ev}"}),
        ("submitted", {"job_id": "77"}),
        ("running", {"node": "node1"}),
    ):
        answer = agent.event(ev, attempt, event, **body)
        assert answer.status_code == 200, answer.get_json()
    data = data or results_json()
    path = "output/model/results_2026-12-04T10-00-00.json"
    assert agent.upload(ev, attempt, path, data).status_code == 201
    return agent.result(ev, attempt, [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}])
