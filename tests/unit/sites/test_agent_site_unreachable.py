"""The agent when its site cannot be reached over SSH: the round ends early and the next one comes after a
backoff; the job's record is kept as it was (the job runs on at the site) and nothing is reported as failed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from evaluation.agent.settings import AgentSettings
from evaluation.agent.state import BOUND, SUBMITTED
from evaluation.agent.work import Agent
from evaluation.clusters import ClusterProfile
from evaluation.runners.ssh import SiteUnreachable


class Platform:
    """The site API's answers (the platform is reachable; only the site is not)."""

    def __init__(self, leases):
        self.leases, self.calls = leases, []

    def call(self, method, path, body=None):
        self.calls.append((method, path, body))
        if path == "/heartbeat":
            return {"leases": [{"evaluation_id": 7, "attempt": 1, "state": "running", "cancel": False, "bound": True}]}
        return {"leases": self.leases}


class CutOff:
    """A gateway transport whose connection is down."""

    kind = "ssh"

    def run(self, argv, timeout=60) -> subprocess.CompletedProcess:
        raise SiteUnreachable("login.example.eu cannot be reached over SSH: Connection timed out")

    def __getattr__(self, name):
        def unreachable(*args, **kwargs):
            raise SiteUnreachable("login.example.eu cannot be reached over SSH")

        return unreachable


def _agent(tmp_path: Path, phase: str) -> tuple[Agent, Platform, dict]:
    profile = ClusterProfile.from_config({"name": "lumi-g", "scheduler": "slurm", "partition": "standard-g"})
    lease = {
        "evaluation_id": 7,
        "attempt": 1,
        "job_name": "lagc-eval-7-a1",
        "request": {"cluster": "lumi-g", "profile": profile.to_dict(), "timeout_minutes": 60},
    }
    settings = AgentSettings(
        platform="https://p.example.eu",
        site="mn5",
        workdir=tmp_path,
        token="t",
        site_dir=Path("/gpfs/lagc"),
        ssh="lagc@login.example.eu",
    )
    platform = Platform([lease])
    agent = Agent(settings, client=platform, transport=CutOff(), sleep=lambda s: None)
    record = agent.state.add(lease)
    record.update(phase=phase, job_dir="/gpfs/lagc/jobs/7/attempt-1", job_id="4242" if phase == SUBMITTED else None)
    agent.state.save()
    return agent, platform, record


def test_a_followed_job_whose_site_cannot_be_reached_is_kept_and_the_round_backs_off(tmp_path):
    agent, platform, record = _agent(tmp_path, SUBMITTED)
    assert agent.cycle() is False  # the loop sleeps agent.backoff.failed() before the next round
    assert record["phase"] == SUBMITTED and record["job_id"] == "4242" and record["outbox"] == []
    assert not any("/events" in path for _, path, _ in platform.calls)  # no failure reported


def test_a_bound_lease_is_not_failed_when_the_site_is_cut_off_before_sbatch(tmp_path):
    agent, platform, record = _agent(tmp_path, BOUND)
    assert agent.cycle() is False
    assert record["phase"] == BOUND and record["outbox"] == []  # the next round looks for the job by its name
