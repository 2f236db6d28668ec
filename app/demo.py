"""The demo challenge: the bundled challenge files, a demo challenge whose phases run around today, and
demo accounts, so a newcomer sees a working challenge within minutes. Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app import features
from app.accounts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from app.accounts.services import create_user, find_user
from app.challenges.services import get_challenge, load_config_file, load_config_text, phase_gate
from app.db import utcnow
from app.settings import BUNDLED_CHALLENGES, Settings
from app.teams.services import register_team, team_of

DEMO_SLUG = "demo"

# The demo evaluates for real, on this machine, with the offline suite that evaluation/demo.py writes under
# the instance folder (relative include paths are relative to it), a few documents per task.
DEMO_EVALUATION = """
[benchmark]
include_path = "eval-suite"
[[benchmark.tasks]]
name = "capitals_mc"
lm_eval_task = "lagc_capitals_mc"
num_fewshot = 0
metric = "acc"
weight = 1.0
baseline = 0.25

[[benchmark.tasks]]
name = "capitals_yesno"
lm_eval_task = "lagc_capitals_yesno"
num_fewshot = 0
metric = "acc"
weight = 1.0
baseline = 0.5

[[benchmark.tasks]]
name = "capitals_gen"
lm_eval_task = "lagc_capitals_gen"
num_fewshot = 0
metric = "exact_match"
weight = 1.0
baseline = 0.0
hidden = true

[clusters.local]

[evaluation]
runner = "local"
cluster = "local"
max_concurrent = { local = 1 }
allocation_gpu_hours = { local = 10 }
max_attempts = 2
timeout_minutes = 20
batch_size = 8
dtype = "float32"
limit = 16
"""
EVALUATION_SECTIONS = ("benchmark", "clusters", "evaluation")


def without_sections(text: str, names: tuple[str, ...]) -> str:
    """The TOML text without the top-level tables named (with their sub-tables and arrays of tables)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        header = line.strip()
        if header.startswith("["):
            root = header.strip("[]").split("]")[0].split(".")[0].strip()
            skipping = root in names
        if not skipping:
            kept.append(line)
    return "".join(kept)


DEMO_HEADER = """\
# The demo challenge: the 2024 Large AI Grand Challenge's rules (lagc-2024.toml), with its phases moved
# around the day the demo was loaded, late registration and eligibility applications open during the
# submission phase, and a small evaluation suite the tiny demo models run in seconds.
# `flask demo load` writes it; edit it here as an organiser would edit a real challenge's configuration.

"""


def demo_config_text(today: datetime) -> str:
    """The 2024 rules with the phases moved around `today`: registration closed a week ago, and the
    submission phase, open for a month, also takes late registrations and eligibility applications
    (`allows`), so a newcomer can register, apply and submit in the demo; evaluation, judging and the award
    follow."""
    start = today.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=14)
    base = (BUNDLED_CHALLENGES / "lagc-2024.toml").read_text(encoding="utf-8")
    # The call opens with registration ([challenge], and [eligibility], which judges countries by it).
    base = base.replace("call_date = 2023-11-16", f"call_date = {start.date()}")
    head, _, rest = base.partition("[[phases]]")
    prize = "[prize]" + rest.split("[prize]", 1)[1]
    head = DEMO_HEADER + "[challenge]" + head.split("[challenge]", 1)[1]  # not the 2024 file's own comment
    head = head.replace('slug = "lagc-2024"', f'slug = "{DEMO_SLUG}"').replace(
        'name = "Large AI Grand Challenge 2024"', 'name = "Demo Grand Challenge"'
    )
    spans = (
        ("registration", "Registration and eligibility", 0, 7, None),
        ("submission", "Checkpoint submission (late registration open)", 7, 44, ("register", "apply", "submit")),
        ("evaluation", "Evaluation", 44, 58, None),
        ("judging", "Judging", 58, 72, None),
        ("award", "Award and release", 72, 437, None),
    )
    phases = "".join(
        f'[[phases]]\nkey = "{key}"\nname = "{name}"\nstarts = {_iso(start + timedelta(days=a))}\n'
        f"ends = {_iso(start + timedelta(days=b))}\n"
        + ("" if allows is None else "allows = [" + ", ".join(f'"{x}"' for x in allows) + "]\n")
        + "\n"
        for key, name, a, b, allows in spans
    )
    return without_sections(head + phases + prize, EVALUATION_SECTIONS) + DEMO_EVALUATION


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def load_demo(session: Session, settings: Settings, today: datetime | None = None) -> list[tuple[str, str, str]]:
    """Load challenges and demo accounts; returns (e-mail, role, password) for each demo account."""
    for path in settings.challenge_files:
        load_config_file(session, path)
    today = today or utcnow()
    demo = get_challenge(session, DEMO_SLUG)
    if demo is None or not phase_gate(demo, "submit", today).allowed:
        load_config_text(session, demo_config_text(today))  # new, or its month of submissions is over: moved to today
    demo = get_challenge(session, DEMO_SLUG)
    for email, name, role, team in DEMO_ACCOUNTS:
        user = find_user(session, email) or create_user(session, email, DEMO_PASSWORD, name, role)
        if team and team_of(session, user, demo.id) is None:
            register_team(session, user, demo, team, now=today)
    session.flush()
    for module in features.demos():
        module.extend_demo(session, settings, demo)
        session.flush()
    return [(email, role.value, DEMO_PASSWORD) for email, _, role, _ in DEMO_ACCOUNTS]
