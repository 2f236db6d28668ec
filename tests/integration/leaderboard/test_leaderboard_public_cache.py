"""The web worker's fast path for public pages (`app.ops.public_cache`) against Flask itself, in one process:
the same bytes, 304s, nothing signed in, no hidden task, and a new snapshot replaces what it keeps.

Flask's answer comes from a second app on the same database with the fast path off (LAGC_PUBLIC_CACHE_MB=0);
both get the same X-Request-ID, so every header must match. Across processes: the gunicorn test beside this."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import create_app
from app.ops.headers import PUBLIC_CACHE_CONTROL
from app.ops.public_cache import fast_path
from tests.helpers import bearer, sign_in

from ._board import HIDDEN, SLUG

NOW = datetime.now(timezone.utc)
SE = 0.02
SAME_ID = {"X-Request-ID": "public-cache-test-0001"}


@pytest.fixture(autouse=True)
def fresh_caches():
    from leaderboard import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def flask_only(settings):
    """The same platform without the fast path: what Flask alone answers."""
    application = create_app(settings.with_overrides(public_cache_mb=0))
    yield application.test_client()
    application.extensions["lagc_engine"].dispose()


def public_urls(team_id: int) -> list[str]:
    return [
        f"/leaderboard?challenge={SLUG}",
        f"/leaderboard?challenge={SLUG}&sort=score&order=desc",
        f"/leaderboard?challenge={SLUG}&licence=pass&per_page=25",
        f"/leaderboard/{SLUG}/entries/{team_id}",
        "/",
        f"/c/{SLUG}",
        f"/api/v1/leaderboard?challenge={SLUG}",
        f"/api/v1/leaderboard?challenge={SLUG}&format=csv&sort=task.arc_easy",
    ]


def answer(client, url: str, method: str = "GET", base_url: str = "http://localhost", **headers) -> tuple:
    response = client.open(url, method=method, base_url=base_url, headers={**SAME_ID, **headers})
    return response.status, list(response.headers.items()), response.get_data()


def test_the_fast_path_answers_every_public_page_with_flasks_exact_status_headers_and_body(
    app, client, flask_only, entries
):
    served = fast_path(app)
    for url in public_urls(entries["Team A"]):
        first = answer(client, url)
        hits = served.hits
        again = answer(client, url)
        assert served.hits == hits + 1, f"{url} was not answered from memory"
        assert again == first == answer(flask_only, url), url
        assert dict(again[1])["Cache-Control"] == PUBLIC_CACHE_CONTROL
        etag = dict(again[1])["ETag"]
        assert answer(client, url, "HEAD") == answer(flask_only, url, "HEAD"), url
        assert answer(client, url, **{"If-None-Match": etag}) == answer(flask_only, url, **{"If-None-Match": etag})
        assert answer(client, url, **{"If-None-Match": etag})[0] == "304 NOT MODIFIED", url
    assert served.hits >= 3 * len(public_urls(0))


def test_over_https_the_fast_path_sends_hsts_like_flask_and_keeps_http_and_https_apart(
    app, client, flask_only, entries
):
    url, https = f"/leaderboard?challenge={SLUG}", "https://lagc.test"
    answer(client, url, base_url=https)
    hits = fast_path(app).hits
    secure = answer(client, url, base_url=https)
    assert fast_path(app).hits == hits + 1
    assert secure == answer(flask_only, url, base_url=https)
    assert dict(secure[1])["Strict-Transport-Security"].startswith("max-age=")
    plain = answer(client, url, base_url="http://lagc.test")
    assert fast_path(app).hits == hits + 1  # another URL: Flask answered, without HSTS
    assert "Strict-Transport-Security" not in dict(plain[1])


def test_the_board_carries_validators_a_proxy_can_revalidate_with(app, client, entries):
    page = client.get(f"/leaderboard?challenge={SLUG}")
    assert page.headers["ETag"] and page.headers["Last-Modified"] and "Set-Cookie" not in page.headers
    since = {"If-Modified-Since": page.headers["Last-Modified"]}
    hits = fast_path(app).hits
    assert client.get(f"/leaderboard?challenge={SLUG}", headers=since).status_code == 304
    assert client.get(f"/leaderboard?challenge={SLUG}", headers={"If-None-Match": '"another"'}).status_code == 200
    assert fast_path(app).hits == hits + 2


def test_a_signed_in_visitor_is_never_answered_from_the_fast_path(app, client, entries, make_user):
    url = f"/leaderboard/{SLUG}/entries/{entries['Team A']}"
    anonymous = client.get(url).get_data(as_text=True)
    make_user("reader@example.eu")
    sign_in(client, "reader@example.eu")
    hits = fast_path(app).hits
    for path in (url, f"/leaderboard?challenge={SLUG}", "/", f"/c/{SLUG}"):
        page = client.get(path)
        assert "reader@example.eu" in page.get_data(as_text=True), path
        assert "public" not in page.headers.get("Cache-Control", ""), path
    assert client.get(url).get_data(as_text=True) != anonymous
    assert fast_path(app).hits == hits


def test_a_token_holder_is_never_answered_from_the_fast_path(app, client, entries, make_user, db):
    from app.accounts.models import Role

    url = f"/api/v1/leaderboard?challenge={SLUG}"
    client.get(url)
    token = bearer(client, make_user, db, "org@example.eu", Role.organiser)
    hits = fast_path(app).hits
    assert client.get(url, headers=token).status_code == 200
    assert client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert fast_path(app).hits == hits


def test_pages_for_signed_in_people_are_never_kept_for_anonymous_visitors(app, client, entries, make_user):
    from app.accounts.models import Role

    make_user("org@example.eu", Role.organiser)
    sign_in(client, "org@example.eu")
    url = f"/leaderboard/{SLUG}/entries/{entries['Team A']}"
    organisers = client.get(url).get_data(as_text=True)
    assert HIDDEN in organisers  # the organisers' live row shows the hidden task
    anonymous = app.test_client()
    for path in public_urls(entries["Team A"]):
        for _ in range(2):
            body = anonymous.get(path).get_data(as_text=True)
            assert HIDDEN not in body and "org@example.eu" not in body, path
    assert all(HIDDEN.encode() not in page.body for page in fast_path(app).pages.values())


def test_a_new_snapshot_replaces_every_kept_page(app, client, board, entries, db, publish):
    from leaderboard.services import results_changed

    urls = [url for url in public_urls(entries["Team A"]) if url.startswith(("/leaderboard", "/api/"))]
    before = {url: client.get(url).headers["ETag"] for url in urls}
    board.entry("Newcomer", {"arc_easy": (0.99, SE), "boolq": (0.99, SE), HIDDEN: (0.5, SE)})
    with db() as session:
        results_changed(session, board.challenge_id)
    publish()
    for url in urls:
        after = client.get(url)
        assert after.headers["ETag"] != before[url], url
        assert b"Newcomer" in after.get_data() or "/entries/" in url, url


def test_an_announced_snapshot_from_another_process_is_served_at_once(
    app, client, board, entries, db, settings, monkeypatch
):
    """The scheduler runs in another process: only the signal file tells this worker (no commit of its own)."""
    from app.ops import changes
    from leaderboard import services

    url = f"/leaderboard?challenge={SLUG}"
    client.get(url)
    commits = changes._commits[0]
    board.entry("Newcomer", {"arc_easy": (0.99, SE), "boolq": (0.99, SE), HIDDEN: (0.5, SE)})
    with db() as session:
        services.refresh_all(session)
    monkeypatch.setattr(changes, "_commits", [commits])  # as if those commits were made in another process
    for _ in range(2):  # the fast path answers the old board until the snapshot is announced
        assert b"Newcomer" not in client.get(url).get_data()
    changes.announce(settings.instance_dir)
    assert b"Newcomer" in client.get(url).get_data()


def test_a_freeze_set_in_another_process_removes_later_results_from_every_kept_page(
    app, client, board, entries, db, publish, make_user, monkeypatch
):
    from app.accounts.models import Role
    from app.challenges.models import Challenge
    from app.ops import changes
    from leaderboard.services import freeze

    late = board.entry("Late Team", {"arc_easy": (0.9917, SE), "boolq": (0.99, SE), HIDDEN: (0.9, SE)}, finished_at=NOW)
    publish()
    urls = public_urls(entries["Team A"]) + [f"/leaderboard/{SLUG}/entries/{late}"]
    shown = [url for url in urls if b"0.9917" in client.get(url).get_data()]
    assert len(shown) == 3  # its entry page and the exports (the board shows 3 digits: 0.992)
    commits = changes._commits[0]
    organiser = make_user("org@example.eu", Role.organiser)
    with db() as session:  # an organiser freezes the board an hour back, in another worker
        freeze(session, session.get(Challenge, board.challenge_id), NOW - timedelta(hours=1), organiser)
    publish()  # the scheduler stores the frozen board and announces it
    monkeypatch.setattr(changes, "_commits", [commits])  # those commits were made in other processes
    for url in shown:
        for _ in range(2):
            assert b"0.9917" not in client.get(url).get_data(), url


def test_a_page_larger_than_an_eighth_of_the_budget_goes_to_flask_every_time(settings, entries):
    application = create_app(settings.with_overrides(public_cache_mb=0.001))  # pages above 131 bytes
    client = application.test_client()
    for _ in range(3):
        assert client.get(f"/leaderboard?challenge={SLUG}").status_code == 200
    assert fast_path(application).hits == 0 and not fast_path(application).pages
    application.extensions["lagc_engine"].dispose()


def test_errors_and_pages_that_set_a_cookie_are_never_kept(app, client, entries):
    for url in (f"/leaderboard?challenge={SLUG}&sort=nonsense", "/leaderboard?challenge=no-such-board", "/signin"):
        client.get(url)
        client.get(url)
    assert fast_path(app).hits == 0 and not fast_path(app).pages


def test_every_fast_path_answer_is_counted_in_the_latency_histogram_at_the_latest_before_flask_answers(
    app, client, entries
):
    """The fast path adds its answers' latencies in batches: a full batch at once, the rest before this
    worker's next request that Flask answers (so a scrape, which Flask answers, includes them)."""
    from app.ops import public_cache
    from app.ops.observability import _latency

    def counted() -> float:
        return next(s.value for m in _latency().collect() for s in m.samples if s.name.endswith("_count"))

    url = f"/leaderboard?challenge={SLUG}"
    client.get(url)  # Flask renders it, the fast path keeps it
    before = counted()
    hits = fast_path(app).hits
    for _ in range(public_cache.BATCH + 5):
        assert client.get(url).status_code == 200
    assert fast_path(app).hits == hits + public_cache.BATCH + 5
    assert counted() == before + public_cache.BATCH  # the full batch; five wait for the next
    assert client.get("/healthz").status_code == 200  # Flask answers: the five first, then its own
    assert counted() == before + public_cache.BATCH + 5 + 1
