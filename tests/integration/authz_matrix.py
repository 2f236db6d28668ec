"""Who gets what: the expectations of `test_authorisation_matrix.py`, one line per route and method.

Path arguments are filled with team A's ids (its team, submission, evaluation, application, upload, release
obligation), the 2024 challenge's slug, a live invitation token and a spare API token of team A's entrant.
Each column is what that role gets:

  ok   the route served the caller: 2xx, 3xx, or 4xx for a missing or invalid field (never 401/403/404)
  no   refused: 401 (or a redirect to sign-in, for pages) when not signed in, 403 for a role not allowed
  404  hidden: the route answers "no such thing" (team A's things for anyone outside team A and its
       judges; unpublished awards; a signed-in person without a team on a "your team" route)

Pages are requested with the role's session and a valid CSRF token, `/api/v1` with the role's Bearer token.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Callable, Optional

OK, NO, HIDDEN = "ok", "no", "404"
ROLES = ("anonymous", "entrant_a", "entrant_b", "judge", "recused_judge", "organiser")

TABLE = """
# method  route                                                              anon A    B    judge recused org
GET       /                                                                  ok   ok   ok   ok   ok   ok
GET       /privacy                                                           ok   ok   ok   ok   ok   ok
GET       /favicon.ico                                                       ok   ok   ok   ok   ok   ok
GET       /healthz                                                           ok   ok   ok   ok   ok   ok
GET       /readyz                                                            ok   ok   ok   ok   ok   ok
GET       /metrics                                                           no   no   no   no   no   ok
GET       /c/<slug>                                                          ok   ok   ok   ok   ok   ok
GET       /c/<slug>/winners                                                  404  404  404  404  404  ok
GET       /leaderboard                                                       ok   ok   ok   ok   ok   ok
GET       /leaderboard/<slug>/entries/<int:team_id>                          ok   ok   ok   ok   ok   ok
GET       /leaderboard/<slug>/freeze                                         no   no   no   no   no   ok
POST      /leaderboard/<slug>/freeze                                         no   no   no   no   no   ok

# accounts
GET       /signup                                                            ok   ok   ok   ok   ok   ok
POST      /signup                                                            ok   ok   ok   ok   ok   ok
GET       /signup/confirm/<token>                                            404  404  404  404  404  404
POST      /signup/confirm/<token>                                            404  404  404  404  404  404
GET       /signin                                                            ok   ok   ok   ok   ok   ok
POST      /signin                                                            ok   ok   ok   ok   ok   ok
GET       /signin/code                                                       no   no   no   no   no   no
POST      /signin/code                                                       no   no   no   no   no   no
POST      /signout                                                           ok   ok   ok   ok   ok   ok
GET       /dashboard                                                         no   ok   ok   ok   ok   ok
GET       /account/2fa                                                       no   ok   ok   ok   ok   ok
POST      /account/2fa                                                       no   ok   ok   ok   ok   ok
POST      /account/2fa/recovery-codes                                        no   ok   ok   ok   ok   ok
GET       /account/tokens                                                    no   ok   ok   ok   ok   ok
POST      /account/tokens                                                    no   ok   ok   ok   ok   ok
POST      /account/tokens/<int:token_id>/revoke                              no   ok   404  404  404  404
GET       /account/data                                                      no   ok   ok   ok   ok   ok
GET       /account/data.json                                                 no   ok   ok   ok   ok   ok
POST      /account/erase                                                     no   ok   ok   ok   ok   ok
GET       /account/notifications                                             no   ok   ok   ok   ok   ok
POST      /account/notifications                                             no   ok   ok   ok   ok   ok
GET       /notifications                                                     no   ok   ok   ok   ok   ok
POST      /notifications/read                                                no   ok   ok   ok   ok   ok
POST      /notifications/<int:notification_id>/read                          no   ok   ok   ok   ok   ok
GET       /invitations                                                       no   no   no   no   no   ok
POST      /invitations                                                       no   no   no   no   no   ok
GET       /invitations/<token>                                               ok   ok   ok   ok   ok   ok
POST      /invitations/<token>                                               ok   ok   ok   ok   ok   ok

# teams, eligibility
POST      /c/<slug>/teams                                                    no   ok   ok   no   no   no
GET       /c/<slug>/eligibility                                              no   ok   ok   no   no   no
POST      /c/<slug>/eligibility                                              no   ok   ok   no   no   no
GET       /eligibility/applications/<int:application_id>                     no   no   no   ok   ok   ok
GET       /organiser/eligibility                                             no   no   no   no   no   ok
POST      /organiser/eligibility/applications/<int:application_id>/confirm   no   no   no   no   no   ok
POST      /organiser/eligibility/applications/<int:application_id>/override  no   no   no   no   no   ok

# checkpoints (team B's entrant, judges and organisers never reach team A's uploads)
GET       /c/<slug>/submissions                                              no   ok   ok   no   no   ok
POST      /c/<slug>/submissions                                              no   ok   ok   no   no   no
POST      /c/<slug>/submissions/hub                                          no   ok   ok   no   no   no
POST      /c/<slug>/submissions/counted                                      no   ok   ok   no   no   no
GET       /submissions/<int:submission_id>                                   no   ok   404  no   no   ok
POST      /submissions/<int:submission_id>/finalise                          no   ok   404  no   no   no
OPTIONS   /uploads                                                           ok   ok   ok   ok   ok   ok
POST      /uploads                                                           no   ok   404  no   no   no
PATCH     /uploads/<upload_id>                                               no   ok   404  no   no   no
DELETE    /uploads/<upload_id>                                               no   ok   404  no   no   no

# evaluation (signed in, then team members and organisers; a judge has no team)
GET       /c/<slug>/evaluations                                              no   ok   ok   404  404  ok
GET       /evaluations/<int:evaluation_id>/status.json                       no   ok   404  404  404  ok
GET       /organiser/evaluations                                             no   no   no   no   no   ok
POST      /organiser/evaluations/<int:evaluation_id>/cancel                  no   no   no   no   no   ok
POST      /organiser/evaluations/<int:evaluation_id>/retry                   no   no   no   no   no   ok
GET       /organiser/sites/                                                  no   no   no   no   no   ok
GET       /organiser/evaluations/<int:evaluation_id>/reproduction            no   no   no   no   no   ok
POST      /organiser/evaluations/<int:evaluation_id>/reproduce               no   no   no   no   no   ok
POST      /organiser/evaluations/<int:evaluation_id>/reproduction/resolve    no   no   no   no   no   ok

# licences and release
GET       /c/<slug>/release                                                  no   ok   ok   no   no   no
POST      /c/<slug>/release/<int:obligation_id>/weights                      no   ok   404  no   no   no
POST      /c/<slug>/release/<int:obligation_id>/publication                  no   ok   404  no   no   no
GET       /organiser/licences                                                no   no   no   no   no   ok
POST      /organiser/licences/<int:submission_id>/resolve                    no   no   no   no   no   ok
POST      /organiser/licences/obligations/<int:obligation_id>/accept         no   no   no   no   no   ok

# judging (the recused judge is refused team A's scorecard with 403 saying so; team B's entrant gets 404)
GET       /c/<slug>/scorecards/<int:team_id>                                 no   ok   404  ok   no   ok
POST      /c/<slug>/scorecards/<int:team_id>                                 no   no   no   ok   no   no
GET       /c/<slug>/judging                                                  no   no   no   ok   ok   no
POST      /c/<slug>/judging/conflicts                                        no   no   no   ok   ok   no
GET       /c/<slug>/judging/organise                                         no   no   no   no   no   ok
POST      /c/<slug>/judging/assignments                                      no   no   no   no   no   ok
POST      /c/<slug>/judging/<any(lock, publish):act>                         no   no   no   no   no   ok

# prizes
GET       /organiser/c/<slug>/prizes                                         no   no   no   no   no   ok
POST      /organiser/c/<slug>/prizes/confirm                                 no   no   no   no   no   ok
POST      /organiser/c/<slug>/prizes/rerun                                   no   no   no   no   no   ok
POST      /organiser/c/<slug>/prizes/publish                                 no   no   no   no   no   ok
POST      /organiser/c/<slug>/prizes/forfeit                                 no   no   no   no   no   ok
POST      /organiser/c/<slug>/prizes/tie-break                               no   no   no   no   no   ok

# the organiser console
GET       /organiser/                                                        no   no   no   no   no   ok
GET       /organiser/new                                                     no   no   no   no   no   ok
POST      /organiser/new                                                     no   no   no   no   no   ok
GET       /organiser/audit                                                   no   no   no   no   no   ok
GET       /organiser/audit/export.<any(csv, json):fmt>                       no   no   no   no   no   ok
GET       /organiser/c/<slug>                                                no   no   no   no   no   ok
GET       /organiser/c/<slug>/config                                         no   no   no   no   no   ok
POST      /organiser/c/<slug>/config                                         no   no   no   no   no   ok
GET       /organiser/c/<slug>/config.toml                                    no   no   no   no   no   ok
GET       /organiser/c/<slug>/baselines                                      no   no   no   no   no   ok
POST      /organiser/c/<slug>/baselines                                      no   no   no   no   no   ok

# the API: public
GET       /api/v1/openapi.json                                               ok   ok   ok   ok   ok   ok
GET       /api/v1/challenges                                                 ok   ok   ok   ok   ok   ok
GET       /api/v1/challenges/<slug>                                          ok   ok   ok   ok   ok   ok
POST      /api/v1/eligibility/check                                          ok   ok   ok   ok   ok   ok
POST      /api/v1/licences/check                                             ok   ok   ok   ok   ok   ok
GET       /api/v1/judging/<slug>                                             ok   ok   ok   ok   ok   ok
GET       /api/v1/leaderboard                                                ok   ok   ok   ok   ok   ok
GET       /api/v1/leaderboard/compare                                        ok   ok   ok   ok   ok   ok
GET       /api/v1/prizes/<slug>/award                                        404  404  404  404  404  404
OPTIONS   /api/v1/uploads                                                    ok   ok   ok   ok   ok   ok

# the API: accounts, teams, eligibility
GET       /api/v1/me                                                         no   ok   ok   ok   ok   ok
POST      /api/v1/teams                                                      no   ok   ok   no   no   no
GET       /api/v1/teams/<int:team_id>/eligibility                            no   ok   404  ok   ok   ok
POST      /api/v1/teams/<int:team_id>/eligibility                            no   ok   404  no   no   no
POST      /api/v1/eligibility/applications/<int:application_id>/confirm-experience no no no  no   no   ok
POST      /api/v1/eligibility/applications/<int:application_id>/override     no   no   no   no   no   ok

# the API: checkpoints and uploads
GET       /api/v1/challenges/<slug>/submissions                              no   ok   ok   no   no   ok
POST      /api/v1/challenges/<slug>/submissions                              no   ok   ok   no   no   no
GET       /api/v1/submissions/<int:submission_id>                            no   ok   404  no   no   ok
POST      /api/v1/submissions/<int:submission_id>/finalise                   no   ok   404  no   no   no
POST      /api/v1/uploads                                                    no   ok   404  no   no   no
PATCH     /api/v1/uploads/<upload_id>                                        no   ok   404  no   no   no
DELETE    /api/v1/uploads/<upload_id>                                        no   ok   404  no   no   no

# the API: evaluation, licences, judging, leaderboard, prizes
GET       /api/v1/challenges/<slug>/evaluations                              no   ok   ok   404  404  404
GET       /api/v1/evaluations/<int:evaluation_id>                            no   ok   404  404  404  ok
GET       /api/v1/challenges/<slug>/counted                                  no   ok   ok   no   no   no
POST      /api/v1/challenges/<slug>/counted                                  no   ok   ok   no   no   no
POST      /api/v1/submissions/<int:submission_id>/licence-resolution         no   no   no   no   no   ok
GET       /api/v1/judging/<slug>/assignments                                 no   no   no   ok   ok   no
POST      /api/v1/judging/<slug>/assignments                                 no   no   no   no   no   ok
POST      /api/v1/judging/<slug>/conflicts                                   no   no   no   ok   ok   no
POST      /api/v1/judging/<slug>/entries/<int:team_id>/sheet                 no   no   no   ok   no   no
POST      /api/v1/judging/<slug>/lock                                        no   no   no   no   no   ok
POST      /api/v1/judging/<slug>/publish                                     no   no   no   no   no   ok
GET       /api/v1/leaderboard/<slug>/freeze                                  no   no   no   no   no   ok
POST      /api/v1/leaderboard/<slug>/freeze                                  no   no   no   no   no   ok
DELETE    /api/v1/leaderboard/<slug>/freeze                                  no   no   no   no   no   ok
POST      /api/v1/prizes/<slug>/preview                                      no   no   no   no   no   ok
POST      /api/v1/prizes/<slug>/confirm                                      no   no   no   no   no   ok

# the site API: a site's token only (a person's token, even an organiser's, opens none of it)
POST      /api/v1/sites/heartbeat                                            no   no   no   no   no   no
GET       /api/v1/sites/leases                                               no   no   no   no   no   no
POST      /api/v1/sites/leases/<int:evaluation_id>/<int:attempt>/events      no   no   no   no   no   no
GET       /api/v1/sites/leases/<int:evaluation_id>/<int:attempt>/files/<sha256>  no   no   no   no   no   no
PUT       /api/v1/sites/leases/<int:evaluation_id>/<int:attempt>/outputs/<path:path>  no   no   no   no   no   no
POST      /api/v1/sites/leases/<int:evaluation_id>/<int:attempt>/result      no   no   no   no   no   no
"""


@dataclass(frozen=True)
class Row:
    """One route and method: what each role gets (in ROLES order) and how to call it."""

    expect: tuple[str, ...]
    json: Optional[dict] = None  # an API body
    form: Optional[dict] = None  # form fields for a page (the CSRF token is added)
    data: Optional[bytes] = None  # a raw body (tus chunks)
    headers: Optional[Callable[[dict], dict]] = None  # from the world's values
    values: Optional[dict] = None  # path argument -> the name of another world value
    team_a: bool = False  # team A's own things: team B's entrant must get 403 or 404


def _tus(**extra: str) -> Callable[[dict], dict]:
    return lambda values: {"Tus-Resumable": "1.0.0", **extra}


def _b64(text: object) -> str:
    return base64.b64encode(str(text).encode()).decode()


def _tus_create(values: dict) -> dict:
    """A tus creation for a file of team A's submission (accepted, so the owner gets 409)."""
    metadata = f"filename {_b64('model.safetensors')},submission {_b64(values['submission_id'])}"
    return {"Tus-Resumable": "1.0.0", "Upload-Length": "16", "Upload-Metadata": metadata}


_CHUNK = dict(
    headers=_tus(**{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}), data=b"x", team_a=True
)
SHEET = {
    "technical_excellence": 7,
    "european_languages_and_impact": 8,
    "responsible_ai": 6,
    "feasibility_of_plan": 7,
    "openness": 9,
}

# How a route is called when an empty form or body would not reach the authorisation the row is about,
# or would change the world for the routes after it.
CALLS: dict[str, dict] = {
    # tus: with the protocol headers the owner reaches its upload (409: the submission is accepted).
    "POST /uploads": dict(headers=_tus_create, team_a=True),
    "PATCH /uploads/<upload_id>": _CHUNK,
    "DELETE /uploads/<upload_id>": dict(headers=_tus(), team_a=True),
    "POST /api/v1/uploads": dict(headers=_tus_create, team_a=True),
    "PATCH /api/v1/uploads/<upload_id>": _CHUNK,
    "DELETE /api/v1/uploads/<upload_id>": dict(headers=_tus(), team_a=True),
    # a complete sheet: the assigned judge saves it, the recused judge is told the entry does not exist
    "POST /c/<slug>/scorecards/<int:team_id>": dict(form={**SHEET, "notes": "revised"}, team_a=True),
    "POST /api/v1/judging/<slug>/entries/<int:team_id>/sheet": dict(json={"scores": SHEET}, team_a=True),
    # finalising and publishing judging for real happens on the other challenge, so team A's stays open
    "POST /api/v1/judging/<slug>/lock": dict(values={"slug": "other_slug"}),
    "POST /api/v1/judging/<slug>/publish": dict(values={"slug": "other_slug"}),
    "POST /leaderboard/<slug>/freeze": dict(form={"action": "unfreeze"}),
    # a team's choice of its counted submission: back to the default (its latest scored one)
    "POST /api/v1/challenges/<slug>/counted": dict(json={"submission_id": None}),
    # team A's own things
    "GET /c/<slug>/scorecards/<int:team_id>": dict(team_a=True),
    "GET /submissions/<int:submission_id>": dict(team_a=True),
    "POST /submissions/<int:submission_id>/finalise": dict(team_a=True),
    "GET /evaluations/<int:evaluation_id>/status.json": dict(team_a=True),
    "POST /c/<slug>/release/<int:obligation_id>/weights": dict(team_a=True),
    "POST /c/<slug>/release/<int:obligation_id>/publication": dict(team_a=True),
    "POST /account/tokens/<int:token_id>/revoke": dict(team_a=True),
    "GET /eligibility/applications/<int:application_id>": dict(team_a=True),
    "GET /api/v1/teams/<int:team_id>/eligibility": dict(team_a=True),
    "POST /api/v1/teams/<int:team_id>/eligibility": dict(team_a=True),
    "GET /api/v1/submissions/<int:submission_id>": dict(team_a=True),
    "POST /api/v1/submissions/<int:submission_id>/finalise": dict(team_a=True),
    "GET /api/v1/evaluations/<int:evaluation_id>": dict(team_a=True),
}


def _parse(table: str) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for line in table.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = line.split()
        method, rule, expect = words[0], " ".join(words[1 : -len(ROLES)]), tuple(words[-len(ROLES) :])
        key = f"{method} {rule}"
        assert key not in rows, f"{key} appears twice in the table"
        assert set(expect) <= {OK, NO, HIDDEN}, f"{key}: unknown outcome in {expect}"
        rows[key] = Row(expect=expect, **CALLS.get(key, {}))
    unknown = set(CALLS) - set(rows)
    assert not unknown, f"CALLS for routes not in the table: {sorted(unknown)}"
    return rows


MATRIX: dict[str, Row] = _parse(TABLE)
