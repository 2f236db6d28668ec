"""The public leaderboard pages, an entry's public scorecard, and the organisers' freeze page.

Every page is rendered from a snapshot the scheduler computed (`leaderboard.services`), never computed in
the request: before the first one the page says the board is being prepared (503, ``Retry-After``). See
`leaderboard.serving` for the order of work that keeps the board quick under load.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.accounts.models import Role
from app.challenges.services import get_challenge, list_challenges
from app.db import get_session, utcnow
from app.security import public, roles
from app.teams.services import team_ids_of
from leaderboard import charts
from leaderboard.modelcard import render_model_card
from leaderboard.paired import scorecard_comparisons
from leaderboard.projection import SIZE_CLASSES, with_tie_reasons
from leaderboard.query import LICENCES, PER_PAGE, BoardQuery, next_order, parse_query, view_rows
from evaluation.counted import active_freeze
from leaderboard.serving import PREPARING, RETRY_AFTER, anonymous, board_head, cached_body, load_board, not_modified
from leaderboard.services import freeze, stored_snapshot, unfreeze

bp = Blueprint(
    "leaderboard", __name__, template_folder="templates", static_folder="static", static_url_path="/leaderboard-static"
)
MODEL_CARD_BYTES = 64_000


@bp.route("/leaderboard")
@public
def index():
    """The ranked board of one challenge (``?challenge=slug``, else the newest), filtered, sorted, paged."""
    head = board_head(request.args.get("challenge") or None)
    if head is None:
        if request.args.get("challenge"):
            abort(404, "There is no such challenge.")
        return render_template("leaderboard/index.html", board=None, challenges=[])
    if head.etag is None:
        return _preparing(head)
    early = not_modified(head)
    if early is not None:
        return early
    return cached_body(head, "html", lambda: (_render_index(head), "text/html"))


def _render_index(head) -> str:
    """Render the board page for this request's query."""
    board = load_board(head) or abort(503, PREPARING)
    names = [task["name"] for task in board.meta["tasks"]]
    query, errors = parse_query(request.args, names, board.meta["clusters"])
    if errors:
        abort(400, "; ".join(f"{field}: {', '.join(problems)}" for field, problems in errors.items()))
    rows, total, pages, page = view_rows(board.rows, names, query)
    medians = [stat["median"] if stat else None for stat in board.meta["task_stats"]]
    return render_template(
        "leaderboard/index.html",
        board=board,
        rows=rows,
        total=total,
        pages=pages,
        page=page,
        query=query,
        challenges=list_challenges(get_session()),
        sizes=SIZE_CLASSES,
        licences=LICENCES,
        per_page=PER_PAGE,
        medians=medians,
        timeline_svg=charts.timeline(board.meta["timeline"]),
        distribution_svg=charts.distribution(names, board.meta["task_stats"]),
        slug=head.slug,
        permalink=url_for("leaderboard.index", challenge=head.slug, **query.params(page=page)),
    )


@bp.route("/leaderboard/<slug>/entries/<int:team_id>")
@public
def entry(slug: str, team_id: int):
    """An entry's public scorecard and model card; its own team and organisers also see the live result."""
    head = board_head(slug)
    if head is None:
        abort(404, "There is no such challenge.")
    board = load_board(head) if head.etag else None
    if board is None:
        return _preparing(head)
    row = next((r for r in board.rows if r["team_id"] == team_id), None)
    if row is None:
        abort(404, "There is no such entry on this board.")
    live = _live_row(head.challenge_id, team_id)
    early = None if live else not_modified(head)
    if early is not None:
        return early
    return cached_body(
        head,
        f"entry-{team_id}",
        lambda: (_render_entry(board, with_tie_reasons(board.rows, [row])[0], live), "text/html"),
    )


def _preparing(head):
    """The page a board without a snapshot yet shows: it is being prepared (the scheduler computes it)."""
    body = render_template("leaderboard/preparing.html", head=head, message=PREPARING)
    return body, 503, {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}


def _render_entry(board, row: dict, live: Optional[dict]) -> str:
    """Render an entry page."""
    names = [task["name"] for task in board.meta["tasks"]]
    medians = [stat["median"] if stat else None for stat in board.meta["task_stats"]]
    profile = charts.task_profile(
        names, [c[2] for c in row["tasks"]], [c[3] for c in row["tasks"]], medians, row["team"]
    )
    return render_template(
        "leaderboard/entry.html",
        board=board,
        row=row,
        live=live,
        profile_svg=profile,
        names=names,
        medians=medians,
        model_card=_model_card(row["submission_id"]),
        comparisons=scorecard_comparisons(board.rows, row),
    )


def _live_row(challenge_id: int, team_id: int) -> Optional[dict]:
    """The live row (everything so far, not the frozen board) for the entry's own team or an organiser, hidden
    tasks withheld from the team; None for everyone else, or before the scheduler computed the live board."""
    if anonymous():
        return None
    session = get_session()
    is_organiser = Role(current_user.role) is Role.organiser
    if not is_organiser and team_id not in team_ids_of(session, current_user):
        return None
    snapshot = stored_snapshot(session, challenge_id, "organiser")
    if snapshot is None:
        return None
    rows = snapshot.rows
    row = next((r for r in rows if r["team_id"] == team_id), None)
    if row is None:
        return None
    if is_organiser:
        row = with_tie_reasons(rows, [row])[0]
    tasks = snapshot.meta["tasks"]
    keep = [i for i, task in enumerate(tasks) if is_organiser or not task["hidden"]]
    return {
        **row,
        "tasks": [row["tasks"][i] for i in keep],
        "task_names": [tasks[i]["name"] for i in keep],
        "reasons": [] if not is_organiser else row["reasons"],
        "for_organiser": is_organiser,
    }


def _model_card(submission_id: Optional[int]) -> Optional[Markup]:
    """The submission's README.md from storage (at most 64 kB) as safe HTML (`leaderboard.modelcard`), or
    None."""
    if submission_id is None:
        return None
    path = Path(current_app.config["LAGC"].storage_dir) / "submissions" / str(submission_id) / "README.md"
    try:
        with path.open("rb") as handle:
            text = handle.read(MODEL_CARD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    return Markup(render_model_card(text))  # sanitised: markdown without raw HTML, then nh3's allow-list


@bp.route("/leaderboard/<slug>/freeze", methods=["GET", "POST"])
@roles(Role.organiser)
def freeze_page(slug: str):
    """Freeze the public board at a set time (or now), or lift the freeze."""
    session = get_session()
    challenge = get_challenge(session, slug) or abort(404)
    if request.method == "POST":
        if request.form.get("action") == "unfreeze":
            unfreeze(session, challenge, current_user.id)
            flash("The public board is live again.", "success")
        else:
            at = _parse_moment(request.form.get("frozen_at", "")) or utcnow()
            freeze(session, challenge, at, current_user.id, request.form.get("reason", ""))
            flash(f"The public board is frozen at {at:%Y-%m-%d %H:%M} UTC.", "success")
        session.commit()
        return redirect(url_for("leaderboard.freeze_page", slug=slug))
    return render_template("leaderboard/freeze.html", challenge=challenge, current=active_freeze(session, challenge.id))


def _parse_moment(text: str) -> Optional[datetime]:
    """A ``YYYY-MM-DDTHH:MM`` form value as an aware UTC moment; None when empty or malformed."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@bp.app_template_filter("score")
def score_filter(value: Optional[float], digits: int = 3) -> str:
    """A score for display; an en dash when missing."""
    return "–" if value is None else f"{value:.{digits}f}"


@bp.app_template_filter("params")
def params_filter(value: Optional[int]) -> str:
    """A parameter count as 7.2B / 350M / 149k."""
    if value is None:
        return "–"
    if value >= 1e9:
        return f"{value / 1e9:.1f}B"
    return f"{value / 1e6:.0f}M" if value >= 1e6 else f"{value / 1e3:.0f}k"


def board_query_link(query: BoardQuery, slug: str, **changes) -> str:
    """The permalink of the view ``query`` with ``changes`` applied (used by the templates)."""
    return url_for("leaderboard.index", challenge=slug, **query.params(**changes))


bp.add_app_template_global(board_query_link, "board_link")
bp.add_app_template_global(next_order, "next_order")
