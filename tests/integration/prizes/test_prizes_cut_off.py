"""The prize cut-off tested item by item: the last winner must be distinguishable from the entry that would
win in its place (paired, p < 0.05, on the benchmark score); if not, the preview names both with the numbers
and the award waits for the organisers' tie-break decision, which then decides."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from tests.factories import NOW, PRIZE_SLUG as SLUG, kept_samples
from tests.helpers import page_text, sign_in

N = 400


def values(right: int, seed: int) -> list[int]:
    """N items, `right` of them right, in an order drawn from `seed`."""
    out = np.zeros(N, dtype=int)
    out[np.random.default_rng(seed).permutation(N)[:right]] = 1
    return out.tolist()


def one_apart(base: list[int]) -> list[int]:
    """`base` with two right items turned wrong and one wrong item turned right: no test tells them apart."""
    out = list(base)
    for i in [i for i, v in enumerate(base) if v][:2] + [i for i, v in enumerate(base) if not v][:1]:
        out[i] = 1 - out[i]
    return out


def entry(world, db, settings, name: str, items: list[int] | None) -> int:
    """A prize-world entry scoring the mean of `items`, with its per-item results kept (None: not kept)."""
    from evaluation.models import Evaluation

    team_id = world.entry(name, sum(items) / N)
    if items is not None:
        with db() as session:
            ev = session.exec(select(Evaluation).where(Evaluation.team_id == team_id)).one()
            kept_samples(session, ev.id, settings.storage_dir, {"arc": ("acc_norm,none", items)})
    return team_id


def _state(db, app):
    from app.challenges.services import get_challenge
    from app.prizes.services import preview_state

    with db() as session:
        return preview_state(session, get_challenge(session, SLUG), app.config["LAGC"], NOW)


@pytest.fixture
def close_call(world, db, settings):
    """Two winners: Aurora well ahead; Baltic (2nd, the last winner) one item ahead of Iberia (3rd)."""
    baltic = values(280, 2)
    ids = {
        "Aurora": entry(world, db, settings, "Aurora", values(340, 1)),
        "Baltic": entry(world, db, settings, "Baltic", baltic),
        "Iberia": entry(world, db, settings, "Iberia", one_apart(baltic)),
    }
    world.settle()
    return ids


def test_a_cut_off_the_data_cannot_tell_apart_holds_the_award_and_names_both_entries(db, app, close_call):
    preview = _state(db, app).preview
    assert preview.refused and "Rank 2 (Baltic) and rank 3 (Iberia) cannot be told apart" in preview.refused
    assert "difference 0.0033" in preview.refused  # one item of 400 on the normalised score (chance 0.25)
    assert "p = " in preview.refused and "95% interval" in preview.refused
    assert set(preview.tied) == {close_call["Baltic"], close_call["Iberia"]} and not preview.winners
    from app.accounts.models import User
    from app.challenges.services import get_challenge
    from app.prizes.records import PrizeError
    from app.prizes.workflow import confirm

    with pytest.raises(PrizeError, match="tie-break decision"):
        with db() as session:
            confirm(
                session,
                get_challenge(session, SLUG),
                app.config["LAGC"],
                session.get(User, 1),
                preview.fingerprint,
                NOW,
            )


def test_the_organisers_tie_break_decision_settles_the_cut_off_and_can_give_the_place_to_the_other_entry(
    db, app, close_call, people
):
    from app.accounts.models import User
    from app.challenges.services import get_challenge
    from app.prizes.workflow import decide_tie

    with db() as session:
        decide_tie(
            session,
            get_challenge(session, SLUG),
            session.get(User, people["organiser"]),
            [close_call["Iberia"], close_call["Baltic"]],
            "Iberia's model card and release plan are stronger; the benchmark cannot separate them.",
            NOW,
        )
    preview = _state(db, app).preview
    assert preview.refused is None and [r.team for r in preview.winners] == ["Aurora", "Iberia"]
    assert "tie-break decision orders them" in preview.cut_off and preview.payload["cut_off"] == preview.cut_off


def test_a_cut_off_the_data_separates_stands_and_says_so(db, app, world, settings):
    entry(world, db, settings, "Aurora", values(340, 1))
    entry(world, db, settings, "Baltic", values(280, 2))
    entry(world, db, settings, "Iberia", values(220, 3))
    world.settle()
    preview = _state(db, app).preview
    assert preview.refused is None and [r.team for r in preview.winners] == ["Aurora", "Baltic"]
    assert preview.cut_off.startswith("The cut-off stands: rank 2 (Baltic) and rank 3 (Iberia) are distinguishable")


def test_without_kept_per_item_results_the_preview_says_the_cut_off_could_not_be_tested(db, app, world, settings):
    entry(world, db, settings, "Aurora", values(340, 1))
    world.entry("Baltic", 0.70)  # recorded before per-item results were kept
    entry(world, db, settings, "Iberia", values(220, 3))
    world.settle()
    preview = _state(db, app).preview
    assert preview.refused is None and "could not be tested item by item" in preview.cut_off
    assert "Baltic cannot be compared item by item" in preview.cut_off


def test_the_award_page_shows_the_held_cut_off_with_the_tie_break_form(client, close_call):
    sign_in(client, "olga@example.eu")
    html = page_text(client.get(f"/organiser/c/{SLUG}/prizes"))
    assert "Rank 2 (Baltic) and rank 3 (Iberia) cannot be told apart" in html
    assert "Record the tie-break decision" in html and "Confirm the award" not in html
