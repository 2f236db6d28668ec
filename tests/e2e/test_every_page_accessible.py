"""Every page of the demo, walked through its links as the public, an entrant, a judge and an organiser: each
answers without an error, and the `page` fixture's checks pass on each (axe-core's WCAG 2.0/2.1 A and AA
rules, unique ids, one label per field, no sideways scrolling, at 1280x800 and 390x844; no CSP violation)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e
PEOPLE = {
    "the public": None,
    "an entrant": "aurora@demo.lagc.eu",
    "a judge": "judge@demo.lagc.eu",
    "an organiser": "organiser@demo.lagc.eu",
}
START = ("/", "/dashboard", "/leaderboard?challenge=synthetic", "/leaderboard?challenge=demo")
# Not pages: downloads, machine endpoints, and the sign-out form's target.
SKIP = re.compile(r"^/(api/|metrics|healthz|readyz|signout)|\.(csv|json|toml)$|/export\b")
MOST_PAGES = 80


def _kind(path: str, query: str) -> tuple:
    """Pages of one kind (the same template for another id, sort order or page number) are walked once."""
    params = dict(parse_qsl(query))
    return re.sub(r"/\d+(?=/|$)", "/<id>", path), params.get("challenge"), tuple(sorted(params))


def _links(page, server: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
    return [href.split("#")[0] for href in hrefs if href.startswith(server)]


@pytest.mark.parametrize("email", PEOPLE.values(), ids=PEOPLE.keys())
def test_every_page_reached_by_a_link_passes_the_accessibility_checks(email, page, server):
    if email:
        sign_in(page, server, email)
    queue, seen, failures = [server + start for start in START], set(), []
    while queue and len(seen) < MOST_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        kind = _kind(parts.path, parts.query)
        if kind in seen or SKIP.search(parts.path):
            continue
        seen.add(kind)
        response = page.goto(url)
        if response is None or response.status >= 400:
            failures.append(f"{url}: {response.status if response else 'no response'}")
            continue
        queue += _links(page, server)
    assert not failures, failures
    assert len(seen) > 3, seen
    assert len(seen) < MOST_PAGES, "the walk stopped early: raise MOST_PAGES"
