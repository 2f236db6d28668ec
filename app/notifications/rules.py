"""Who is told what: audit actions become notification drafts; deadlines; retry timing. Pure rules.

Standard library only: the scheduler gathers the facts (an audit event, a phase's end, the time), calls these
functions, and stores what they decide. An audience is named here ("team", "judge", "organisers", ...); the
services find the people behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Optional, Sequence

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
DEADLINE_WINDOW = timedelta(hours=48)
GAP_GRACE = timedelta(hours=1)  # how long a missing audit id may still be an uncommitted transaction


@dataclass(frozen=True)
class Kind:
    """A kind of notification a person can switch on or off, per channel."""

    label: str
    description: str
    email: bool = True
    dashboard: bool = True


KINDS: dict[str, Kind] = {
    "eligibility": Kind("Eligibility verdicts", "The verdict on your team's application, and organisers' decisions."),
    "submission": Kind("Submission checks", "A checkpoint your team sent was accepted or refused."),
    "evaluation": Kind("Evaluations", "An evaluation of your team's checkpoint finished or failed."),
    "deadline": Kind(
        "Deadlines", "A deadline of yours (registration, applications, submissions, judging) is within 48 hours."
    ),
    "judging": Kind("Judging assignments", "You were assigned a team to judge."),
    "award": Kind("Award decisions", "Decisions about the prize that concern your team."),
    "release": Kind("Release obligations", "Your team's duty to release its weights: opened, due, overdue, met."),
    "review": Kind("Review queue (organisers)", "Something waits for an organiser's decision."),
    "account": Kind("Account security", "Someone tried to create an account with your e-mail address."),
}


@dataclass(frozen=True)
class EventFacts:
    """What the rules need to know about one audit event."""

    action: str
    subject_type: str
    subject_id: Optional[str]
    details: Mapping[str, Any] = field(default_factory=dict)
    challenge_name: str = "the challenge"


@dataclass(frozen=True)
class Draft:
    """A notification to write for everyone in `audience` ("team", "judge", "organisers", "entrants", "judges")."""

    kind: str
    audience: str
    subject: str
    body: str


def _status_words(status: Any) -> str:
    return {
        "eligible": "eligible",
        "ineligible": "not eligible",
        "needs_review": "waiting for an organiser's review",
        "confirmed": "confirmed",
    }.get(str(status), str(status).replace("_", " "))


def _eligibility(e: EventFacts) -> list[Draft]:
    d = e.details
    if e.action == "eligibility.application_submitted":
        verdict = d.get("verdict")
        drafts = [
            Draft(
                "eligibility",
                "team",
                f"Eligibility: your application is {_status_words(verdict)}",
                f"Version {d.get('version')} of your team's application to {e.challenge_name} was checked: "
                f"{_status_words(verdict)}. The reasons are on your team's eligibility page.",
            )
        ]
        if verdict == "needs_review":
            drafts.append(
                Draft(
                    "review",
                    "organisers",
                    "An eligibility application waits for review",
                    f"Team #{e.subject_id} sent an application to {e.challenge_name} that needs review.",
                )
            )
        return drafts
    if e.action == "eligibility.experience_confirmed":
        return [
            Draft(
                "eligibility",
                "team",
                "Eligibility: your experience evidence is confirmed",
                f"An organiser confirmed your team's experience evidence. Your status in {e.challenge_name} "
                f"is now: {_status_words(d.get('status'))}.",
            )
        ]
    if e.action == "eligibility.overridden":
        return [
            Draft(
                "eligibility",
                "team",
                f"Eligibility decision: {_status_words(d.get('status'))}",
                f"An organiser decided that your team is {_status_words(d.get('status'))} in "
                f"{e.challenge_name}. Their justification: {d.get('justification', '')}",
            )
        ]
    return []


def _submission(e: EventFacts) -> list[Draft]:
    if e.action == "submission.accepted":
        return [
            Draft(
                "submission",
                "team",
                f"Submission #{e.subject_id} accepted",
                f"Your checkpoint (submission #{e.subject_id}) passed the checks and is stored for "
                f"evaluation in {e.challenge_name}.",
            )
        ]
    if e.action == "submission.rejected":
        errors = "; ".join(str(x) for x in (e.details.get("errors") or [])[:5])
        return [
            Draft(
                "submission",
                "team",
                f"Submission #{e.subject_id} refused",
                f"Your checkpoint (submission #{e.subject_id}) was refused: {errors or 'see the submission page'}.",
            )
        ]
    return []


def _evaluation(e: EventFacts) -> list[Draft]:
    if e.action == "evaluation.finished":
        return [
            Draft(
                "evaluation",
                "team",
                f"Evaluation #{e.subject_id} finished",
                f"The evaluation of your checkpoint in {e.challenge_name} finished; the scores are on your "
                "team's page and the leaderboard.",
            )
        ]
    if e.action == "evaluation.failed":
        reason = e.details.get("reason") or e.details.get("failure_reason") or "see the evaluation's page"
        return [
            Draft(
                "evaluation",
                "team",
                f"Evaluation #{e.subject_id} failed",
                f"The evaluation of your checkpoint in {e.challenge_name} failed: {reason}.",
            )
        ]
    return []


def _judging(e: EventFacts) -> list[Draft]:
    if e.action == "judging.assigned":
        return [
            Draft(
                "judging",
                "judge",
                f"You are assigned to judge team #{e.subject_id}",
                f"An organiser assigned you team #{e.subject_id} in {e.challenge_name}. Its scorecard is on "
                "your dashboard.",
            )
        ]
    return []


def _release(e: EventFacts) -> list[Draft]:
    deadline = e.details.get("deadline", "the deadline")
    if e.action == "release.obligation_opened":
        return [
            Draft(
                "release",
                "team",
                "Release obligation opened",
                f"Your team must release its weights in {e.challenge_name} by {deadline}.",
            )
        ]
    if e.action == "release.overdue":
        return [
            Draft(
                "release",
                "team",
                "Release obligation overdue",
                f"The deadline ({deadline}) of your team's release obligation has passed. Write to the organisers.",
            ),
            Draft(
                "review",
                "organisers",
                f"Release obligation #{e.subject_id} is overdue",
                f"Team #{e.details.get('team_id')} missed its release deadline ({deadline}).",
            ),
        ]
    if e.action in ("release.weights_declared", "release.publication_declared"):
        return [
            Draft(
                "review",
                "organisers",
                f"Release obligation #{e.subject_id} waits for acceptance",
                f"A team declared its release in {e.challenge_name}; check and accept it.",
            )
        ]
    if e.action == "release.accepted":
        return [
            Draft(
                "release",
                "team",
                "Release obligation met",
                f"The organisers accepted your team's release in {e.challenge_name}. Thank you.",
            )
        ]
    return []


def _award(e: EventFacts) -> list[Draft]:
    if e.action.startswith(("award.", "prize.")):
        what = e.action.split(".", 1)[1].replace("_", " ")
        return [
            Draft(
                "award",
                "team",
                f"Award decision: {what}",
                f"The organisers recorded an award decision concerning your team in {e.challenge_name}: "
                f"{what}. The details are on your dashboard.",
            )
        ]
    return []


def _licence(e: EventFacts) -> list[Draft]:
    if e.action == "licence.checked" and e.details.get("verdict") == "review":
        return [
            Draft(
                "review",
                "organisers",
                f"Submission #{e.subject_id} needs a licence review",
                f"The licence of submission #{e.subject_id} in {e.challenge_name} needs an organiser.",
            )
        ]
    return []


_BY_PREFIX: dict[str, Callable[[EventFacts], list[Draft]]] = {
    "eligibility": _eligibility,
    "submission": _submission,
    "evaluation": _evaluation,
    "judging": _judging,
    "release": _release,
    "award": _award,
    "prize": _award,
    "licence": _licence,
}


def drafts_for(event: EventFacts) -> list[Draft]:
    """The notifications an audit event causes (none for most actions)."""
    rule = _BY_PREFIX.get(event.action.split(".", 1)[0])
    return rule(event) if rule else []


DEADLINE_AUDIENCE = {"judging": "judges"}  # phases whose end is itself a deadline (entrants': `window_draft`)
ACTION_AUDIENCE = {"register": "entrants", "apply": "team_members", "submit": "team_members"}


def window_draft(challenge_name: str, action: str, words: str, closes: datetime) -> Optional[Draft]:
    """The reminder that an entrant action (register, apply, submit) closes soon: the end of the phases that
    allow it, back to back, whatever their keys (a submission phase that also takes late registrations moves
    the registration deadline). `words` name the action ("Checkpoint submissions"). None for other actions."""
    audience = ACTION_AUDIENCE.get(action)
    if audience is None:
        return None
    when = _when(closes)
    return Draft(
        "deadline",
        audience,
        f"Deadline in less than 48 hours: {words.lower()}",
        f"The deadline for {words.lower()} in {challenge_name} is {when}. Anything you still want to "
        "send must arrive before then.",
    )


def deadline_draft(challenge_name: str, phase_key: str, phase_name: str, ends_at: datetime) -> Optional[Draft]:
    """The reminder for a phase ending soon (judging), or None for phases whose end is nobody's deadline
    (entrants' deadlines are those of their actions: `window_draft`)."""
    audience = DEADLINE_AUDIENCE.get(phase_key)
    if audience is None:
        return None
    when = _when(ends_at)
    return Draft(
        "deadline",
        audience,
        f"{phase_name} ends in less than 48 hours",
        f"{phase_name} of {challenge_name} ends on {when}. Anything you still want to send must arrive before then.",
    )


def sign_up_link_draft(link: str, hours: int) -> Draft:
    """The e-mail to a new address: the link that creates the account (`app.accounts.signup`)."""
    return Draft(
        "account",
        "address",
        "Confirm your e-mail address to create your account",
        f"Someone, probably you, signed up on the Large AI Grand Challenge platform with this address. "
        f"Open this link within {hours} hours to confirm the address and create the account:\n\n"
        f"{link}\n\nIf it was not you, ignore this message: no account is created without the link.",
    )


def sign_up_taken_draft(sign_in_link: str) -> Draft:
    """The e-mail to the owner of an address someone tried to sign up with: nothing changed."""
    return Draft(
        "account",
        "account",
        "Someone tried to create an account with your e-mail address",
        "Someone, perhaps you, tried to sign up on the Large AI Grand Challenge platform with this "
        "address, which already has an account. Nothing changed: your account and password are as "
        f"they were.\n\nIf it was you, sign in with your password: {sign_in_link}\n\nIf it was "
        "not you, you need not do anything.",
    )


def obligation_due_draft(challenge_name: str, deadline: datetime) -> Draft:
    """The reminder that a release obligation is due within 48 hours."""
    return Draft(
        "release",
        "team",
        "Release obligation due in less than 48 hours",
        f"Your team's release obligation in {challenge_name} is due on "
        f"{_when(deadline)}. Declare the release on your team's page.",
    )


def _when(moment: datetime) -> str:
    """A deadline as reminders write it: "Friday 30 April 2024, 15:00 UTC"."""
    return moment.strftime("%A %d %B %Y, %H:%M UTC")


def is_due_soon(ends_at: datetime, now: datetime, window: timedelta = DEADLINE_WINDOW) -> bool:
    """True while a deadline lies ahead but within the window."""
    return now < ends_at <= now + window


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failed send: 1, 2, 4, ... minutes, at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_RETRY)


def gives_up(attempts: int, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """After this many failed sends the e-mail is marked failed (it stays on the dashboard)."""
    return attempts >= max_attempts


def advance_watermark(
    watermark: int, seen: Sequence[tuple[int, datetime]], now: datetime, grace: timedelta = GAP_GRACE
) -> int:
    """How far the audit log is fully handled, given the ids (and times) read after `watermark`.

    Ids are handed out before commit, so on PostgreSQL a lower id can appear after a higher one. The
    watermark moves over consecutive ids, and over a gap only once the event after it is older than `grace`
    (by then the missing id was rolled back). Events past a gap are handled again next time (idempotent).
    """
    for event_id, at in sorted(seen):
        if event_id != watermark + 1 and now - at < grace:
            break
        watermark = event_id
    return watermark
