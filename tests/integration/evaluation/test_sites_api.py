"""The site API through the Flask test client, on SQLite and PostgreSQL: who may call it, what a site sees,
the life of a lease, idempotent uploads and results, ingestion once, and bad input never a 500."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.challenges.models import Challenge
from app.db import utcnow
from app.teams.models import Team
from evaluation.clusters import default_profiles
from evaluation.models import Evaluation, EvaluationState as S, GpuCharge, Site, SiteUpload, TaskResult
from evaluation.sites.leases import grant
from evaluation.status import status_of
from tests.helpers import bearer, sign_in

from ._platform import accepted_submission
from ._sites import API, SiteAgent, cycle, heard_from, register, results_json, run_to_the_end, sites_challenge


def _leased(app, client, db, settings, name="alpha"):
    """A queued site evaluation leased to one online site: (the site's agent, the evaluation)."""
    sites_challenge(db, settings)
    agent = SiteAgent(client, register(db, name))
    assert agent.heartbeat().status_code == 200
    [ev] = cycle(app, settings)
    return agent, ev


def test_a_queued_evaluation_is_leased_to_an_online_site_with_no_platform_path_in_it(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    assert (S(ev.state), ev.runner, ev.cluster, ev.work_dir) == (S.dispatching, "site", "local-slurm", None)
    summary = agent.heartbeat([(ev.id, 1)]).get_json()["leases"]
    assert summary == [{"evaluation_id": ev.id, "attempt": 1, "state": "dispatching", "cancel": False, "bound": False}]
    [lease] = agent.leases().get_json()["leases"]
    text = json.dumps(lease)
    assert str(settings.storage_dir) not in text and str(settings.instance_dir) not in text
    request = lease["request"]
    assert "checkpoint" not in request and "include_path" not in request and "clusters" not in request
    assert request["profile"]["name"] == "local-slurm" and request["plan"]["backend"] == "hf"
    assert lease["job_name"] == f"lagc-eval-{ev.id}-a1"
    [file] = [f for f in request["model"]["files"] if f["name"] == "config.json"]
    assert agent.file(ev.id, 1, file["sha256"]).data == b"{}"


def test_a_site_sees_only_its_own_leases_and_their_files(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    other = SiteAgent(client, register(db, "beta"))
    [sha] = [
        f["sha256"]
        for f in agent.leases().get_json()["leases"][0]["request"]["model"]["files"]
        if f["name"] == "config.json"
    ]
    assert other.leases().get_json() == {"leases": []}
    assert other.file(ev.id, 1, sha).status_code == 404
    assert other.event(ev.id, 1, "staged").status_code == 404
    assert agent.file(ev.id, 1, "0" * 64).status_code == 404
    assert agent.file(ev.id, 2, sha).status_code == 409  # not this attempt
    ranged = agent.file(ev.id, 1, sha, Range="bytes=1-")
    assert (ranged.status_code, ranged.data) == (206, b"}")


def test_a_site_token_opens_no_other_route_and_a_persons_token_none_of_the_sites(app, client, db, settings, make_user):
    token = register(db, "alpha")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/challenges", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    personal = bearer(client, make_user, db, "org@example.eu", Role.organiser)
    for headers in ({}, personal, {"Authorization": "Bearer lagc_site_nope"}):
        answer = client.get(API + "/leases", headers=headers)
        assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    with db() as session:
        site = session.exec(select(Site)).one()
        assert token not in (site.token_sha256,) and site.token_sha256 == hashlib.sha256(token.encode()).hexdigest()


def test_a_lease_runs_to_the_end_and_its_results_are_ingested_once(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    answer = run_to_the_end(agent, ev.id)
    assert answer.status_code == 200 and answer.get_json()["state"] == "finished"
    data = results_json()
    again = agent.result(
        ev.id,
        1,
        [
            {
                "path": "output/model/results_2026-12-04T10-00-00.json",
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        ],
    )
    assert again.status_code == 200 and again.get_json() == answer.get_json()
    same = agent.upload(ev.id, 1, "output/model/results_2026-12-04T10-00-00.json", data)
    assert same.status_code == 200 and same.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
    with Session(app.extensions["lagc_engine"]) as session:
        done = session.get(Evaluation, ev.id)
        assert status_of(session, done, organiser=False)["site"] == "alpha"
        rows = session.exec(select(TaskResult).where(TaskResult.evaluation_id == ev.id)).all()
        charges = session.exec(select(GpuCharge).where(GpuCharge.evaluation_id == ev.id)).all()
        actions = [
            e.action
            for e in session.exec(
                select(AuditEvent).where(AuditEvent.subject_type == "evaluation").order_by(AuditEvent.id)
            ).all()
        ]
    assert S(done.state) == S.finished and done.job_id == "77" and done.node == "node1"
    assert {r.task: r.value for r in rows} == {"lagc_capitals_mc": 0.5, "lagc_capitals_yesno": 0.625}
    assert len(charges) == 1 and done.provenance["site"]["site"] == "alpha"
    assert done.provenance["kept"]["results"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert (settings.storage_dir / done.provenance["kept"]["results"][0]["file"]).read_bytes() == data
    assert not (settings.storage_dir / "sites" / str(ev.id)).joinpath("attempt-1").exists()  # kept once
    assert done.provenance["site"]["job_id"] == "77" and done.provenance["task_hashes"]["lagc_capitals_mc"]
    assert actions == [
        "evaluation.queued",
        "evaluation.leased",
        "evaluation.staged",
        "evaluation.submitted",
        "evaluation.output_uploaded",
        "evaluation.finished",
        "evaluation.result",
    ]


def test_a_tampered_or_conflicting_upload_is_refused_and_nothing_is_stored(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    for event, body in (("staged", {}), ("submitting", {"job_dir": "/j"}), ("submitted", {"job_id": "5"})):
        agent.event(ev.id, 1, event, **body)
    path, data = "output/m/results_x.json", results_json()
    tampered = agent.upload(ev.id, 1, path, data, sha256=hashlib.sha256(b"other").hexdigest())
    assert tampered.status_code == 422 and "sha256" in tampered.get_json()["detail"]
    assert agent.upload(ev.id, 1, path, data).status_code == 201
    assert agent.upload(ev.id, 1, path, data + b" ").status_code == 409
    assert agent.upload(ev.id, 1, "output/../../etc/results_x.json", data).status_code in (404, 422)
    assert agent.upload(ev.id, 1, "output/m/model.safetensors", data).status_code == 422
    early = agent.result(ev.id, 1, [{"path": "output/m/results_other.json", "sha256": "a" * 64, "bytes": 1}])
    assert early.status_code == 409
    with Session(app.extensions["lagc_engine"]) as session:
        assert [u.path for u in session.exec(select(SiteUpload)).all()] == [path]
        assert S(session.get(Evaluation, ev.id).state) == S.dispatched


def test_results_whose_task_hashes_differ_from_the_platforms_are_refused(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    with Session(app.extensions["lagc_engine"]) as session:  # as pinned for a suite bundle of the challenge's
        row = session.get(Evaluation, ev.id)
        row.request = {
            **row.request,
            "task_hashes": {"lagc_capitals_mc": "hash-lagc_capitals_mc", "lagc_capitals_yesno": "the-platforms-hash"},
        }
        session.add(row)
        session.commit()
    answer = run_to_the_end(agent, ev.id)
    assert answer.status_code == 422 and "lagc_capitals_yesno" in answer.get_json()["detail"]
    with Session(app.extensions["lagc_engine"]) as session:
        failed = session.get(Evaluation, ev.id)
        assert S(failed.state) == S.failed and failed.retry_at is not None and "differs" in failed.failure_reason
        assert session.exec(select(TaskResult)).all() == []


def test_an_unrenewed_lease_whose_job_never_started_moves_to_another_site(app, client, db, settings):
    sites_challenge(db, settings)
    alpha, beta = SiteAgent(client, register(db, "alpha")), SiteAgent(client, register(db, "beta", max_jobs=1))
    alpha.heartbeat()
    [ev] = cycle(app, settings)
    assert ev.site_id is not None
    later = utcnow() + timedelta(seconds=settings.site_lease_seconds + 1)
    heard_from(app, "beta", later)  # alpha says nothing more: its lease expires, and it is offline
    [moved] = cycle(app, settings, later)
    with Session(app.extensions["lagc_engine"]) as session:
        names = {s.id: s.name for s in session.exec(select(Site)).all()}
    assert names[moved.site_id] == "beta" and moved.attempt == 1
    assert alpha.event(ev.id, 1, "submitting", job_dir="/j").status_code == 404  # alpha may not submit it
    assert beta.event(ev.id, 1, "submitting", job_dir="/j").status_code == 200
    much_later = later + timedelta(seconds=settings.site_lease_seconds + 1)
    heard_from(app, "alpha", much_later)  # bound now: beta's silence no longer moves it
    [kept] = cycle(app, settings, much_later)
    assert names[kept.site_id] == "beta" and S(kept.state) == S.dispatching
    assert any("expired" in (h.get("reason") or "") for h in kept.history)


def test_no_two_processes_can_take_the_same_lease(app, db, settings):
    """Two schedulers (or a scheduler and a revoke) granting the same queued evaluation at once: one wins."""
    sites_challenge(db, settings)
    register(db, "alpha"), register(db, "beta")
    cycle(app, settings)  # queued (no site is online)
    engine, profile, outcomes = app.extensions["lagc_engine"], default_profiles()["local-slurm"], []
    first, second = Session(engine, expire_on_commit=False), Session(engine, expire_on_commit=False)
    ev1, ev2 = first.exec(select(Evaluation)).one(), second.exec(select(Evaluation)).one()
    alpha, beta = (
        first.exec(select(Site).where(Site.name == "alpha")).one(),
        second.exec(select(Site).where(Site.name == "beta")).one(),
    )
    second.rollback()  # nothing held open by the second session while the first writes
    outcomes.append(grant(first, ev1, alpha, "local-slurm", profile, utcnow(), 60))
    racer = threading.Thread(
        target=lambda: (
            outcomes.append(grant(second, ev2, beta, "local-slurm", profile, utcnow(), 60)),
            second.commit(),
        )
    )
    racer.start()
    racer.join(0.5)  # PostgreSQL: waits for the first transaction's row lock; SQLite: for its write lock
    first.commit()
    racer.join(30)
    first.close(), second.close()
    assert sorted(outcomes) == [False, True]
    with Session(engine) as session:
        [ev] = session.exec(select(Evaluation)).all()
        assert session.get(Site, ev.site_id).name == "alpha"
        assert [h["to"] for h in ev.history] == ["queued", "dispatching"]


def test_revoking_a_site_gives_its_unstarted_lease_back_and_fails_its_running_job(app, client, db, settings):
    sites_challenge(db, settings)
    with db() as session:  # a second submission of the same team, so the site holds two
        accepted_submission(
            session,
            settings,
            session.exec(select(Challenge)).one(),
            session.exec(select(Team)).one(),
            session.exec(select(User)).one(),
        )
    agent = SiteAgent(client, register(db, "alpha"))
    agent.heartbeat()
    first, second = cycle(app, settings)
    for event, body in (("staged", {}), ("submitting", {"job_dir": "/j"}), ("submitted", {"job_id": "9"})):
        assert agent.event(first.id, 1, event, **body).status_code == 200
    runner = app.test_cli_runner()
    assert runner.invoke(args=["sites", "revoke", "alpha"]).exit_code == 0
    with Session(app.extensions["lagc_engine"]) as session:
        started, unstarted = session.get(Evaluation, first.id), session.get(Evaluation, second.id)
        assert (S(unstarted.state), unstarted.site_id) == (S.queued, None)
        assert S(started.state) == S.failed and started.retry_at is not None and "revoked" in started.failure_reason
    assert agent.heartbeat().status_code == 401
    listed = json.loads(runner.invoke(args=["sites", "list", "--all"]).output)
    assert [(s["site"], s["state"]) for s in listed] == [("alpha", "revoked")]


def test_sites_add_prints_the_token_once_and_list_shows_where_each_site_stands(app, client, db, settings):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["sites", "add", "lumi", "--cluster", "lumi-g", "--max-jobs", "8"])
    assert added.exit_code == 0, added.output
    out = json.loads(added.output)
    assert set(out) == {"site", "cluster", "token"} and out["token"].startswith("lagc_site_")
    assert runner.invoke(args=["sites", "add", "lumi", "--cluster", "lumi-g"]).exit_code != 0
    assert "no cluster profile" in runner.invoke(args=["sites", "add", "x", "--cluster", "nowhere"]).output
    assert "lower-case" in runner.invoke(args=["sites", "add", "Bad Name", "--cluster", "lumi-g"]).output
    SiteAgent(client, out["token"]).heartbeat()
    [row] = json.loads(runner.invoke(args=["sites", "list"]).output)
    assert {k: row[k] for k in ("site", "cluster", "state", "running", "queued")} == {
        "site": "lumi",
        "cluster": "lumi-g",
        "state": "online",
        "running": 0,
        "queued": 0,
    }
    assert row["last_seen"] and out["token"] not in runner.invoke(args=["sites", "list"]).output


def test_eval_list_prints_each_evaluation_with_its_site_and_scores(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    run_to_the_end(agent, ev.id)
    runner = app.test_cli_runner()
    with Session(app.extensions["lagc_engine"]) as session:
        slug = session.exec(select(Challenge.slug)).one()
    [row] = json.loads(runner.invoke(args=["eval", "list", "--challenge", slug]).output)
    assert row == {
        "id": ev.id,
        "team": "Team sites",
        "submission": ev.submission_id,
        "state": "finished",
        "site": "alpha",
        "cluster": "local-slurm",
        "job_id": "77",
        "tasks": {
            "lagc_capitals_mc": {"metric": "acc", "value": 0.5, "stderr": 0.01},
            "lagc_capitals_yesno": {"metric": "acc", "value": 0.625, "stderr": 0.01},
        },
    }
    assert runner.invoke(args=["eval", "list", "--challenge", "nope"]).exit_code != 0


def test_bad_input_to_the_site_api_gets_a_clear_4xx(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    headers = agent.headers
    cases = [
        client.post(API + "/heartbeat", headers=headers, data="{nope", content_type="application/json"),
        client.post(API + "/heartbeat", headers=headers, json={"holding": [{"evaluation_id": "x"}]}),
        agent.event(ev.id, 1, "exploded"),
        agent.event(ev.id, 1, "submitting"),  # no job folder
        agent.event(ev.id, 1, "running"),  # not submitted yet
        agent.event(2**31 - 1, 1, "staged"),
        client.post(f"{API}/leases/{ev.id}/1/result", headers=headers, json={"status": {}, "outputs": []}),
        agent.file(ev.id, 1, "../../etc/passwd"),
        client.put(f"{API}/leases/{ev.id}/1/outputs/output/m/results_a.json", headers=headers, data=b"x"),
    ]
    statuses = [c.status_code for c in cases]
    assert all(400 <= s < 500 for s in statuses), statuses
    assert statuses[:7] == [400, 422, 422, 422, 409, 404, 422]


def test_the_organisers_sites_page_shows_each_site_and_the_openapi_document_the_site_routes(
    app, client, db, settings, make_user
):
    register(db, "lumi", "lumi-g")
    document = client.get("/api/v1/openapi.json").get_json()
    site_paths = {p: ops for p, ops in document["paths"].items() if p.startswith("/api/v1/sites/")}
    assert set(site_paths) == {
        "/api/v1/sites/heartbeat",
        "/api/v1/sites/leases",
        "/api/v1/sites/leases/{evaluation_id}/{attempt}/events",
        "/api/v1/sites/leases/{evaluation_id}/{attempt}/files/{sha256}",
        "/api/v1/sites/leases/{evaluation_id}/{attempt}/outputs/{path}",
        "/api/v1/sites/leases/{evaluation_id}/{attempt}/result",
    }
    assert all(op["x-access"] == "agent" for ops in site_paths.values() for op in ops.values())
    make_user("team@example.eu", Role.entrant)
    sign_in(client, "team@example.eu")
    assert client.get("/organiser/sites/").status_code == 403
    organiser = app.test_client()
    make_user("org@example.eu", Role.organiser)
    sign_in(organiser, "org@example.eu")
    page = organiser.get("/organiser/sites/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-site="lumi"' in html and "lumi-g" in html and "offline" in html and "never" in html


def test_the_demo_registers_an_offline_site_that_its_public_token_brings_online(app, client, db, settings):
    from evaluation.sites.demo import DEMO_SITE, DEMO_TOKEN, extend_demo

    with db() as session:
        extend_demo(session, settings, None)
        extend_demo(session, settings, None)  # idempotent
    runner = app.test_cli_runner()
    [row] = json.loads(runner.invoke(args=["sites", "list"]).output)
    assert (row["site"], row["cluster"], row["state"]) == (DEMO_SITE, "local", "offline")
    assert SiteAgent(client, DEMO_TOKEN).heartbeat().get_json()["site"] == DEMO_SITE
    assert json.loads(runner.invoke(args=["sites", "list"]).output)[0]["state"] == "online"


def test_an_organisers_cancel_reaches_the_site_and_its_report_ends_the_evaluation(app, client, db, settings, make_user):
    from evaluation import services

    agent, ev = _leased(app, client, db, settings)
    for event, body in (("staged", {}), ("submitting", {"job_dir": "/j"}), ("submitted", {"job_id": "12"})):
        agent.event(ev.id, 1, event, **body)
    organiser = make_user("boss@example.eu", Role.organiser)
    with db() as session:
        services.request_cancel(session, session.get(Evaluation, ev.id), organiser)
    [summary] = agent.heartbeat([(ev.id, 1)]).get_json()["leases"]
    assert summary["cancel"] is True and summary["state"] == "dispatched"
    assert agent.event(ev.id, 1, "cancelled", elapsed_seconds=12.0, node="node1").status_code == 200
    with Session(app.extensions["lagc_engine"]) as session:
        ended = session.get(Evaluation, ev.id)
        assert S(ended.state) == S.cancelled and ended.elapsed_seconds == 12.0
    assert agent.heartbeat().get_json()["leases"] == []
    assert agent.event(ev.id, 1, "cancelled").status_code == 409  # once


def test_a_result_with_an_oversized_provenance_is_refused_before_anything_is_ingested(app, client, db, settings):
    agent, ev = _leased(app, client, db, settings)
    answer = client.post(
        f"{API}/leases/{ev.id}/1/result",
        headers=agent.headers,
        json={
            "status": {},
            "outputs": [{"path": "output/m/results_a.json", "sha256": "a" * 64, "bytes": 1}],
            "provenance": {"notes": "x" * 70_000},
        },
    )
    assert answer.status_code == 422 and "provenance" in answer.get_json()["errors"]
