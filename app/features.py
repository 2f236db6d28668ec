"""The features of the platform and their parts, imported by name so the tools see every link.

A feature is a package; it may have `models.py` (tables), `routes.py` (a blueprint `bp`), `api.py` (routes
registered with `app.api.route`), `cli.py` (a click group `cli`), `jobs.py` (`STEPS`, run by the scheduler on
every cycle, and optionally `WAKE`), `demo.py` (`extend_demo(session, settings, challenge)`), `sections.py`
(the challenge-configuration sections it parses) and `metrics.py` (its gauges for `/metrics`). Adding a
feature or a part means adding its import below, in the order of `FEATURES`: blueprints, API routes,
scheduler steps and demo extensions run in that order (a new result is ranked in the same scheduler cycle
because `leaderboard.jobs` comes after `evaluation.jobs`). The import layers are `pyproject.toml`'s
`layers` contract (see docs/DEVELOPING.md).

Each function imports its parts when called, so `app.models` (Alembic) loads tables and nothing else.
"""

from __future__ import annotations

from types import ModuleType

FEATURES = (
    "app.accounts",
    "app.challenges",
    "app.teams",
    "app.audit",
    "app.ops",
    "app.web",
    "app.eligibility",
    "app.checkpoints",
    "app.licences",
    "evaluation",
    "evaluation.sites",
    "app.judging",
    "leaderboard",
    "app.prizes",
    "app.organiser",
    "app.notifications",
    "app.privacy",
)


def models() -> tuple[ModuleType, ...]:
    """Every feature's tables (and the rate limiter's), so Alembic and the app see the whole schema."""
    from app.accounts import models as accounts
    from app.audit import models as audit
    from app.challenges import models as challenges
    from app.checkpoints import models as checkpoints
    from app.eligibility import models as eligibility
    from app.judging import models as judging
    from app.licences import models as licences
    from app.notifications import models as notifications
    from app.ops import models as ops
    from app.prizes import models as prizes
    from app.security import models as security
    from app.teams import models as teams
    from evaluation import models as evaluation
    from leaderboard import models as leaderboard

    return (
        accounts,
        challenges,
        teams,
        audit,
        ops,
        security,
        eligibility,
        checkpoints,
        licences,
        evaluation,
        judging,
        leaderboard,
        prizes,
        notifications,
    )


def routes() -> tuple[ModuleType, ...]:
    """Every feature's pages: a module with a blueprint `bp`."""
    from app.accounts import routes as accounts
    from app.checkpoints import routes as checkpoints
    from app.eligibility import routes as eligibility
    from app.judging import routes as judging
    from app.licences import routes as licences
    from app.notifications import routes as notifications
    from app.ops import routes as ops
    from app.organiser import routes as organiser
    from app.privacy import routes as privacy
    from app.prizes import routes as prizes
    from app.web import routes as web
    from evaluation import routes as evaluation
    from evaluation.sites import routes as sites
    from leaderboard import routes as leaderboard

    return (
        accounts,
        ops,
        web,
        eligibility,
        checkpoints,
        licences,
        evaluation,
        sites,
        judging,
        leaderboard,
        prizes,
        organiser,
        notifications,
        privacy,
    )


def api() -> tuple[ModuleType, ...]:
    """Every feature's API routes (they register themselves on the API blueprint when imported)."""
    from app.api import core
    from app.checkpoints import api as checkpoints
    from app.eligibility import api as eligibility
    from app.judging import api as judging
    from app.licences import api as licences
    from app.prizes import api as prizes
    from evaluation import api as evaluation
    from evaluation.sites import api as sites
    from leaderboard import api as leaderboard

    return (core, eligibility, checkpoints, licences, evaluation, sites, judging, leaderboard, prizes)


def cli() -> tuple[ModuleType, ...]:
    """Every feature's command group `cli`."""
    from app.checkpoints import cli as checkpoints
    from app.eligibility import cli as eligibility
    from app.licences import cli as licences
    from app.ops import cli as ops
    from app.organiser import cli as organiser
    from app.prizes import cli as prizes
    from evaluation import cli as evaluation
    from evaluation.sites import cli as sites
    from leaderboard import cli as leaderboard

    return (ops, eligibility, checkpoints, licences, evaluation, sites, leaderboard, prizes, organiser)


def jobs() -> tuple[ModuleType, ...]:
    """Every feature's scheduler steps (`STEPS`, and `WAKE` where a feature can ask for an early cycle)."""
    from app.challenges import jobs as challenges
    from app.checkpoints import jobs as checkpoints
    from app.licences import jobs as licences
    from app.notifications import jobs as notifications
    from app.privacy import jobs as privacy
    from evaluation import jobs as evaluation
    from leaderboard import jobs as leaderboard

    return (challenges, checkpoints, licences, evaluation, leaderboard, notifications, privacy)


def demos() -> tuple[ModuleType, ...]:
    """Every feature's extension of the demo challenge (`extend_demo`)."""
    from app.accounts import demo as accounts
    from app.eligibility import demo as eligibility
    from app.judging import demo as judging
    from app.prizes import demo as prizes
    from evaluation import demo as evaluation
    from evaluation.sites import demo as sites
    from leaderboard import demo as leaderboard

    return (accounts, eligibility, evaluation, sites, judging, leaderboard, prizes)


def sections() -> tuple[ModuleType, ...]:
    """Every feature's challenge-configuration sections (registered with `app.challenges.config` on import)."""
    from app.checkpoints import sections as checkpoints
    from app.eligibility import sections as eligibility
    from app.licences import sections as licences
    from evaluation import sections as evaluation

    return (eligibility, checkpoints, licences, evaluation)


def metrics() -> tuple[ModuleType, ...]:
    """Every feature's gauges for `/metrics` (registered with `app.ops.metrics` on import)."""
    from app.checkpoints import metrics as checkpoints
    from app.notifications import metrics as notifications
    from app.ops import metrics as ops
    from evaluation import metrics as evaluation

    return (ops, checkpoints, evaluation, notifications)
