"""The demo's evaluations: the offline suite written under the instance folder, where the demo challenge's
``[benchmark] include_path = "eval-suite"`` points, and a tiny generated GPT-2 submitted for every eligible
demo team through exactly the intake an upload takes (upload rows, part files written chunk by chunk with
their sha256 checked, finalise, then completion: hashing, blobs, pinning, licence), so the scheduler evaluates
them for real with lm-eval on this machine; the last of them also gets a newer one without its tokenizer,
whose evaluation fails: the board still counts its scored submission (the counted rule,
`evaluation.counting`) and says that the newer one failed. Idempotent: a team that already has the demo submission is left
alone.

Generating the tiny model needs the evaluation extra (torch, transformers, tokenizers). A web-only install
(`pip install .`) loads the rest of the demo and says why its teams have no model yet.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.accounts.models import User
from app.challenges.models import Challenge
from app.challenges.services import phase_gate
from app.checkpoints.filenames import TOKENIZER_NAMES
from app.checkpoints.intake import submit_folder
from app.checkpoints.models import Submission
from app.db import utcnow
from app.eligibility.services import team_is_eligible
from app.settings import Settings
from app.teams.models import Team, TeamMembership
from evaluation.suite import write_suite

SUITE_FOLDER = "eval-suite"
DEMO_LABEL = "Tiny GPT-2 (demo)"
BROKEN_LABEL = "Tiny GPT-2 without tokenizer (demo)"
log = logging.getLogger("lagc.demo")


def extend_demo(session: Session, settings: Settings, challenge: Challenge) -> None:
    """Write the offline suite (the same seed writes the same bytes), then give every eligible team of the
    demo challenge its accepted tiny checkpoint, once."""
    write_suite(Path(settings.instance_dir) / SUITE_FOLDER, seed=0)
    try:  # an optional extra, not a feature: without it the rest of the demo still loads
        import tokenizers  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as missing:
        log.warning(
            "demo teams get no tiny model: generating it needs the eval extra (pip install '.[eval]'): %s", missing
        )
        return
    from evaluation.tinymodel import make_tiny_model

    teams = session.exec(
        select(Team)
        .where(Team.challenge_id == challenge.id, Team.is_baseline == False)  # noqa: E712
        .order_by(Team.id)
    ).all()
    submitted_at = seed_moment(challenge, utcnow())
    eligible = [(seed, team) for seed, team in enumerate(teams) if team_is_eligible(session, team.id)[0]]
    for seed, team in eligible:
        broken = (seed, team) == eligible[-1]
        wanted = [
            label
            for label in (DEMO_LABEL, BROKEN_LABEL if broken else None)
            if label and not _has_demo_submission(session, team.id, label)
        ]
        if not wanted:
            continue
        owner = session.exec(
            select(User)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.team_id == team.id)
            .order_by(TeamMembership.is_owner.desc())
        ).first()
        with tempfile.TemporaryDirectory() as folder:
            make_tiny_model(folder, seed=seed)
            for label in wanted:  # the scored one first: the broken one is the team's newest
                if label == BROKEN_LABEL:
                    for name in TOKENIZER_NAMES:
                        (Path(folder) / name).unlink(missing_ok=True)
                submit_folder(session, settings, owner, challenge, label, Path(folder), submitted_at=submitted_at)


def _has_demo_submission(session: Session, team_id: int, label: str) -> bool:
    return (
        session.exec(select(Submission.id).where(Submission.team_id == team_id, Submission.label == label)).first()
        is not None
    )


def seed_moment(challenge: Challenge, now: datetime) -> datetime:
    """When the demo's seeded submissions count as made: before today (UTC), inside the submission window
    open now, so they leave the day's allowance (`[limits] submissions_per_day`) to a newcomer trying the
    demo; `now` only when the window opened today."""
    gate = phase_gate(challenge, "submit", now)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if gate.allowed and gate.opens is not None and gate.opens < midnight:
        return max(gate.opens, midnight - timedelta(days=1))
    return now
