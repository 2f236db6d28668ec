"""Every reader shows the same counted evaluation, or the same "pending" (issue 14): the public board, its
entry page, the JSON and CSV exports, the organisers' live view, the scorecard, the judges' field, the prize
preview, the team's counted-submission API and its submissions page.

The case of the issue: Alpha's v1 is evaluated, the board freezes, then Alpha's v2 is accepted and its
evaluation runs. Bravo is scored; Charlie's only submission is still being evaluated. Then v2 finishes after
the freeze: the live readers (the organisers' live view, the team's own pages) move to v2, the competition's
readers (the public board and exports, the scorecards and judges' field, the prize preview) stay on v1 until
the board is unfrozen.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from app.accounts.models import Role
from tests.helpers import sign_in

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CONFIG = """
[challenge]
slug = "counted"
name = "Counted Challenge"
call_date = {call}

[[phases]]
key = "submission"
name = "Submission"
starts = {start}
ends = {end}

[prize]
pool_eur = 1000
max_winners = 1
policy = "fixed"
per_winner_eur = 1000
gpu_hours_per_winner = 0

[[benchmark.tasks]]
name = "arc"
metric = "acc_norm"
baseline = 0.25

[[benchmark.tasks]]
name = "boolq"
metric = "acc"
baseline = 0.5
"""


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def world(db, make_user):
    """The issue's case (see the module docstring), inserted as the features would have left it."""
    from app.accounts.models import User
    from app.accounts.services import issue_token
    from app.challenges.services import load_config_text
    from app.judging.models import JudgeAssignment
    from app.teams.models import Team, TeamMembership
    from evaluation.models import LeaderboardFreeze
    from scoring.config import DEFAULT_2024_TOML

    ids = {
        name: make_user(f"{name}@example.eu", role)
        for name, role in (("org", Role.organiser), ("judge", Role.judge), ("alice", Role.entrant))
    }
    text = (
        CONFIG.format(
            call=(NOW - timedelta(days=30)).date(),
            start=_iso(NOW - timedelta(days=30)),
            end=_iso(NOW + timedelta(days=30)),
        )
        + DEFAULT_2024_TOML
    )
    with db() as session:
        challenge = load_config_text(session, text)
        teams = {}
        for name in ("Alpha", "Bravo", "Charlie"):
            teams[name] = Team(challenge_id=challenge.id, name=name)
            session.add(teams[name])
        session.flush()
        session.add(
            TeamMembership(team_id=teams["Alpha"].id, user_id=ids["alice"], challenge_id=challenge.id, is_owner=True)
        )
        for name in ("Alpha", "Charlie"):
            session.add(
                JudgeAssignment(
                    challenge_id=challenge.id, judge_id=ids["judge"], team_id=teams[name].id, assigned_by=ids["org"]
                )
            )
        w = SimpleNamespace(
            slug=challenge.slug,
            challenge_id=challenge.id,
            users=ids,
            teams={name: team.id for name, team in teams.items()},
        )
        w.v1, w.ev1 = _scored(session, w, "Alpha", "Alpha v1", days=3, arc=0.55)
        w.b1, w.evb = _scored(session, w, "Bravo", "Bravo v1", days=3, arc=0.52)
        w.c1, w.evc = _running(session, w, "Charlie", "Charlie v1", NOW - timedelta(days=2))
        session.add(
            LeaderboardFreeze(
                challenge_id=challenge.id,
                frozen_at=NOW - timedelta(days=1),
                frozen_by_id=ids["org"],
                reason="final week",
            )
        )
        w.v2, w.ev2 = _running(session, w, "Alpha", "Alpha v2", NOW - timedelta(hours=12))
        w.alice_api = {"Authorization": "Bearer " + issue_token(session, session.get(User, ids["alice"]), "tests")[1]}
    return w


def _submission(session, w, team: str, label: str, accepted_at: datetime) -> int:
    from app.checkpoints.models import Submission, SubmissionStatus

    row = Submission(
        challenge_id=w.challenge_id,
        team_id=w.teams[team],
        submitted_by_id=w.users["alice"],
        label=label,
        source="hub",
        status=SubmissionStatus.accepted,
        accepted_at=accepted_at,
        licence_verdict="pass",
        parameters=7_000_000_000,
    )
    session.add(row)
    session.flush()
    return row.id


def _scored(session, w, team: str, label: str, *, days: int, arc: float) -> tuple[int, int]:
    from evaluation.models import Evaluation, EvaluationState, TaskResult

    sub = _submission(session, w, team, label, NOW - timedelta(days=days))
    ev = Evaluation(
        challenge_id=w.challenge_id,
        team_id=w.teams[team],
        submission_id=sub,
        state=EvaluationState.finished,
        cluster="lumi",
        finished_at=NOW - timedelta(days=days - 1),
    )
    session.add(ev)
    session.flush()
    for task, value in (("arc", arc), ("boolq", 0.7)):
        session.add(TaskResult(evaluation_id=ev.id, task=task, metric="acc", value=value, stderr=0.01))
    return sub, ev.id


def _running(session, w, team: str, label: str, accepted_at: datetime) -> tuple[int, int]:
    from evaluation.models import Evaluation, EvaluationState

    sub = _submission(session, w, team, label, accepted_at)
    ev = Evaluation(
        challenge_id=w.challenge_id,
        team_id=w.teams[team],
        submission_id=sub,
        state=EvaluationState.running,
        cluster="lumi",
        started_at=accepted_at + timedelta(minutes=5),
    )
    session.add(ev)
    session.flush()
    return sub, ev.id


def _finish_v2(db, w) -> None:
    """v2's evaluation lands after the freeze, scoring better than v1."""
    from evaluation.models import Evaluation, EvaluationState, TaskResult

    with db() as session:
        ev = session.get(Evaluation, w.ev2)
        ev.state, ev.finished_at = EvaluationState.finished, NOW - timedelta(hours=1)
        for task, value in (("arc", 0.85), ("boolq", 0.9)):
            session.add(TaskResult(evaluation_id=ev.id, task=task, metric="acc", value=value, stderr=0.01))


def _refresh(db) -> None:
    """The scheduler's leaderboard step (the only writer of snapshots)."""
    from leaderboard.services import refresh_all

    with db() as session:
        refresh_all(session)


# ----------------------------------------------------------------------------------------------- the readers


def _public(app, w) -> dict[str, tuple]:
    """What the public board, its entry page and exports count for Alpha and Charlie: (submission, evaluation)
    or "pending"."""
    client = app.test_client()
    rows = {r["team"]: r for r in client.get(f"/api/v1/leaderboard?challenge={w.slug}").get_json()["rows"]}
    csv_rows = {
        r["team"]: r
        for r in csv.DictReader(
            io.StringIO(client.get(f"/api/v1/leaderboard?challenge={w.slug}&format=csv").get_data(as_text=True))
        )
    }
    page = client.get(f"/leaderboard?challenge={w.slug}").get_data(as_text=True)
    entry = client.get(f"/leaderboard/{w.slug}/entries/{w.teams['Alpha']}").get_data(as_text=True)
    pending = client.get(f"/leaderboard/{w.slug}/entries/{w.teams['Charlie']}").get_data(as_text=True)
    alpha = rows["Alpha"]
    return {
        "json": (alpha["submission_id"], alpha["evaluation_id"]),
        "csv": (_by_label(w, csv_rows["Alpha"]["submission"]), _by_finish(w, csv_rows["Alpha"]["evaluated_at"])),
        "page": (_label_in_row(w, page, "Alpha"), None),
        "entry page": (_label_in(w, entry), None),
        "json pending": "pending"
        if rows["Charlie"]["rank"] is None and rows["Charlie"]["reasons"][0] == "evaluation of Charlie v1 pending"
        else rows["Charlie"],
        "csv pending": "pending" if csv_rows["Charlie"]["score"] == "" else csv_rows["Charlie"],
        "entry page pending": "pending" if "evaluation of Charlie v1 pending" in pending else "?",
    }


def _competition(app, db, w) -> dict[str, tuple]:
    """What the judges' field, the scorecard (judge and organiser) and the prize preview count for Alpha."""
    from app.challenges.models import Challenge
    from app.judging.field import field_of
    from app.prizes.services import gather_candidates
    from evaluation.counted import COMPETITION, cutoff

    with db() as session:
        challenge = session.get(Challenge, w.challenge_id)
        found = field_of(session, challenge)
        run = found.runs[w.teams["Alpha"]]
        candidates = {
            c.team: c
            for c in gather_candidates(
                session, challenge, app.config["LAGC"], cutoff(session, w.challenge_id, COMPETITION)
            )
        }
    out = {
        "judges' field": (run.evaluation.submission_id, run.evaluation.id),
        "judges' field pending": "pending"
        if w.teams["Charlie"] not in found.runs and found.entries[w.teams["Charlie"]].status == "pending"
        else "?",
        "prize preview": (candidates["Alpha"].submission_id, None),
        "prize preview pending": "pending"
        if candidates["Charlie"].unranked == "evaluation of Charlie v1 pending"
        else candidates["Charlie"],
    }
    for who in ("judge", "org"):
        client = app.test_client()
        sign_in(client, f"{who}@example.eu")
        card = client.get(f"/c/{w.slug}/scorecards/{w.teams['Alpha']}").get_data(as_text=True)
        shown = re.search(r"<dt>Submission</dt><dd>.*? \(#(\d+)\)</dd>", card)
        evaluation = re.search(r"<dt>Evaluation</dt><dd>#(\d+)", card)
        out[f"scorecard ({who})"] = (int(shown.group(1)), int(evaluation.group(1)))
        pending = client.get(f"/c/{w.slug}/scorecards/{w.teams['Charlie']}").get_data(as_text=True)
        out[f"scorecard pending ({who})"] = "pending" if "evaluation of Charlie v1 pending" in pending else "?"
    return out


def _live(app, w) -> dict[str, tuple]:
    """What the live readers count for Alpha: the organisers' live view, the team's API and submissions page."""
    organiser = app.test_client()
    sign_in(organiser, "org@example.eu")
    entry = organiser.get(f"/leaderboard/{w.slug}/entries/{w.teams['Alpha']}").get_data(as_text=True)
    live = entry[entry.index('id="h-live"') :]
    assert "Live result" in live
    team = app.test_client()
    sign_in(team, "alice@example.eu")
    counted = team.get(f"/api/v1/challenges/{w.slug}/counted", headers=w.alice_api).get_json()
    page = team.get(f"/c/{w.slug}/submissions").get_data(as_text=True)
    counts = re.search(r'data-submission="(\d+)">(?:(?!</tr>).)*<strong>counts</strong>', page, re.S)
    return {
        "organisers' live view": (_label_in(w, live.split("</p>")[0]), None),
        "submissions page": (int(counts.group(1)), None),
        "team API": counted,
    }


def _by_label(w, label: str) -> int:
    return {"Alpha v1": w.v1, "Alpha v2": w.v2}[label]


def _by_finish(w, evaluated_at: str) -> int:
    """The evaluation that finished at ``evaluated_at`` (the CSV names evaluations by their finish time)."""
    return {w.ev1_finish: w.ev1, w.ev2_finish: w.ev2}[evaluated_at[:16]]


def _label_in(w, html: str) -> int:
    found = {sub for label, sub in (("Alpha v1", w.v1), ("Alpha v2", w.v2)) if label in html}
    assert len(found) == 1, f"expected one of Alpha's labels, found {found}"
    return found.pop()


def _label_in_row(w, page: str, team: str) -> int:
    rows = [row for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S) if f">{team}<" in row]
    assert len(rows) == 1, f"{team} should have one row on the board"
    return _label_in(w, re.search(r'<td class="model">(.*?)</td>', rows[0], re.S).group(1))


def _team_api(counted: dict) -> tuple:
    return (counted["counted"]["submission_id"], counted["counted"]["evaluation_id"])


# ------------------------------------------------------------------------------------------------ the tests


def _finish_times(db, w) -> None:
    from evaluation.models import Evaluation

    with db() as session:
        for name in ("ev1", "ev2"):
            finished = session.get(Evaluation, getattr(w, name)).finished_at
            setattr(w, f"{name}_finish", finished.isoformat()[:16] if finished else None)


def test_every_reader_counts_v1_while_v2_is_evaluated_and_says_pending_alike(app, db, world):
    from app.judging.models import JudgingLock

    with db() as session:
        session.add(JudgingLock(challenge_id=world.challenge_id, locked_by=world.users["org"]))
    _refresh(db)
    _finish_times(db, world)
    seen = {**_public(app, world), **_competition(app, db, world)}
    assert len(seen) == 15  # 7 public readers and 8 of the competition's (judge and organiser scorecards)
    live = _live(app, world)
    want = (world.v1, world.ev1)
    for reader, got in seen.items():
        if "pending" in reader:
            assert got == "pending", reader
        else:
            assert got[0] == want[0] and got[1] in (want[1], None), (reader, got)
    assert live["organisers' live view"][0] == live["submissions page"][0] == world.v1
    assert _team_api(live["team API"]) == want and _team_api({"counted": live["team API"]["frozen"]}) == want
    assert live["team API"]["counted"]["notes"] == ["a newer submission, Alpha v2, is being evaluated"]


def test_after_v2_lands_past_the_freeze_the_live_readers_move_and_the_competition_stays_on_v1(app, db, world):
    from app.judging.models import JudgingLock

    with db() as session:
        session.add(JudgingLock(challenge_id=world.challenge_id, locked_by=world.users["org"]))
    _finish_v2(db, world)
    _refresh(db)
    _finish_times(db, world)
    for reader, got in {**_public(app, world), **_competition(app, db, world)}.items():
        if "pending" not in reader:
            assert got[0] == world.v1 and got[1] in (world.ev1, None), (reader, got)
    live = _live(app, world)
    assert live["organisers' live view"][0] == live["submissions page"][0] == world.v2
    assert _team_api(live["team API"]) == (world.v2, world.ev2)
    assert live["team API"]["frozen"]["submission_id"] == world.v1


def test_once_unfrozen_every_reader_counts_v2(app, db, world):
    from app.challenges.models import Challenge
    from leaderboard.services import unfreeze

    _finish_v2(db, world)
    with db() as session:
        unfreeze(session, session.get(Challenge, world.challenge_id), world.users["org"])
    _refresh(db)
    _finish_times(db, world)
    seen = {
        name: got
        for name, got in {**_public(app, world), **_competition(app, db, world)}.items()
        if "pending" not in name
    }
    assert all(got[0] == world.v2 and got[1] in (world.ev2, None) for got in seen.values()), seen
    live = _live(app, world)
    assert live["organisers' live view"][0] == live["submissions page"][0] == world.v2
