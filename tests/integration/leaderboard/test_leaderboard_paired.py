"""Paired comparisons on the board, the scorecard and the compare API, from kept per-item results: the board
says whether each entry is distinguishable from the next one down (computed by the scheduler's step), the
scorecard compares the entry with its neighbours and the baselines, and the API returns the JSON of
`scores paired` with the public's limits (the freeze, hidden tasks) and everything for judges and organisers."""

import json

import numpy as np
import pytest

from app.accounts.models import Role
from app.db import utcnow
from tests.factories import freeze, kept_samples
from tests.helpers import bearer, page_text

from ._board import HIDDEN, SLUG

N = 300
KEYS = {"arc_easy": "acc_norm,none", "boolq": "acc,none", HIDDEN: "acc,none"}


def items(rate: float, seed: int) -> dict:
    """Per task, N 0/1 values, each right with probability `rate`."""
    rng = np.random.default_rng(seed)
    return {task: (key, [int(v) for v in rng.random(N) < rate]) for task, key in KEYS.items()}


def nearly(base: dict) -> dict:
    """`base` with, per task, two right items turned wrong and one wrong item turned right: one item apart,
    three discordant items, which no test can tell apart."""
    out = {}
    for task, (key, values) in base.items():
        values = list(values)
        ones, zeros = [i for i, v in enumerate(values) if v][:2], [i for i, v in enumerate(values) if not v][:1]
        for i in ones + zeros:
            values[i] = 1 - values[i]
        out[task] = (key, values)
    return out


def add(board, db, storage, name, values, baseline=False, **folder):
    """A team whose counted evaluation's results are the means of `values`, with its samples kept (None: an
    evaluation recorded before samples were kept)."""
    results = {task: (float(np.mean(v)), 0.02) for task, (_, v) in values.items()}
    team_id = board.entry(name, results, baseline=baseline)
    if values is not None and name != "Delta":
        from evaluation.models import Evaluation
        from sqlmodel import select

        with db() as session:
            ev = session.exec(select(Evaluation).where(Evaluation.team_id == team_id)).one()
            kept_samples(session, ev.id, storage, values, **folder)
    return team_id


@pytest.fixture
def field(board, db, settings):
    """Alpha well ahead of Beta; Gamma one item per task behind Beta; Delta (no kept samples) last; a baseline."""
    storage = settings.storage_dir
    beta = items(0.55, 2)
    ids = {
        "Alpha": add(board, db, storage, "Alpha", items(0.85, 1)),
        "Beta": add(board, db, storage, "Beta", beta),
        "Gamma": add(board, db, storage, "Gamma", nearly(beta)),
        "Delta": add(board, db, storage, "Delta", items(0.3, 4)),
        "Ref": add(board, db, storage, "Ref", items(0.5, 5), baseline=True),
    }
    board.refresh(storage)
    return ids


def row_text(html: str, team: str) -> str:
    start = html.index(f">{team}<")
    return html[start : html.index("</tr>", start)]


def test_the_board_says_whether_each_entry_is_distinguishable_from_the_next_one_down(client, field):
    html = page_text(client.get(f"/leaderboard?challenge={SLUG}"))
    assert "compared with the next one down only" in html and "≈" not in html
    assert "<summary>distinguishable</summary><small>from Beta: difference" in row_text(html, "Alpha")
    beta = row_text(html, "Beta")
    assert "<summary>not distinguishable</summary><small>from Gamma" in beta and "p = " in beta
    delta = row_text(html, "Gamma")
    assert "not compared" in delta and "Delta: evaluation" in delta and "before per-item results were kept" in delta
    assert f"/api/v1/leaderboard/compare?challenge={SLUG}&amp;a={field['Alpha']}&amp;b={field['Beta']}" in client.get(
        f"/leaderboard?challenge={SLUG}"
    ).get_data(as_text=True)


def test_the_board_and_the_compare_api_agree_on_the_p_value(client, field):
    rows = {r["team"]: r for r in json.loads(client.get(f"/api/v1/leaderboard?challenge={SLUG}").data)["rows"]}
    data = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a=Beta&b=Gamma").get_json()
    assert data["overall"]["p_value"] == pytest.approx(rows["Beta"]["paired"]["next"]["p"], rel=1e-3)
    assert data["distinguishable"] is rows["Beta"]["paired"]["next"]["distinguishable"] is False


def test_the_scorecard_compares_the_entry_with_its_neighbours_and_each_baseline(client, field):
    html = page_text(client.get(f"/leaderboard/{SLUG}/entries/{field['Beta']}"))
    section = html[html.index('id="h-paired"') :]
    section = section[: section.index("</section>")]
    for team in ("Alpha", "Gamma", "Ref"):
        assert f">{team}<" in section
    assert "95% interval" in section and "not distinguishable" in section and "distinguishable" in section
    gamma = page_text(client.get(f"/leaderboard/{SLUG}/entries/{field['Gamma']}"))
    assert "before per-item results were kept" in gamma


def test_the_public_compare_withholds_hidden_tasks_and_judges_see_every_task(client, field, make_user, db):
    public = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a={field['Alpha']}&b=Beta")
    assert public.status_code == 200 and public.headers["Content-Type"].startswith("application/json")
    data = public.get_json()
    assert set(data["tasks"]) == {"arc_easy", "boolq"} and HIDDEN not in public.get_data(as_text=True)
    assert data["overall"]["difference"] > 0 and data["resamples"] == 10_000 and data["seed"] == 0
    assert data["entries"]["a"]["team"] == "Alpha" and data["entries"]["b"]["team"] == "Beta"
    for role in (Role.judge, Role.organiser):
        headers = bearer(client, make_user, db, f"{role.value}@example.eu", role)
        full = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a=Alpha&b=Beta", headers=headers)
        assert set(full.get_json()["tasks"]) == {"arc_easy", "boolq", HIDDEN}
        assert full.get_json()["overall"] == data["overall"]  # hidden tasks count in the public overall too


def test_the_public_compares_the_frozen_entries_while_organisers_see_the_live_ones(
    client, field, board, db, make_user, settings
):
    with db() as session:
        freeze(
            session, board.challenge_id, make_user("boss@example.eu", Role.organiser), frozen_at=utcnow()
        )  # after the field's entries were accepted and scored, before Beta's v2
    newer = items(0.95, 9)
    submission_id = board.submission(field["Beta"], "Beta v2")
    ev_id = board.evaluation(
        field["Beta"], submission_id, {t: (float(np.mean(v)), 0.02) for t, (_, v) in newer.items()}
    )
    with db() as session:
        kept_samples(session, ev_id, settings.storage_dir, newer)
    public = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a=Alpha&b=Beta").get_json()
    assert public["entries"]["b"]["evaluation_id"] != ev_id and public["as_of"] is not None
    headers = bearer(client, make_user, db, "org@example.eu", Role.organiser)
    live = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a=Alpha&b=Beta", headers=headers).get_json()
    assert live["entries"]["b"]["evaluation_id"] == ev_id and live["as_of"] is None
    assert live["overall"]["difference"] < 0 < public["overall"]["difference"]


@pytest.mark.parametrize(
    "query, status, words",
    [
        ("a=Alpha&b=Nobody", 404, "is not a team of this challenge"),
        ("a=Alpha&b=Alpha", 422, "two different entries"),
        ("a=Alpha", 422, "Name entry b"),
        ("a=Alpha&b=Delta", 409, "before per-item results were kept"),
        ("a=Alpha&b=Beta&seed=x", 422, "seed"),
    ],
)
def test_bad_compare_requests_are_clear_problem_documents(client, field, query, status, words):
    response = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&{query}")
    assert response.status_code == status and response.headers["Content-Type"] == "application/problem+json"
    assert words in response.get_json()["detail"]


def test_an_unknown_challenge_is_a_404_and_a_missing_one_a_422(client, field):
    assert client.get("/api/v1/leaderboard/compare?challenge=nope&a=1&b=2").status_code == 404
    assert client.get("/api/v1/leaderboard/compare?a=1&b=2").status_code == 422


def test_the_compare_api_is_listed_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    params = {p["name"] for p in paths["/api/v1/leaderboard/compare"]["get"]["parameters"]}
    assert {"challenge", "a", "b", "seed"} <= params


def test_scores_compare_prints_the_same_json_as_the_api_for_organisers(app, client, field, make_user, db):
    headers = bearer(client, make_user, db, "org2@example.eu", Role.organiser)
    api = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a={field['Alpha']}&b=Beta", headers=headers)
    result = app.test_cli_runner().invoke(args=["scores", "compare", "--challenge", SLUG, "Alpha", "Beta"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == api.get_data(as_text=True).strip()
    public = app.test_cli_runner().invoke(args=["scores", "compare", "--challenge", SLUG, "--public", "Alpha", "Beta"])
    assert HIDDEN not in public.output
    refused = app.test_cli_runner().invoke(args=["scores", "compare", "--challenge", SLUG, "Alpha", "Delta"])
    assert refused.exit_code == 1 and "before per-item results were kept" in refused.output
    assert "Traceback" not in refused.output


def test_a_refusal_that_names_a_hidden_task_is_scrubbed_for_the_public(client, board, db, settings, make_user):
    storage = settings.storage_dir
    add(board, db, storage, "Alpha", items(0.85, 1))
    add(board, db, storage, "Other", items(0.5, 2), task_hash="v2", documents="other-doc-")  # another task version
    board.refresh(storage)
    html = client.get(f"/leaderboard?challenge={SLUG}").get_data(as_text=True)
    assert "not compared" in html and "a hidden task: the task hashes differ" in html and HIDDEN not in html
    public = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a=Alpha&b=Other")
    assert public.status_code == 409 and HIDDEN not in public.get_data(as_text=True)
    headers = bearer(client, make_user, db, "judge@example.eu", Role.judge)
    judged = client.get(f"/api/v1/leaderboard/compare?challenge={SLUG}&a=Alpha&b=Other", headers=headers)
    assert judged.status_code == 409 and HIDDEN in judged.get_json()["detail"]
