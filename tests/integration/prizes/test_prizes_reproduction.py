"""Cross-site reproducibility against a real database: the award preview waits for each winner's reproduction
at another site, a discrepancy blocks it until an organiser resolves it with a justification, a reproduction
never counts on the board, and the organiser's page, the scorecard and the CLI show and do the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from evaluation.models import Evaluation, EvaluationState as S, Reproduction, ReproductionResolution, Site
from evaluation.policy import SITE_RUNNER
from tests.factories import NOW, PRIZE_SLUG as SLUG, task_results
from tests.helpers import sign_in, submit

PROVENANCE = {
    "lock_sha256": "a" * 64,
    "dtype": "bfloat16",
    "backend": "vllm",
    "batch_size": 8,
    "seeds": {"random_seed": 0},
    "task_hashes": {"arc": "h-arc"},
}


def _preview(db, app):
    from app.challenges.services import get_challenge
    from app.prizes.services import preview_state

    with db() as session:
        return preview_state(session, get_challenge(session, SLUG), app.config["LAGC"], NOW).preview


def _at_sites(db, four_entries) -> dict[str, int]:
    """Every entry's evaluation ran at site lumi-1 (on 4 x MI250X); the team name -> its evaluation id."""
    with db() as session:
        for name, cluster in (("lumi-1", "lumi-g"), ("leo-1", "leonardo-booster")):
            session.add(Site(name=name, cluster=cluster, token_sha256=name * 8))
        session.flush()
        lumi = session.exec(select(Site).where(Site.name == "lumi-1")).one()
        found = {}
        for name, team_id in four_entries.items():
            ev = session.exec(select(Evaluation).where(Evaluation.team_id == team_id)).one()
            ev.runner, ev.site_id = SITE_RUNNER, lumi.id
            ev.provenance = {**PROVENANCE, "site": {"site": "lumi-1", "gpu_model": "8 x AMD MI250X"}}
            session.add(ev)
            found[name] = ev.id
        return found


def _reproduced(db, original_id: int, arc: tuple[float, float], organiser_id: int) -> int:
    """Order the reproduction, then finish it at leo-1 as its site's agent would have: its evaluation id."""
    from evaluation.reproduction import order

    with db() as session:
        copy = order(session, session.get(Evaluation, original_id), organiser_id, site="leo-1", now=NOW)
        leo = session.exec(select(Site).where(Site.name == "leo-1")).one()
        copy.state, copy.site_id, copy.finished_at = S.finished, leo.id, NOW - timedelta(minutes=5)
        copy.provenance = {**PROVENANCE, "site": {"site": "leo-1", "gpu_model": "4 x NVIDIA A100"}}
        session.add(copy)
        task_results(session, copy.id, {"arc": arc}, metric="acc_norm")
        return copy.id


def test_the_award_waits_for_an_agreeing_reproduction_of_each_winner_and_a_discrepancy_until_resolved(
    db, app, world, four_entries, people
):
    evaluations = _at_sites(db, four_entries)
    world.settle()
    refused = _preview(db, app).refused
    assert "Aurora: no reproduction at another site yet" in refused and "Baltic: no reproduction" in refused
    assert "Iberia" not in refused  # not a winner: no reproduction needed

    _reproduced(db, evaluations["Aurora"], (0.86, 0.012), people["organiser"])  # 0.01 apart, tolerance 0.0156
    _reproduced(db, evaluations["Baltic"], (0.75, 0.01), people["organiser"])  # 0.05 apart: a discrepancy
    refused = _preview(db, app).refused
    assert "Aurora" not in refused and "Baltic: the reproduction at another site differs (arc)" in refused

    from app.accounts.models import User
    from app.challenges.services import get_challenge
    from app.prizes.workflow import PrizeError, confirm
    from evaluation.reproduction import ReproductionError, resolve

    with db() as session:
        with pytest.raises(PrizeError):
            confirm(
                session,
                get_challenge(session, SLUG),
                app.config["LAGC"],
                session.get(User, people["organiser"]),
                "any",
                NOW,
            )
    with db() as session:
        with pytest.raises(ReproductionError, match="at least 10"):
            resolve(session, session.get(Evaluation, evaluations["Baltic"]), people["organiser"], "ok")
    with db() as session:
        resolve(
            session,
            session.get(Evaluation, evaluations["Baltic"]),
            people["organiser"],
            "LEONARDO's A100 run used another vLLM build; the site confirmed the difference is numeric.",
        )
    preview = _preview(db, app)
    assert preview.refused is None and [r.team for r in preview.winners] == ["Aurora", "Baltic"]
    with db() as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.action.like("evaluation.reproduction%")))
        assert sorted(actions.all()) == ["evaluation.reproduction_ordered"] * 2 + ["evaluation.reproduction_resolved"]


def test_a_reproduction_never_counts_on_the_board_and_a_later_discrepancy_needs_its_own_resolution(
    db, app, world, four_entries, people
):
    from app.challenges.services import get_challenge
    from evaluation.reproduction import ReproductionError, order, resolve, state_of
    from evaluation.counted import counted_entry

    evaluations = _at_sites(db, four_entries)
    first = _reproduced(db, evaluations["Aurora"], (0.20, 0.01), people["organiser"])  # far off, and later
    with db() as session:
        counted = counted_entry(session, get_challenge(session, SLUG), four_entries["Aurora"], None)
        assert counted.evaluation_id == evaluations["Aurora"]  # the original still counts
        assert session.get(Evaluation, first).purpose == "reproduction"
        original = session.get(Evaluation, evaluations["Aurora"])
        resolve(session, original, people["organiser"], "The reproduction ran on a drained node; accepted.")
        assert state_of(session, original).resolved_for == (first,)
    second = _reproduced(db, evaluations["Aurora"], (0.30, 0.01), people["organiser"])
    with db() as session:
        state = state_of(session, session.get(Evaluation, evaluations["Aurora"]))
        assert state.reproduction_id == second and not state.comparison.agrees
        assert first in state.resolved_for and second not in state.resolved_for  # the old resolution is spent
        with pytest.raises(ReproductionError, match="itself a reproduction"):
            order(session, session.get(Evaluation, second), people["organiser"])
        with pytest.raises(ReproductionError, match="ran at lumi-1"):
            order(session, session.get(Evaluation, evaluations["Aurora"]), people["organiser"], site="lumi-1")


def test_the_organiser_orders_and_resolves_on_the_page_and_judges_see_the_comparison_on_the_scorecard(
    db, app, client, world, four_entries, people
):
    evaluations = _at_sites(db, four_entries)
    sign_in(client, "olga@example.eu")
    url = f"/organiser/evaluations/{evaluations['Aurora']}/reproduction"
    page = client.get(url)
    assert page.status_code == 200 and b"No reproduction has finished yet" in page.data
    forged = client.post(f"/organiser/evaluations/{evaluations['Aurora']}/reproduce", data={"site": "leo-1"})
    assert forged.status_code == 400  # no CSRF token: refused, nothing ordered
    ordered = submit(client, f"/organiser/evaluations/{evaluations['Aurora']}/reproduce", {"site": "leo-1"}, page=url)
    assert ordered.status_code == 302
    again = submit(client, f"/organiser/evaluations/{evaluations['Aurora']}/reproduce", {}, page=url)
    assert again.status_code == 409 and b"already under way" in again.data
    short = submit(client, f"{url}/resolve", {"justification": "no"}, page=url)
    assert short.status_code == 422 and b"at least 10 characters" in short.data  # invalid input
    with db() as session:
        link = session.exec(select(Reproduction)).one()
        copy = session.get(Evaluation, link.evaluation_id)
        assert copy.request["placement"] == {"exclude": ["lumi-1"], "only": ["leo-1"]} and S(copy.state) == S.queued
    done = _reproduced(db, evaluations["Baltic"], (0.70, 0.01), people["organiser"])
    scorecard = client.get(f"/c/{SLUG}/scorecards/{four_entries['Baltic']}")
    assert scorecard.status_code == 200 and b"Reproduction at another site" in scorecard.data
    assert b"reproduced" in scorecard.data and f"evaluation {done}".encode() in scorecard.data


def test_the_command_line_orders_shows_and_resolves_a_reproduction(db, app, world, four_entries, people):
    import json

    evaluations = _at_sites(db, four_entries)
    runner = app.test_cli_runner()
    ordered = runner.invoke(args=["eval", "reproduce", str(evaluations["Iberia"]), "--organiser", "olga@example.eu"])
    assert ordered.exit_code == 0, ordered.output
    assert json.loads(ordered.output)["placement"] == {"exclude": ["lumi-1"]}
    refused = runner.invoke(args=["eval", "reproduce", str(evaluations["Iberia"]), "--organiser", "aino@example.eu"])
    assert refused.exit_code != 0 and "not an organiser" in refused.output
    shown = json.loads(runner.invoke(args=["eval", "reproduction", str(evaluations["Iberia"])]).output)
    assert shown["pending"] and shown["tasks"] == [] and shown["original_site"] == "lumi-1"
    resolved = runner.invoke(
        args=[
            "eval",
            "resolve-reproduction",
            str(evaluations["Iberia"]),
            "--organiser",
            "olga@example.eu",
            "--justification",
            "LEONARDO is down until after the award.",
        ]
    )
    assert resolved.exit_code == 0 and json.loads(resolved.output)["resolved_for"] is None
    with db() as session:
        assert session.exec(select(ReproductionResolution)).one().justification.startswith("LEONARDO is down")


def test_a_rerun_after_a_forfeit_waits_for_the_reproduction_of_the_entry_that_moves_up(
    db, app, world, four_entries, people
):
    from app.accounts.models import User
    from app.challenges.services import get_challenge
    from app.prizes.workflow import confirm, record_forfeit, rerun_preview

    evaluations = _at_sites(db, four_entries)
    for team in ("Aurora", "Baltic"):
        _reproduced(db, evaluations[team], ({"Aurora": 0.85, "Baltic": 0.70}[team], 0.01), people["organiser"])
    world.settle()
    preview = _preview(db, app)
    assert preview.refused is None
    with db() as session:
        challenge, organiser = get_challenge(session, SLUG), session.get(User, people["organiser"])
        confirm(session, challenge, app.config["LAGC"], organiser, preview.fingerprint, NOW)
    with db() as session:
        challenge, organiser = get_challenge(session, SLUG), session.get(User, people["organiser"])
        record_forfeit(session, challenge, organiser, four_entries["Aurora"], "Withdrew before the award.", NOW)
    with db() as session:
        plan = rerun_preview(session, get_challenge(session, SLUG), app.config["LAGC"])
    assert "Iberia: no reproduction at another site yet" in plan.preview.refused
    _reproduced(db, evaluations["Iberia"], (0.55, 0.01), people["organiser"])
    with db() as session:
        assert rerun_preview(session, get_challenge(session, SLUG), app.config["LAGC"]).preview.refused is None
