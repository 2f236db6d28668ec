"""The authorisation matrix: every route of the application, read from its URL map, against every role,
checked against the table in `authz_matrix.py`.

One world per backend (built once per module with the features' own services where they exist): the
2024 challenge; team A with its entrant, an eligible application, an accepted submission with a finished
evaluation and its task results, an upload, a judge's score sheet and a release obligation; team B with
its entrant; a judge assigned to A, a judge who declared a conflict with A, and an organiser. Path
arguments are filled with team A's ids, so each row says who may reach team A's things.

Pages are requested with the role's session (and a valid CSRF token, so the test checks authorisation and
not CSRF), `/api/v1` with the role's Bearer token. A route missing from the table fails, and so does a
table row whose route no longer exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

from app import create_app
from app.accounts.models import Role
from app.db import session_scope
from app.settings import Settings
from tests import factories
from tests.factories import APPLICATION, IN_2024_REGISTRATION, PASSWORD, SHEET
from tests.helpers import BACKENDS, csrf_token, empty_tables, migrated_url, sign_in
from tests.integration.authz_matrix import HIDDEN, MATRIX, NO, OK, ROLES, Row

SKIPPED_METHODS = {"HEAD", "OPTIONS"}

# Words that only team A, its judges and the organisers may read, planted in the world's private data.
A_PRIVATE = ("Alpha Private Legal Name Oy", "alpha-private-weights.safetensors")
JUDGE_PRIVATE = ("judge-alpha-private-notes",)
A_APPLICATION = {**APPLICATION, "legal_name": A_PRIVATE[0]}
EMAILS = {
    "entrant_a": "alpha@example.eu",
    "entrant_b": "bravo@example.eu",
    "judge": "judge@example.eu",
    "recused_judge": "recused@example.eu",
    "organiser": "organiser@example.eu",
}


# ---------------------------------------------------------------------------------------------- the world


@pytest.fixture(scope="module", params=BACKENDS)
def settings(request, database_urls, tmp_path_factory) -> Settings:
    """This module's own settings (one world per backend): rate limits off, so ~600 requests pass."""
    url = migrated_url(database_urls, request.param)
    empty_tables(url)
    yield Settings(
        env="testing",
        database_url=url,
        instance_dir=tmp_path_factory.mktemp("authz") / "instance",
        secret_key="test-secret-" + "x" * 32,
        rate_limit_scale=0,
    )
    empty_tables(url)


@pytest.fixture(scope="module")
def world(settings):
    """The application, the world's ids (`values`: path argument -> value) and each role's credentials."""
    application = create_app(settings)
    engine = application.extensions["lagc_engine"]
    with session_scope(engine) as session:
        ids = _build(session, application)
    with session_scope(engine) as session:
        from leaderboard.services import refresh_all

        refresh_all(session)  # the scheduler's step: the boards the pages read
    roles = {"anonymous": _credentials(application, None, None)}
    for role, email in EMAILS.items():
        roles[role] = _credentials(application, email, ids.tokens[role])
    yield SimpleNamespace(app=application, values=ids.values, roles=roles, ids=ids)
    engine.dispose()


def _build(session, application) -> SimpleNamespace:
    from app.accounts import services as accounts
    from app.challenges.config import parse_section
    from app.challenges.services import config_of, load_config_file
    from app.checkpoints.models import Upload
    from app.db import utcnow
    from app.judging import services as judging
    from app.licences.models import ReleaseObligation
    from app.notifications.models import Notification
    from app.settings import BUNDLED_CHALLENGES

    roles = {
        "entrant_a": Role.entrant,
        "entrant_b": Role.entrant,
        "judge": Role.judge,
        "recused_judge": Role.judge,
        "organiser": Role.organiser,
    }
    users = {
        name: factories.user(session, EMAILS[name], role, name=name, secret_key=application.config["SECRET_KEY"])
        for name, role in roles.items()
    }
    challenge = factories.closed_challenge(session)
    other = load_config_file(session, BUNDLED_CHALLENGES / "frontier-2026.toml")
    # The 2024 phases are over: the teams registered and applied back then (so entrants' actions now get 409).
    team_a = factories.registered_team(session, users["entrant_a"], challenge, "Alpha Labs", now=IN_2024_REGISTRATION)
    factories.registered_team(session, users["entrant_b"], challenge, "Bravo Labs", now=IN_2024_REGISTRATION)
    session.flush()
    application_row = factories.eligible(
        session, team_a, users["entrant_a"], users["organiser"], document=A_APPLICATION, now=IN_2024_REGISTRATION
    )

    now = utcnow()
    submission = factories.submission(
        session,
        challenge.id,
        team_a.id,
        users["entrant_a"].id,
        label="Alpha 7B v1",
        accepted_at=now - timedelta(days=2),
        total_bytes=14_000_000_000,
        dtypes={"bfloat16": 7_000_000_000},
        manifest=[{"name": "model.safetensors", "bytes": 14_000_000_000, "sha256": "ab" * 32}],
        licence_id="apache-2.0",
        licence_reasons=["Apache-2.0 is open."],
    )
    upload = Upload(
        id="a" * 32,
        submission_id=submission.id,
        team_id=team_a.id,
        created_by_id=users["entrant_a"].id,
        filename=A_PRIVATE[1],
        length=1024,
        expires_at=now + timedelta(days=1),
    )
    session.add(upload)
    evaluation = factories.evaluation(
        session, submission, cluster="leonardo", job_id="4242", gpu_hours=3.5, finished_at=now - timedelta(days=1)
    )
    for task in parse_section(config_of(challenge), "benchmark"):
        factories.task_results(session, evaluation.id, {task.name: (0.61, 0.01)}, metric=task.metric)

    judging.assign_judge(session, challenge, users["judge"], team_a.id, actor_id=users["organiser"].id)
    judging.submit_sheet(session, challenge, users["judge"], team_a.id, SHEET, JUDGE_PRIVATE[0])
    judging.declare_conflict(session, challenge, users["recused_judge"], team_a.id, "I advised Alpha Labs")

    obligation = ReleaseObligation(
        challenge_id=challenge.id, team_id=team_a.id, submission_id=submission.id, deadline=now + timedelta(days=30)
    )
    notification = Notification(
        recipient_id=users["entrant_a"].id,
        kind="evaluation_finished",
        subject="Your evaluation finished",
        body="Alpha 7B v1 is evaluated.",
        dedupe_key="authz-matrix",
    )
    session.add_all([obligation, notification])
    _invitation, invitation_token = accounts.invite(session, users["organiser"], "invited-judge@example.eu", Role.judge)
    spare, _plain = accounts.issue_token(session, users["entrant_a"], "spare, for the revoke route")
    tokens = {name: accounts.issue_token(session, user, "authz matrix")[1] for name, user in users.items()}
    session.flush()
    values = {
        "slug": challenge.slug,
        "other_slug": other.slug,
        "team_id": team_a.id,
        "submission_id": submission.id,
        "evaluation_id": evaluation.id,
        "application_id": application_row.id,
        "obligation_id": obligation.id,
        "upload_id": upload.id,
        "token": invitation_token,
        "token_id": spare.id,
        "notification_id": notification.id,
        "act": "publish",
        "fmt": "csv",
        "attempt": 1,
        "sha256": "ab" * 32,
        "path": "output/model/results_2026-12-04T10-00-00.json",  # site API
    }
    return SimpleNamespace(values=values, tokens=tokens, users={k: u.id for k, u in users.items()}, team_a=team_a.id)


@dataclass
class Credentials:
    """How a role calls the application: its session cookies and CSRF token for pages, a token for the API."""

    cookies: dict
    csrf: str
    bearer: str | None


def _credentials(application, email: str | None, bearer: str | None) -> Credentials:
    client = application.test_client()
    if email is not None:
        response = sign_in(client, email, PASSWORD)
        assert response.status_code == 302, f"{email} could not sign in"
    html = client.get("/signin" if email is None else "/account/tokens").get_data(as_text=True)
    return Credentials(cookies=dict(client._cookies), csrf=csrf_token(html), bearer=bearer)


# ------------------------------------------------------------------------------------------ the requests


def served_routes(application) -> dict[str, object]:
    """'METHOD rule' -> rule, for every rule and method the application serves (but HEAD, automatic OPTIONS
    and static files)."""
    found = {}
    for rule in application.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        methods = set(rule.methods or ())
        skipped = SKIPPED_METHODS - ({"OPTIONS"} if not getattr(rule, "provide_automatic_options", True) else set())
        for method in sorted(methods - skipped):
            found[f"{method} {rule.rule}"] = rule
    return found


def _path(rule, values: dict, renamed: dict | None) -> str:
    names = {name: (renamed or {}).get(name, name) for name in rule.arguments}
    missing = [name for name in names.values() if name not in values]
    assert not missing, f"{rule.rule}: no world value for {missing}; add it to `values` in _build"
    return rule.build({arg: values[name] for arg, name in names.items()}, append_unknown=False)[1]


def call(world, key: str, rule, role: str, row: Row):
    """Send the row's request as `role`; the response."""
    method = key.split(" ", 1)[0]
    path = _path(rule, world.values, row.values)
    credentials = world.roles[role]
    client = world.app.test_client()
    headers = row.headers(world.values) if row.headers else {}
    kwargs = {}
    if path.startswith("/api/v1/"):
        if credentials.bearer:
            headers["Authorization"] = f"Bearer {credentials.bearer}"
        if row.json is not None:
            kwargs["json"] = row.json
    else:
        client._cookies.update(credentials.cookies)  # a copy: signing out here does not sign the role out
        if method not in ("GET", "OPTIONS"):
            headers["X-CSRFToken"] = credentials.csrf
            if row.json is None and row.data is None:
                kwargs["data"] = {**(row.form or {}), "csrf_token": credentials.csrf}
    if row.data is not None:
        kwargs["data"] = row.data
    return client.open(path, method=method, headers=headers, **kwargs)


def outcome(response) -> str:
    """The class of an answer: OK (the route served the caller, even with a validation error), NO (401, 403,
    or a redirect to sign-in), HIDDEN (404), or the server error itself."""
    status = response.status_code
    if status >= 500 and status != 503:  # 503: /readyz saying "not ready" (no scheduler runs here)
        return f"server error {status}"
    if status in (401, 403):
        return NO
    if status == 404:
        return HIDDEN
    if status in (301, 302, 303, 307, 308):
        target = urlparse(response.headers.get("Location", "")).path
        if target == "/signin":
            return NO
    return OK


# ----------------------------------------------------------------------------------------------- the tests


def test_every_route_has_a_row_and_every_row_a_route(world):
    served = set(served_routes(world.app))
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert not missing, "routes missing from tests/integration/authz_matrix.py:\n  " + "\n  ".join(missing)
    assert not stale, "rows in authz_matrix.py whose route no longer exists:\n  " + "\n  ".join(stale)


def _keys() -> list[str]:
    return sorted(MATRIX, key=lambda key: (key.split(" ", 1)[1], _METHOD_ORDER.get(key.split(" ", 1)[0], 9)))


# Team A's entrant goes last: the owner's POSTs may change team A's things (a new application version, a
# revoked spare token), which must not change what the others get.
CALL_ORDER = ("anonymous", "entrant_b", "judge", "recused_judge", "organiser", "entrant_a")
_METHOD_ORDER = {"GET": 0, "OPTIONS": 1, "POST": 2, "PUT": 3, "PATCH": 4, "DELETE": 5}


@pytest.mark.parametrize("key", _keys())
def test_route_answers_each_role_as_the_table_says(world, key):
    rule = served_routes(world.app).get(key)
    if rule is None:
        pytest.fail(f"{key} is in the table but the application does not serve it")
    row = MATRIX[key]
    got = {}
    for role in CALL_ORDER:
        response = call(world, key, rule, role, row)
        got[role] = (outcome(response), response.status_code)
        _assert_no_leak(role, key, response)
    wrong = {
        role: f"expected {want}, got {got[role][0]} ({got[role][1]})"
        for role, want in zip(ROLES, row.expect)
        if got[role][0] != want
    }
    assert not wrong, f"{key}: " + "; ".join(f"{role}: {text}" for role, text in wrong.items())


def _assert_no_leak(role: str, key: str, response) -> None:
    body = response.get_data().decode("utf-8", errors="replace")  # an image (the favicon) is no UTF-8 text
    words = (A_PRIVATE + JUDGE_PRIVATE) if role in ("anonymous", "entrant_b") else ()
    words += JUDGE_PRIVATE if role in ("entrant_a", "recused_judge") else ()
    leaked = [word for word in words if word in body]
    assert not leaked, f"{key} shows {role} {leaked}"


TEAM_A_ROUTES = [key for key, row in MATRIX.items() if row.team_a]


@pytest.mark.parametrize("key", sorted(TEAM_A_ROUTES))
def test_an_entrant_of_team_b_never_gets_team_a_data(world, key):
    response = call(world, key, served_routes(world.app)[key], "entrant_b", MATRIX[key])
    assert response.status_code in (403, 404), f"{key}: team B's entrant got {response.status_code}"


def test_the_recused_judge_is_told_so_on_team_a_scorecard_and_the_assigned_judge_sees_it(world):
    key = "GET /c/<slug>/scorecards/<int:team_id>"
    rule = served_routes(world.app)[key]
    recused = call(world, key, rule, "recused_judge", MATRIX[key])
    assert recused.status_code == 403 and "You are recused from this entry" in recused.get_data(as_text=True)
    assert call(world, key, rule, "judge", MATRIX[key]).status_code == 200


ORGANISER_PAGE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /organiser(/|$)")


def test_judges_cannot_reach_organiser_pages(world):
    keys = [key for key in MATRIX if ORGANISER_PAGE.match(key)]
    assert len(keys) > 20
    routes = served_routes(world.app)
    for key in keys:
        for judge in ("judge", "recused_judge"):
            assert call(world, key, routes[key], judge, MATRIX[key]).status_code == 403, (key, judge)


def test_anonymous_visitors_reach_only_public_routes(world):
    from app.security import access_of

    routes = served_routes(world.app)
    with world.app.app_context():
        for key, rule in routes.items():
            if MATRIX[key].expect[0] == OK:
                assert access_of(rule.endpoint).audience == "public", f"{key} serves anonymous visitors"


WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|CREATE|DROP|ALTER|TRUNCATE)\b", re.I)
# The writes a GET still makes, each named with the reason it is left for now (the accounts feature owns them;
# issue 17's accounts-and-sessions work decides). Any other write fails the test.
KNOWN_GET_WRITES = {
    # every authenticated API call stamps its token's last use, shown on the tokens page so a leak is noticed
    ("*", "UPDATE apitoken SET"),
    ("*", "flush of ['ApiToken']"),
    # the enrolment page makes the pending authenticator secret it shows (stored encrypted, replaced on reload)
    ("GET /account/2fa", "INSERT INTO totpcredential"),
    ("GET /account/2fa", "UPDATE totpcredential SET"),
    ("GET /account/2fa", "flush of ['TotpCredential']"),
}


def test_no_get_writes_to_the_database_for_any_role(world):
    """GET never writes: every GET route, called as every role, flushes nothing and sends no INSERT, UPDATE or
    DELETE (a session listener catches flushes, an engine listener statements written in Core)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    engine, writes = world.app.extensions["lagc_engine"], []
    current = {"key": None}

    def on_statement(_conn, _cursor, statement, _params, _context, _executemany):
        if WRITE.match(statement):
            writes.append((current["key"], " ".join(statement.split()[:3])))

    def on_flush(session, _context):
        writes.append((current["key"], f"flush of {sorted({type(o).__name__ for o in session.dirty | session.new})}"))

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(Session, "after_flush", on_flush)
    try:
        routes = served_routes(world.app)
        for key in sorted(k for k in MATRIX if k.startswith("GET ")):
            current["key"] = key
            for role in CALL_ORDER:
                call(world, key, routes[key], role, MATRIX[key])
    finally:
        event.remove(Session, "after_flush", on_flush)
        event.remove(engine, "before_cursor_execute", on_statement)
    unexpected = sorted(
        {
            f"{key}: {what}"
            for key, what in writes
            if (key, what) not in KNOWN_GET_WRITES and ("*", what) not in KNOWN_GET_WRITES
        }
    )
    assert not unexpected, "GET requests that write:\n  " + "\n  ".join(unexpected)
    assert ("GET /api/v1/me", "UPDATE apitoken SET") in writes  # the listeners do see writes
