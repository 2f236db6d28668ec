"""Loading challenge configuration files into the database and reading them back."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlmodel import Session, select

from app.audit.services import record
from app.challenges.config import ChallengeConfig, ConfigError, parse_config
from app.challenges.gating import PhaseGate
from app.challenges.models import Challenge, Phase
from app.db import utcnow
from app.errors import DomainError, Kind


class PhaseClosed(DomainError, ValueError):
    """An entrant action the challenge's phases do not allow now: "the phase is closed", a conflict."""

    kind = Kind.conflict

    def __init__(self, gate: PhaseGate):
        super().__init__(gate.reason)
        self.gate = gate


@lru_cache(maxsize=64)
def _parse_cached(text: str) -> ChallengeConfig:
    return parse_config(text)


def config_of(challenge: Challenge) -> ChallengeConfig:
    """The parsed configuration of a stored challenge (parsed once per distinct text)."""
    return _parse_cached(challenge.config_text)


def phase_gate(challenge: Challenge, action: str, now: Optional[datetime] = None) -> PhaseGate:
    """Whether the challenge's phases allow the entrant action (register, apply, submit) now, and why not.
    Read from the stored configuration, so a saved edit of the dates or of `allows` applies at once."""
    return config_of(challenge).gate(action, now or utcnow())


def require_phase(challenge: Challenge, action: str, now: Optional[datetime] = None) -> PhaseGate:
    """The gate of an entrant action; raises `PhaseClosed` when the phases do not allow it now. Every
    service an entrant acts through calls this before it writes anything (organisers' actions do not)."""
    gate = phase_gate(challenge, action, now)
    if not gate.allowed:
        raise PhaseClosed(gate)
    return gate


def load_config_text(session: Session, text: str, actor_id: Optional[int] = None) -> Challenge:
    """Create or update a challenge from configuration text; unchanged text changes nothing."""
    config = parse_config(text)
    challenge = get_challenge(session, config.slug)
    if challenge is not None and challenge.config_sha256 == config.sha256:
        return challenge
    created = challenge is None
    if created:
        challenge = Challenge(
            slug=config.slug,
            name=config.name,
            call_date=config.call_date,
            config_text=text,
            config_sha256=config.sha256,
        )
        session.add(challenge)
    else:
        challenge.name, challenge.call_date = config.name, config.call_date
        challenge.config_text, challenge.config_sha256 = text, config.sha256
    session.flush()
    _replace_phases(session, challenge, config)
    record(
        session,
        "challenge.created" if created else "challenge.updated",
        "challenge",
        challenge.slug,
        actor_id=actor_id,
        challenge_id=challenge.id,
        sha256=config.sha256,
    )
    return challenge


def load_config_file(session: Session, path: Path, actor_id: Optional[int] = None) -> Challenge:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {path}: {exc}"]) from None
    return load_config_text(session, text, actor_id)


def _replace_phases(session: Session, challenge: Challenge, config: ChallengeConfig) -> None:
    for phase in session.exec(select(Phase).where(Phase.challenge_id == challenge.id)).all():
        session.delete(phase)
    session.flush()
    for position, spec in enumerate(config.phases):
        session.add(
            Phase(
                challenge_id=challenge.id,
                key=spec.key,
                name=spec.name,
                position=position,
                starts_at=spec.starts,
                ends_at=spec.ends,
            )
        )


def get_challenge(session: Session, slug: str) -> Optional[Challenge]:
    return session.exec(select(Challenge).where(Challenge.slug == slug)).first()


def list_challenges(session: Session) -> list[Challenge]:
    return list(session.exec(select(Challenge).order_by(Challenge.call_date.desc(), Challenge.slug)).all())


def phases_of(session: Session, challenge: Challenge) -> list[Phase]:
    return list(session.exec(select(Phase).where(Phase.challenge_id == challenge.id).order_by(Phase.position)).all())
