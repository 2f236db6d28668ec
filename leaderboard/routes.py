"""The public leaderboard pages."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from app.challenges.services import get_challenge, list_challenges
from app.db import get_session
from app.security import public

bp = Blueprint("leaderboard", __name__, template_folder="templates")


@bp.route("/leaderboard")
@public
def index():
    session = get_session()
    challenges = list_challenges(session)
    slug = request.args.get("challenge")
    if slug:
        challenge = get_challenge(session, slug)
        if challenge is None:
            abort(404, f"There is no challenge called {slug!r}.")
    else:
        challenge = next(iter(challenges), None)
    return render_template("leaderboard/index.html", challenge=challenge, challenges=challenges, rows=[])
