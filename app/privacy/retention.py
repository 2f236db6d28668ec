"""What the platform keeps, why, and for how long: the text of the privacy page and the retention step's
limits come from the same list. Pure: standard library only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Retention:
    """One kind of data: what it is, why it is kept, for how long, and whether the platform deletes it itself."""

    what: str
    why: str
    how_long: str
    deleted_automatically: bool


def policy(notification_days: int, invitation_days: int, audit_years: int, application_years: int) -> list[Retention]:
    """The retention policy with the configured periods."""
    return [
        Retention(
            "Your account: e-mail address, name, role, password hash (argon2), sign-in time",
            "To let you sign in and to tell you about your entries.",
            "Until you erase your account; then it is replaced by a pseudonym.",
            False,
        ),
        Retention(
            "Team applications (company figures, partners, experience evidence)",
            "Eligibility for public funding must be verifiable by the funding body's auditors.",
            f"{application_years} years after the end of the challenge.",
            False,
        ),
        Retention(
            "Submissions, model checkpoints and evaluation results",
            "The ranking and the prize decisions rest on them; winners must keep their weights available.",
            "Until the end of the winners' release obligation; results stay in pseudonymised form.",
            False,
        ),
        Retention(
            "The audit log (who decided what, when)",
            "Every decision must be traceable for funding audits. It holds user ids, never e-mail addresses.",
            f"{audit_years} years.",
            False,
        ),
        Retention(
            "Notifications shown to you and sent by e-mail",
            "To tell you about what concerns you.",
            f"{notification_days} days, then deleted.",
            True,
        ),
        Retention(
            "Invitations for judges and organisers (the invitee's e-mail address)",
            "To let the invited person create their account.",
            f"{invitation_days} days after they were used, revoked or expired, then deleted.",
            True,
        ),
        Retention(
            "Sign-up requests (the e-mail address, name and password hash you signed up with)",
            "To create your account once you follow the link we e-mail to the address.",
            "A day after the link expires (it works for 24 hours), then deleted.",
            True,
        ),
        Retention(
            "Rate-limit counters (your network address while you sign in)",
            "To slow down password guessing.",
            "One day, then deleted.",
            True,
        ),
        Retention(
            "A sign-in cookie in your browser (a random id and which accounts signed in with it)",
            "So that password guessing by others never locks you out of your own browser.",
            "One year in your browser; the platform keeps no copy.",
            False,
        ),
    ]
