"""Demo submissions: each eligible demo team gets an accepted submission of a tiny generated GPT-2, and the
last of them a newer one without its tokenizer, whose evaluation fails: the board still counts its scored
submission (the counted rule, `evaluation.counting`) and says that the newer one failed.

The files go through exactly the intake an upload takes (upload rows, part files written chunk by chunk
with their sha256 checked, finalise, then completion: hashing, blobs, pinning, licence), not a shortcut.
Idempotent: a team that already has the demo submission is left alone.
"""
from __future__ import annotations

import hashlib
import io
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.accounts.models import User
from app.challenges.models import Challenge
from app.challenges.services import phase_gate
from app.checkpoints.intake import complete, finalise
from app.checkpoints.filenames import TOKENIZER_NAMES
from app.checkpoints.models import Submission
from app.checkpoints.services import create_submission, start_upload, storage_of
from app.db import utcnow
from app.settings import Settings
from app.teams.models import Team, TeamMembership

DEMO_LABEL = "Tiny GPT-2 (demo)"
BROKEN_LABEL = "Tiny GPT-2 without tokenizer (demo)"
CHUNK_BYTES = 8 * 1024 * 1024


def extend_demo(session: Session, settings: Settings, challenge: Challenge) -> None:
    """Give every eligible team of the demo challenge its accepted tiny checkpoint, once."""
    from app.eligibility.services import team_is_eligible

    teams = session.exec(select(Team).where(Team.challenge_id == challenge.id, Team.is_baseline == False)  # noqa: E712
                         .order_by(Team.id)).all()
    submitted_at = seed_moment(challenge, utcnow())
    eligible = [(seed, team) for seed, team in enumerate(teams) if team_is_eligible(session, team.id)[0]]
    for seed, team in eligible:
        broken = (seed, team) == eligible[-1]
        wanted = [label for label in (DEMO_LABEL, BROKEN_LABEL if broken else None)
                  if label and not _has_demo_submission(session, team.id, label)]
        if not wanted:
            continue
        owner = session.exec(select(User).join(TeamMembership, TeamMembership.user_id == User.id)
                             .where(TeamMembership.team_id == team.id)
                             .order_by(TeamMembership.is_owner.desc())).first()
        with tempfile.TemporaryDirectory() as folder:
            from evaluation.tinymodel import make_tiny_model

            make_tiny_model(folder, seed=seed)
            for label in wanted:  # the scored one first: the broken one is the team's newest
                if label == BROKEN_LABEL:
                    for name in TOKENIZER_NAMES:
                        (Path(folder) / name).unlink(missing_ok=True)
                submit_folder(session, settings, owner, challenge, label, Path(folder), submitted_at=submitted_at)


def seed_moment(challenge: Challenge, now: datetime) -> datetime:
    """When the demo's seeded submissions count as made: before today (UTC), inside the submission window
    open now, so they leave the day's allowance (`[limits] submissions_per_day`) to a newcomer trying the
    demo; `now` only when the window opened today."""
    gate = phase_gate(challenge, "submit", now)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if gate.allowed and gate.opens is not None and gate.opens < midnight:
        return max(gate.opens, midnight - timedelta(days=1))
    return now


def _has_demo_submission(session: Session, team_id: int, label: str) -> bool:
    return session.exec(select(Submission.id).where(Submission.team_id == team_id,
                                                    Submission.label == label)).first() is not None


def submit_folder(session: Session, settings: Settings, user: User, challenge: Challenge, label: str,
                  folder: Path, baseline: Team | None = None, submitted_at: datetime | None = None) -> Submission:
    """Submit the files of `folder` as `user` (for a `baseline` team, an organiser) through the upload
    intake, and complete it; `submitted_at`: the moment it counts as started (phase gate and limits)."""
    submission = create_submission(session, user, challenge, label, baseline=baseline, now=submitted_at)
    session.commit()
    store = storage_of(settings)
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        data = path.read_bytes()  # demo files are a few hundred kilobytes
        upload = start_upload(session, settings, user, submission, path.name, len(data),
                              hashlib.sha256(data).hexdigest())
        with store.open_part(upload.id) as part:
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start:start + CHUNK_BYTES]
                upload.offset = part.append(start, io.BytesIO(chunk), len(chunk), hashlib.sha256(chunk).digest())
        session.add(upload)
        session.commit()
    finalise(session, settings, submission, user.id)
    complete(session, settings, submission)
    session.flush()
    return submission

