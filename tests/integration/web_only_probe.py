"""The platform as a web-only install has it (`pip install .`, no extras), run by `test_web_only_install.py`.

    python tests/integration/web_only_probe.py INSTANCE_DIR

An import hook refuses every distribution that `pip install .` would not install: anything outside
pyproject.toml's runtime dependencies and what they require in turn (torch, lm-eval, transformers, requests,
pytest, playwright, ... are refused as if absent). Then, in that interpreter: create the app, migrate a fresh
SQLite database, load the demo (no evaluation runs), import the scheduler's steps, run the leaderboard's step
once (as the scheduler's first cycle does: a request never computes a board), and GET every page and API
route as each demo account and as an anonymous visitor. Prints a JSON report; exits 1 on any failure.
"""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"app", "evaluation", "leaderboard", "scoring", "tests"}


def runtime_distributions() -> set[str]:
    """pyproject.toml's runtime dependencies and, transitively, what they require (with their extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [(Requirement(text), "") for text in project["dependencies"]]
    found: set[str] = set()
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (another platform's wheel): nothing can import it anyway
        for wanted_extra in [""] + sorted(requirement.extras):
            key = f"{name}[{wanted_extra}]"
            if key in found:
                continue
            found.add(key)
            todo += [(Requirement(text), wanted_extra) for text in distribution.requires or ()]
    return {key.split("[")[0] for key in found}


class WebOnlyInstall(importlib.abc.MetaPathFinder):
    """Refuse, as not installed, every top-level module that only distributions outside `allowed` provide."""

    def __init__(self, allowed: set[str]):
        self.allowed = allowed
        self.owners = importlib.metadata.packages_distributions()
        self.refused: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in PROJECT_PACKAGES or top in sys.stdlib_module_names:
            return None
        owners = {canonicalize_name(d) for d in self.owners.get(top, ())}
        if owners and not owners & self.allowed:
            self.refused.add(top)
            raise ModuleNotFoundError(
                f"No module named {top!r} (a web-only install has no {', '.join(sorted(owners))})", name=fullname
            )
        return None


def sign_in(client, email: str, password: str) -> None:
    """Through the pages, with the demo authenticator's code for organisers and judges."""
    import pyotp

    from app.accounts.totp import demo_secret

    def post(url: str, data: dict):
        html = client.get(url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
        return client.post(url, data={**data, "csrf_token": token})

    response = post("/signin", {"email": email, "password": password})
    if response.headers.get("Location", "").split("?")[0].endswith("/signin/code"):
        response = post("/signin/code", {"code": pyotp.TOTP(demo_secret(email)).now()})
    assert response.status_code == 302, f"{email} could not sign in ({response.status_code})"


def path_values(session) -> dict:
    """An existing id for each kind of path argument, from the demo (1 where the demo has none)."""
    from sqlmodel import select

    from app.challenges.models import Challenge
    from app.checkpoints.models import Submission
    from app.eligibility.models import EligibilityApplication
    from app.teams.models import Team

    demo = session.exec(select(Challenge).where(Challenge.slug == "demo")).one()
    team = session.exec(select(Team).where(Team.challenge_id == demo.id).order_by(Team.id)).first()
    submission = session.exec(select(Submission.id)).first()
    application = session.exec(select(EligibilityApplication.id)).first()
    return {"slug": demo.slug, "team_id": team.id, "submission_id": submission or 1, "application_id": application or 1}


def _example(converter) -> object:
    """A value a path argument accepts when the demo has nothing better: 1 for ids, a choice, or a word."""
    choices = getattr(converter, "items", None)
    if choices:
        return sorted(choices)[0]
    return 1 if type(converter).__name__.endswith("IdConverter") or "Integer" in type(converter).__name__ else "x"


def get_everything(app, values: dict) -> tuple[int, list[str]]:
    """GET every route that answers GET, as each demo account and anonymously: (requests, failures)."""
    from app.accounts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    rules = [
        rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and not rule.endpoint.endswith("static")
    ]
    failures, count = [], 0
    for email in [None] + [account[0] for account in DEMO_ACCOUNTS]:
        client = app.test_client()
        if email:
            sign_in(client, email, DEMO_PASSWORD)
        for rule in rules:
            arguments = {name: values.get(name, _example(rule._converters[name])) for name in rule.arguments}
            url = app.url_map.bind("localhost").build(rule.endpoint, arguments, force_external=False)
            response, count = client.get(url), count + 1
            if response.status_code >= 500 and not (rule.endpoint == "ops.readyz" and response.status_code == 503):
                failures.append(f"{email or 'anonymous'} GET {url}: {response.status_code}")
    return count, failures


def main(instance: Path) -> int:
    guard = WebOnlyInstall(runtime_distributions())
    sys.meta_path.insert(0, guard)
    from app import create_app
    from app.db import session_scope
    from app.demo import load_demo
    from app.migrate import upgrade
    from app.settings import Settings
    from evaluation.scheduler import collect_steps

    settings = Settings(instance_dir=instance, database_url=f"sqlite:///{instance / 'web-only.db'}", rate_limit_scale=0)
    upgrade(settings.database_url)
    app = create_app(settings)
    engine = app.extensions["lagc_engine"]
    with app.app_context(), session_scope(engine) as session:
        load_demo(session, settings)
    steps = [step.__name__ for step in collect_steps()]  # the scheduler's modules import too
    from leaderboard.jobs import refresh_leaderboards

    with app.app_context(), session_scope(engine) as session:
        refresh_leaderboards(session, settings)
    with session_scope(engine) as session:
        values = path_values(session)
    count, failures = get_everything(app, values)
    print(json.dumps({"requests": count, "failures": failures, "steps": steps, "refused": sorted(guard.refused)}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
