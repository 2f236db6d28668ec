"""Gathering the award's inputs and previewing it.

The shell around the pure `app.prizes.preview`: it checks the preconditions (judging locked, the board
frozen), reads the final ranking of the frozen board (`leaderboard.standings`, key ``final_score``, counted
as of the competition's cut-off: `evaluation.counted.cutoff`), each team's eligibility, its licence verdict
in force re-checked at award time, the forfeits (an organiser's forfeit record, or a release obligation gone
overdue) and the organisers' latest tie-break decision.

A preview only reads (its page is a GET): the licence engine runs again on the pinned files in memory, and
`record_licence_rechecks` stores changed verdicts when the award is confirmed or re-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from app.challenges.models import Challenge
from app.challenges.services import config_of
from app.checkpoints.models import Submission
from app.checkpoints.storage import Storage
from app.eligibility.services import current_status
from app.judging.services import LOCKED, PUBLISHED, judging_state
from app.licences.models import ObligationStatus, ReleaseObligation
from app.licences.obligations import release_terms_of, standing
from app.licences.policy import release_terms
from app.licences.services import licence_verdict_now, policy_of, recheck_submission_licence, verdicts_in_force
from app.prizes.models import PrizeTieBreak
from app.prizes.preview import Candidate, CutOffTest, Preview, PrizeRules, compute_preview, cut_off_pair, settle_cut_off
from app.prizes.records import chain_of, current_award, forfeit_records, published_award
from app.settings import Settings
from evaluation.counted import COMPETITION, active_freeze, counted_entries, cutoff
from evaluation.reproduction import award_blocks
from leaderboard.paired import CompareError, compare_entries, entry_of
from leaderboard.standings import standings, suite_of


@dataclass(frozen=True)
class PreviewState:
    """What the organisers' page shows: what is missing, or the preview and the inputs behind it."""

    missing: list[str] = field(default_factory=list)
    preview: Optional[Preview] = None
    judging: str = ""
    frozen_at: Optional[datetime] = None
    tie_break: Optional[PrizeTieBreak] = None


def prize_rules(challenge: Challenge) -> PrizeRules:
    """The challenge's `[prize]` section as the preview reads it."""
    prize = config_of(challenge).prize
    return PrizeRules(
        prize.pool_cents, prize.max_winners, prize.policy, tuple(prize.weights), dict(prize.compute_hours)
    )


def preconditions(session: Session, challenge: Challenge, now: datetime) -> tuple[list[str], str, Optional[datetime]]:
    """(what is missing before a preview, the judging state, when the board froze)."""
    missing = []
    state = judging_state(session, challenge)
    if state not in (LOCKED, PUBLISHED):
        missing.append(
            "Judging is still open: the organisers must finalise (lock) judging on the Judging page, "
            "so the judges' scores that count in the final score can no longer change."
        )
    freeze = active_freeze(session, challenge.id)
    frozen_at = freeze.frozen_at if freeze is not None else None
    if frozen_at is None:
        missing.append("The leaderboard is not frozen: freeze the board so the final ranking stops moving.")
    elif frozen_at > now:
        missing.append(f"The leaderboard freeze starts only at {frozen_at:%Y-%m-%d %H:%M} UTC; wait until then.")
        frozen_at = None
    return missing, state, frozen_at


def preview_state(session: Session, challenge: Challenge, settings: Settings, now: datetime) -> PreviewState:
    """Check the preconditions, then preview the split from the frozen final ranking."""
    missing, state, frozen_at = preconditions(session, challenge, now)
    tie = latest_tie_break(session, challenge)
    if missing:
        return PreviewState(missing, None, state, frozen_at, tie)
    as_of = cutoff(session, challenge.id, COMPETITION)
    candidates = gather_candidates(session, challenge, settings, as_of)
    rules, order = prize_rules(challenge), tie.order if tie else ()
    preview = compute_preview(candidates, rules, order)
    test = cut_off_test(session, challenge, settings, cut_off_pair(preview, candidates), candidates, as_of)
    settled = settle_cut_off(preview, candidates, rules, order, test)
    return PreviewState([], reproduction_gate(session, challenge, settled, as_of), state, frozen_at, tie)


def cut_off_test(
    session: Session,
    challenge: Challenge,
    settings: Settings,
    pair: Optional[tuple[int, int]],
    candidates: list[Candidate],
    as_of: Optional[datetime],
) -> Optional[CutOffTest]:
    """The paired comparison of the two entries at the prize cut-off (`cut_off_pair`), as the frozen board
    counts them, from their kept per-item results (`leaderboard.paired`); None when there is no cut-off."""
    if pair is None:
        return None
    names = {c.team_id: c.team for c in candidates}
    try:
        a, b = (entry_of(session, challenge, (team_id, names[team_id]), as_of) for team_id in pair)
        body = compare_entries(a, b, suite_of(challenge), settings.storage_dir)
    except CompareError as exc:
        return CutOffTest(*pair, unavailable=exc.detail.rstrip("."))
    overall = body["overall"]
    return CutOffTest(*pair, p_value=overall["p_value"], difference=overall["difference"], ci95=tuple(overall["ci95"]))


def reproduction_gate(session: Session, challenge: Challenge, preview: Preview, as_of: Optional[datetime]) -> Preview:
    """The preview, refused while a winner evaluated at a site has no reproduction at another site that agrees
    (nor an organiser's resolution): the rule of ``evaluation.reproduction``. Each winner's evaluation is the
    one that counts for it as of ``as_of`` (`evaluation.counted.counted_entries`)."""
    if preview.refused or not preview.winners:
        return preview
    counted = counted_entries(session, challenge, as_of, [row.team_id for row in preview.winners])
    blocks = award_blocks(
        session,
        [(row.team, counted[row.team_id].evaluation_id if row.team_id in counted else None) for row in preview.winners],
    )
    if not blocks:
        return preview
    return replace(
        preview,
        refused="the award waits for the cross-site reproductions of its winners (order them, "
        "or resolve a discrepancy, on the organisers' Evaluations page): " + "; ".join(blocks),
    )


def gather_candidates(
    session: Session, challenge: Challenge, settings: Settings, as_of: Optional[datetime]
) -> list[Candidate]:
    """Every team on the final ranking of the board as it stood at ``as_of``, with today's facts."""
    board = standings(session, challenge, key="final_score", as_of=as_of, judges_published_only=False)
    candidates = []
    for row in board.rows:
        unranked = "; ".join(row.reasons[:1]) if row.rank is None else ""
        candidates.append(
            Candidate(
                row.team_id,
                row.team,
                row.is_baseline,
                row.rank,
                row.final_score,
                row.submission_id,
                "not_applied",
                "",
                None,
                unranked=unranked or ("no final score yet" if row.rank is None else ""),
                score_se=row.final_stderr,
                benchmark_se=row.benchmark_stderr,
                judges=row.judges_score,
                judges_se=row.judges_stderr,
            )
        )
    return refreshed(session, settings, candidates, forfeited_teams(session, challenge))


def refreshed(
    session: Session, settings: Settings, candidates: list[Candidate], forfeits: dict[int, str]
) -> list[Candidate]:
    """The candidates with their eligibility, licence in force (re-checked) and forfeit as they stand now."""
    licences = licences_now(session, settings, [c.submission_id for c in candidates if not c.is_baseline])
    return [refresh(session, c, forfeits, licences) for c in candidates]


def refresh(
    session: Session, candidate: Candidate, forfeits: dict[int, str], licences: dict[int, Optional[str]]
) -> Candidate:
    """One candidate with its eligibility, licence (from ``licences``, `licences_now`) and forfeit."""
    if candidate.is_baseline:
        return replace(candidate, eligibility="baseline", eligibility_words="baseline", forfeit=None)
    status = current_status(session, candidate.team_id)
    return replace(
        candidate,
        eligibility=status.status,
        eligibility_words=status.words,
        licence=licences.get(candidate.submission_id),
        forfeit=forfeits.get(candidate.team_id),
    )


def licences_now(session: Session, settings: Settings, submission_ids) -> dict[int, Optional[str]]:
    """Submission id -> its licence verdict in force at award time (`verdicts_in_force`): an organiser's
    resolution, else the engine's verdict on its pinned files today (a Hub submission kept no files of its own:
    its recorded verdict). Nothing is stored."""
    recorded = {}
    for submission in _submissions(session, submission_ids):
        folder = Storage(settings.storage_dir).submission_dir(submission.id)
        recorded[submission.id] = (
            licence_verdict_now(session, submission, folder).verdict.value
            if folder.is_dir()
            else submission.licence_verdict
        )
    return verdicts_in_force(session, recorded)


def record_licence_rechecks(session: Session, settings: Settings, submission_ids) -> None:
    """Store (and audit) the re-checked licence verdicts of the award's submissions whose verdict changed:
    what `licences_now` computed for the preview the organisers confirm."""
    for submission in _submissions(session, submission_ids):
        folder = Storage(settings.storage_dir).submission_dir(submission.id)
        if folder.is_dir():
            recheck_submission_licence(session, submission, folder)


def _submissions(session: Session, submission_ids) -> list[Submission]:
    ids = sorted({i for i in submission_ids if i is not None})
    return list(session.exec(select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id))) if ids else []


def forfeited_teams(session: Session, challenge: Challenge) -> dict[int, str]:
    """Team id -> why it forfeited: an organiser's forfeit record, or a release obligation gone overdue."""
    found = {
        team_id: str(row.payload.get("reason", "forfeited"))
        for team_id, row in forfeit_records(chain_of(session, challenge.id)).items()
    }
    for team_id, deadline in overdue_teams(session, challenge).items():
        found.setdefault(team_id, f"release obligation overdue (deadline {deadline:%Y-%m-%d})")
    return found


def overdue_teams(session: Session, challenge: Challenge) -> dict[int, datetime]:
    """Team id -> the deadline of its overdue release obligation in this challenge."""
    query = select(ReleaseObligation).where(
        ReleaseObligation.challenge_id == challenge.id, ReleaseObligation.status == ObligationStatus.overdue
    )
    return {o.team_id: o.deadline for o in session.exec(query.order_by(ReleaseObligation.id)).all()}


def latest_tie_break(session: Session, challenge: Challenge) -> Optional[PrizeTieBreak]:
    """The organisers' latest tie-break decision for the challenge, if any."""
    query = select(PrizeTieBreak).where(PrizeTieBreak.challenge_id == challenge.id).order_by(PrizeTieBreak.id.desc())
    return session.exec(query).first()


def obligation_of(
    session: Session, challenge_id: int, team_id: int, submission_id: Optional[int]
) -> Optional[ReleaseObligation]:
    """The latest release obligation of a winner's submission in this challenge."""
    query = select(ReleaseObligation).where(
        ReleaseObligation.challenge_id == challenge_id, ReleaseObligation.team_id == team_id
    )
    if submission_id is not None:
        query = query.where(ReleaseObligation.submission_id == submission_id)
    return session.exec(query.order_by(ReleaseObligation.id.desc())).first()


def winners_of(session: Session, challenge: Challenge, award) -> list[dict]:
    """The winners of an award record with their amounts and the status of their release obligation."""
    winners = []
    for item in award.payload.get("awards", []):
        obligation = obligation_of(session, challenge.id, item["team_id"], item.get("submission_id"))
        winners.append(
            {
                **item,
                "obligation": obligation.status.value if obligation else "not opened",
                "deadline": obligation.deadline if obligation else None,
            }
        )
    return winners


@dataclass(frozen=True)
class TeamPrize:
    """What a team won in the award in force, and its release obligation, as its dashboard says it."""

    rank: int
    amount_cents: int
    gpu_hours: dict[str, int]  # cluster -> hours, only those the prize rules give
    published: bool
    release: str  # the obligation, from the challenge's [licence] section
    standing: str  # where the team stands on it
    deadline: Optional[datetime]
    forfeit: Optional[str] = None  # why the team forfeited an earlier award (then it won nothing now)

    @property
    def what(self) -> str:
        """The prize in words: "EUR 250,000.00, 2,000,000 GPU hours on LUMI and 1,000 GPU hours on LEONARDO"."""
        parts = [eur(self.amount_cents)] + [
            f"{hours:,} GPU hours on {cluster.upper()}" for cluster, hours in self.gpu_hours.items()
        ]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def eur(cents: int) -> str:
    """Euro cents as "EUR 250,000.00" (every page shows money this way)."""
    cents = int(cents or 0)
    return f"EUR {cents // 100:,}.{cents % 100:02d}"


def team_prize(session: Session, challenge: Challenge, team_id: int, now: datetime) -> Optional[TeamPrize]:
    """The team's prize in the award in force (or its forfeit of an earlier one), or None when it won nothing."""
    rows = chain_of(session, challenge.id)
    award = current_award(rows)
    if award is None:
        return None
    item = next((a for a in award.payload.get("awards", []) if a["team_id"] == team_id), None)
    forfeit = forfeit_records(rows).get(team_id)
    won = any(a["team_id"] == team_id for r in rows if r.kind in ("award", "rerun") for a in r.payload["awards"])
    if forfeit is not None and won:  # a winner that forfeited keeps nothing, even before the award is re-run
        return TeamPrize(0, 0, {}, False, "", "", None, forfeit=str(forfeit.payload.get("reason", "forfeited")))
    if item is None:
        return None
    obligation = obligation_of(session, challenge.id, team_id, item.get("submission_id"))
    terms = release_terms_of(session, obligation) if obligation else release_terms(policy_of(challenge))
    return TeamPrize(
        item["rank"],
        item["amount_cents"],
        {cluster: hours for cluster, hours in (item.get("gpu_hours") or {}).items() if hours},
        published_award(rows) is award,
        terms.words,
        standing(obligation, now),
        obligation.deadline if obligation else None,
    )
