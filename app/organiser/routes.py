"""The organiser console's pages: challenges, the configuration editor (preview, save, import, export), the
dashboard, the audit log with its exports, and baselines."""

from __future__ import annotations

from typing import Optional

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import Role
from app.challenges.models import Challenge
from app.challenges.services import config_of, get_challenge, list_challenges
from app.db import get_session, utcnow
from app.organiser import auditlog, services
from app.organiser.changes import outline
from app.organiser.forms import AuditSearchForm, BaselineForm, ConfigForm, ImportForm
from app.security import roles

bp = Blueprint(
    "organiser",
    __name__,
    url_prefix="/organiser",
    template_folder="templates",
    static_folder="static",
    static_url_path="/organiser-static",
)


def _challenge(slug: str) -> Challenge:
    found = get_challenge(get_session(), slug)
    if found is None:
        abort(404, f"There is no challenge called {slug!r}.")
    return found


@bp.route("/")
@roles(Role.organiser)
def index():
    return render_template("organiser/index.html", challenges=list_challenges(get_session()))


@bp.route("/c/<slug>")
@roles(Role.organiser)
def dashboard(slug: str):
    session, challenge = get_session(), _challenge(slug)
    return render_template(
        "organiser/dashboard.html",
        challenge=challenge,
        outline=outline(config_of(challenge)),
        applications=services.applications_by_status(session, challenge),
        submissions=services.submissions_by_status(session, challenge),
        evaluations=services.evaluations_by_cluster(session, challenge),
        gpu=services.gpu_hours_by_team(session, challenge),
        judges=services.judges_progress(session, challenge),
        deadlines=services.upcoming_deadlines(challenge, utcnow()),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.organiser)
def new():
    return _editor(None)


@bp.route("/c/<slug>/config", methods=["GET", "POST"])
@roles(Role.organiser)
def edit(slug: str):
    return _editor(_challenge(slug))


def _editor(challenge: Optional[Challenge]):
    """Preview (parse, diff, changes in words), save (only the previewed text) or import a file."""
    form, import_form = ConfigForm(), ImportForm()
    slug = challenge.slug if challenge else None
    result, status = None, 200
    if request.method == "POST":
        if request.form.get("action") == "import":
            result, status = _import(import_form, slug)
            if result is not None:
                form.text.data = result.text
        elif form.validate_on_submit():
            text = services.normalise_text(form.text.data)
            if request.form.get("action") == "save" and form.previewed_sha256.data == _sha(text):
                result, saved = services.save(get_session(), slug, text, current_user.id)
                if saved is not None:
                    get_session().commit()
                    flash(f"Saved: {len(result.changes)} change(s).", "success")
                    return redirect(url_for("organiser.dashboard", slug=saved.slug))
            else:
                if request.form.get("action") == "save":
                    flash("The text changed since the preview: check the changes below, then save.", "info")
                result = services.preview_for(get_session(), slug, text)
        else:
            status = 422
    elif challenge is not None:
        form.text.data = challenge.config_text
    else:
        form.text.data = services.template_text()
    if result is not None:
        form.previewed_sha256.data = result.sha256 if result.ok else ""
        status = status if status != 200 else (200 if result.ok else 422)
    return render_template(
        "organiser/editor.html",
        form=form,
        import_form=import_form,
        challenge=challenge,
        result=result,
        outline=outline(config_of(challenge)) if challenge else None,
    ), status


def _sha(text: str) -> str:
    return services.Preview(text=text).sha256


def _import(import_form: ImportForm, slug: Optional[str]):
    """An uploaded file goes into the editor, previewed; nothing is saved until "Save"."""
    if not import_form.validate_on_submit():
        return None, 422
    try:
        text = services.read_upload(import_form.file.data.read(services.MAX_IMPORT_BYTES + 1))
    except ValueError as exc:
        import_form.file.errors.append(str(exc))
        return None, 422
    return services.preview_for(get_session(), slug, text), 200


@bp.route("/c/<slug>/config.toml")
@roles(Role.organiser)
def export(slug: str):
    challenge = _challenge(slug)
    return Response(
        challenge.config_text,
        mimetype="application/toml",
        headers={"Content-Disposition": f'attachment; filename="{challenge.slug}.toml"'},
    )


def _valid(field):
    return None if field.errors else field.data


def _audit_query(form: AuditSearchForm) -> auditlog.AuditQuery:
    session = get_session()
    form.challenge.choices = [("", "All challenges")] + [(c.slug, c.name) for c in list_challenges(session)]
    form.validate()  # a GET form: invalid fields are shown and ignored
    chosen = get_challenge(session, form.challenge.data) if form.challenge.data else None
    return auditlog.AuditQuery(
        challenge_id=chosen.id if chosen else None,
        action=_valid(form.action) or "",
        actor=_valid(form.actor) or "",
        subject=_valid(form.subject) or "",
        since=_valid(form.since),
        until=_valid(form.until),
    )


@bp.route("/audit")
@roles(Role.organiser)
def audit():
    form = AuditSearchForm(request.args)
    query = _audit_query(form)
    page = form.page.data if form.page.data and not form.page.errors else 1
    rows, total = auditlog.search(get_session(), query, page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "organiser/audit.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        args=args,
        pages=max(1, -(-total // auditlog.PAGE_SIZE)),
    ), 422 if form.errors else 200


@bp.route("/audit/export.<any(csv, json):fmt>")
@roles(Role.organiser)
def audit_export(fmt: str):
    query = _audit_query(AuditSearchForm(request.args))
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        body, mimetype = auditlog.export_csv(get_session(), query), "text/csv"
    else:
        body, mimetype = auditlog.export_json(get_session(), query), "application/json"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"'}
    )


@bp.route("/c/<slug>/baselines", methods=["GET", "POST"])
@roles(Role.organiser)
def baselines(slug: str):
    session, challenge = get_session(), _challenge(slug)
    form = BaselineForm()
    if form.validate_on_submit():
        try:
            team = services.register_baseline(session, challenge, form.model.data, current_user.id)
        except ValueError as exc:
            form.model.errors.append(str(exc))
        else:
            session.commit()
            flash(f"{team.name} is registered; its checkpoint is submitted and evaluated like an entry's.", "success")
            return redirect(url_for("organiser.baselines", slug=slug))
    return render_template(
        "organiser/baselines.html", challenge=challenge, form=form, rows=services.baseline_rows(session, challenge)
    ), 422 if form.errors else 200
