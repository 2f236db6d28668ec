"""The site agent's speed figures (issue 15), on this machine:

1. staging: a checkpoint file of --gib GiB fetched from a real platform (gunicorn) over HTTP by the agent's
   stager (streamed to disk, sha256 checked) against ``sha256sum`` of the same file (warm page cache for both);
2. server time of a heartbeat and of a lease listing with --sites sites and --queued queued site evaluations
   (each site holding 4 leases), in-process through Flask's test client, on SQLite and (with
   TEST_POSTGRES_URL) PostgreSQL; also one scheduler leasing cycle;
3. an idle site: from an evaluation queued to its ``sbatch`` (the batch script written just before it) with a
   real platform, a real agent (--poll seconds) and the real local Slurm cluster (SLURM_CONF), --samples times.

    eval "$(bash scripts/services/all.sh start)"
    .venv/bin/python bench/site_agent.py [--gib 1] [--sites 50] [--queued 1000] [--samples 5] [--poll 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session, select  # noqa: E402

from app.db import session_scope, utcnow  # noqa: E402
from evaluation.agent.client import PlatformClient  # noqa: E402
from evaluation.agent.staging import Stager  # noqa: E402
from evaluation.models import Evaluation, EvaluationState as S, Site  # noqa: E402
from tests.integration.evaluation._live import AgentProcess, Live, wait_for  # noqa: E402
from tests.integration.evaluation._platform import (  # noqa: E402
    accepted_submission,
    challenge_text,
    make_challenge,
    make_team,
)

GiB = 1024**3


def _sites_challenge(engine, settings, slug: str, email: str, model: Path | None = None) -> int:
    """A challenge run by sites serving local-slurm (fake lm-eval), a team and an accepted submission."""
    text = challenge_text(
        runner="sites", cluster="local-slurm", clusters=["local-slurm"], max_concurrent={"local-slurm": 50}
    ).replace('slug = "demo"', f'slug = "{slug}"')
    with session_scope(engine) as session:
        challenge = make_challenge(session, text)
        user, team = make_team(session, challenge, email)
        return accepted_submission(session, settings, challenge, team, user, model=model).id


def staging(root: Path, gib: float) -> dict:
    """Seconds for sha256sum and for the agent's download of the same file, and the ratio of throughputs."""
    model = root / "big-model"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    with open(model / "model.safetensors", "wb") as fh:
        for _ in range(int(gib * 1024)):
            fh.write(os.urandom(1024 * 1024))
    live = Live(root / "staging", f"sqlite:///{root / 'staging.db'}", lease_seconds=600).start()
    try:
        client = PlatformClient(live.url, live.add_site("bench"))
        submission = _sites_challenge(live.engine, live.settings, "bench-staging", "staging@example.eu", model)
        lease = wait_for(
            lambda: (
                client.call("POST", "/heartbeat", {"agent": {}, "holding": []})["leases"]
                and client.call("GET", "/leases")["leases"]
            ),
            300,
            "no lease",
        )[0]
        stored = live.settings.storage_dir / "submissions" / str(submission) / "model.safetensors"
        subprocess.run(["sha256sum", str(stored)], capture_output=True, check=True)  # warm the cache
        started = time.perf_counter()
        subprocess.run(["sha256sum", str(stored)], capture_output=True, check=True)
        hashing = time.perf_counter() - started
        live.stop_scheduler()  # nothing else runs while the download is timed
        client.call(
            "POST",
            "/heartbeat",
            {"agent": {}, "holding": [{"evaluation_id": lease["evaluation_id"], "attempt": lease["attempt"]}]},
        )  # renewed for the download
        stager = Stager(root / "agent", client)
        started = time.perf_counter()
        stager.stage_model(lease["evaluation_id"], lease["attempt"], lease["request"]["model"])
        fetching = time.perf_counter() - started
    finally:
        live.stop()
    size = stored.stat().st_size if stored.exists() else gib * GiB
    return {
        "bytes": size,
        "sha256sum_seconds": round(hashing, 3),
        "agent_seconds": round(fetching, 3),
        "sha256sum_mb_s": round(size / hashing / 1e6),
        "agent_mb_s": round(size / fetching / 1e6),
        "ratio": round(hashing / fetching, 2),
    }


def server_time(database_url: str, root: Path, sites: int, queued: int, rounds: int = 200) -> dict:
    """Milliseconds of a heartbeat and of a lease listing, handled in-process (no network), and of one
    scheduler leasing cycle, with this many sites and queued site evaluations."""
    from app import create_app
    from app.migrate import upgrade
    from app.settings import Settings
    from evaluation.cycle import Cycle
    from evaluation.sites.dispatch import lease_to_sites
    from evaluation.sites.services import add_site

    settings = Settings(env="testing", instance_dir=root, database_url=database_url, secret_key="b" * 40)
    upgrade(database_url)
    app = create_app(settings)
    engine = app.extensions["lagc_engine"]
    submission = _sites_challenge(engine, settings, "bench-api", "api@example.eu")
    tokens = []
    with session_scope(engine) as session:
        for i in range(sites):
            tokens.append(add_site(session, f"site-{i:03d}", "local-slurm", max_jobs=4)[1])
    _seed(engine, submission, queued, sites)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    with Session(engine) as session:
        held = [(e.id, e.attempt) for e in session.exec(select(Evaluation).where(Evaluation.site_id == 1)).all()]
    body = {"agent": {"version": "bench"}, "holding": [{"evaluation_id": e, "attempt": a} for e, a in held]}
    beat, listing = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        assert client.post("/api/v1/sites/heartbeat", json=body, headers=headers).status_code == 200
        beat.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert client.get("/api/v1/sites/leases", headers=headers).status_code == 200
        listing.append((time.perf_counter() - started) * 1000)
    trips = []  # the database's own latency at the time, for reading the figures on a shared machine
    with engine.connect() as connection:
        for _ in range(rounds):
            started = time.perf_counter()
            connection.exec_driver_sql("SELECT 1").all()
            trips.append((time.perf_counter() - started) * 1000)
    with session_scope(engine) as session:  # every site heard from now: one leasing cycle over the queue
        for site in session.exec(select(Site)).all():
            site.last_seen_at = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        lease_to_sites(Cycle(session, settings))
        cycle_ms = (time.perf_counter() - started) * 1000
    engine.dispose()
    return {
        "heartbeat_ms_median": round(statistics.median(beat), 2),
        "heartbeat_ms_p95": _p95(beat),
        "leases_ms_median": round(statistics.median(listing), 2),
        "leases_ms_p95": _p95(listing),
        "leasing_cycle_ms": round(cycle_ms, 1),
        "held_by_the_site": len(held),
        "select_1_ms_median": round(statistics.median(trips), 3),
        "select_1_ms_p95": _p95(trips),
    }


def _seed(engine, submission_id: int, queued: int, sites: int) -> None:
    """``queued`` queued site evaluations of the submission's team and 4 running ones at each site."""
    from app.checkpoints.models import Submission

    with session_scope(engine) as session:
        template = session.exec(select(Evaluation)).first()
        sub = session.get(Submission, submission_id)
        request = template.request if template else {}
        now = utcnow()
        rows = [
            Evaluation(
                challenge_id=sub.challenge_id,
                team_id=sub.team_id,
                submission_id=sub.id,
                runner="site",
                cluster="sites",
                request=request,
                queued_at=now + timedelta(microseconds=i),
            )
            for i in range(queued)
        ]
        rows += [
            Evaluation(
                challenge_id=sub.challenge_id,
                team_id=sub.team_id,
                submission_id=sub.id,
                runner="site",
                cluster="local-slurm",
                request=request,
                state=S.running,
                site_id=1 + i // 4,
                job_id=str(i),
                work_dir=f"/j/{i}",
                started_at=now,
            )
            for i in range(4 * sites)
        ]
        session.add_all(rows)


def _p95(values: list[float]) -> float:
    return round(sorted(values)[int(len(values) * 0.95) - 1], 2)


def idle_site(root: Path, samples: int, poll: float) -> dict:
    """Seconds from queued to sbatch at an idle site, with a real agent polling every ``poll`` seconds."""
    live = Live(root / "idle", f"sqlite:///{root / 'idle.db'}").start()
    agent = AgentProcess(live, "idle", live.add_site("idle"), root / "idle-agent", poll=poll)
    agent.start()
    latencies, leasing = [], []
    try:
        for i in range(samples):
            submission = _sites_challenge(live.engine, live.settings, f"bench-idle-{i}", f"idle{i}@example.eu")
            ev = wait_for(
                lambda: next(
                    (
                        e
                        for e in live.evaluations()
                        if e.submission_id == submission and S(e.state) in (S.finished, S.failed)
                    ),
                    None,
                ),
                120,
                "not finished",
            )
            queued = datetime.fromisoformat(ev.history[0]["at"]).timestamp()
            leased = datetime.fromisoformat(ev.history[1]["at"]).timestamp()
            script = root / "idle-agent" / "jobs" / str(ev.id) / "attempt-1" / "run.sh"
            submitted = script.stat().st_mtime
            latencies.append(submitted - queued)
            leasing.append(leased - queued)
    finally:
        agent.stop()
        live.stop()
    return {
        "poll_seconds": poll,
        "queued_to_leased_seconds": [round(x, 2) for x in leasing],
        "queued_to_sbatch_seconds": [round(x, 2) for x in latencies],
        "median": round(statistics.median(latencies), 2),
        "max": round(max(latencies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--skip", action="append", default=[], choices=["staging", "server", "idle"])
    args = parser.parse_args()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="lagc-bench-sites-") as scratch:
        root = Path(scratch)
        if "staging" not in args.skip:
            out["staging"] = staging(root / "s", args.gib)
            print(json.dumps({"staging": out["staging"]}), flush=True)
        if "server" not in args.skip:
            out["server_sqlite"] = server_time(f"sqlite:///{root / 'server.db'}", root / "q", args.sites, args.queued)
            print(json.dumps({"server_sqlite": out["server_sqlite"]}), flush=True)
            if os.environ.get("TEST_POSTGRES_URL"):
                from tests.helpers import create_database, drop_database

                name = f"lagc_bench_sites_{os.getpid()}"
                url = create_database(os.environ["TEST_POSTGRES_URL"], name)
                try:
                    out["server_postgres"] = server_time(url, root / "p", args.sites, args.queued)
                finally:
                    drop_database(os.environ["TEST_POSTGRES_URL"], name)
                print(json.dumps({"server_postgres": out["server_postgres"]}), flush=True)
        if "idle" not in args.skip:
            out["idle_site"] = idle_site(root / "i", args.samples, args.poll)
            print(json.dumps({"idle_site": out["idle_site"]}), flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
