"""Judging forms: the rubric (built from the challenge's criteria), conflicts, assignments and the lock."""

from __future__ import annotations

from typing import Any, Optional

from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional as Blank

from app.forms import WebForm, confirmation, team_select
from scoring.rubric import Criterion, Rubric


class ConflictForm(WebForm):
    """A judge's declaration of a conflict of interest with a team."""

    team_id = team_select()
    reason = TextAreaField(
        "Why (for example: advisor to the team, former employer, shareholder)",
        validators=[DataRequired(), Length(min=3, max=2000)],
    )


class ActionForm(WebForm):
    """A button with CSRF protection only (the assignments matrix)."""


class LockForm(WebForm):
    """Finalise (lock) judging; `accept_missing` carries the missing sheets the organiser was shown."""

    confirm_lock = confirmation(
        "I understand that locking is final: no judge can submit or revise a score sheet "
        "and no assignment can change afterwards."
    )
    accept_missing = HiddenField()

    def accepted(self) -> list[str]:
        """The "judge id:team id" keys of the missing sheets the organiser accepted to lock without."""
        return [key for key in (self.accept_missing.data or "").split(",") if key]


class PublishJudgingForm(WebForm):
    """Publish the locked judges' scores."""

    confirm_publish = confirmation(
        "I understand that publishing is final: the judges' scores become public on "
        "the leaderboard, which then ranks by the final score."
    )


class RubricFormBase(WebForm):
    """The rubric form; `rubric_form` adds one whole-number field per criterion."""

    notes = TextAreaField(
        "Private notes (seen by you and the organisers, never by the team or other judges)",
        validators=[Length(max=20000)],
    )

    def criterion_fields(self) -> list[Any]:
        """The criterion fields, in rubric order."""
        return [self[name] for name in self._criterion_names]

    def scores(self) -> dict[str, Any]:
        """The entered scores by criterion id (blank ones left out, so validation names them missing)."""
        return {name[2:]: self[name].data for name in self._criterion_names if self[name].data is not None}

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        """Attach the rubric's per-criterion errors to the matching fields."""
        for key, messages in errors.items():
            target = self[f"c_{key}"] if f"c_{key}" in self._criterion_names else self.notes
            target.errors = list(target.errors) + messages


def anchors_text(criterion: Criterion) -> str:
    """The criterion's anchors as help text: "0: ...; 5: ...; 10: ..."."""
    return " ".join(f"{score}: {text}" for score, text in criterion.anchors)


def rubric_form(rubric: Rubric, scores: Optional[dict] = None, notes: str = "", **kwargs: Any) -> RubricFormBase:
    """A form for the rubric's criteria, prefilled with a sheet's scores and notes when given."""
    names = [f"c_{c.id}" for c in rubric.criteria]
    attrs: dict[str, Any] = {"_criterion_names": names}
    for criterion, name in zip(rubric.criteria, names):
        attrs[name] = IntegerField(
            f"{criterion.title} ({criterion.scale_min}-{criterion.scale_max}, weight {criterion.weight:g})",
            validators=[Blank()],
            description=anchors_text(criterion),
            render_kw={"min": criterion.scale_min, "max": criterion.scale_max, "type": "number", "step": 1},
        )
    form_class = type("RubricForm", (RubricFormBase,), attrs)
    data = {f"c_{k}": v for k, v in (scores or {}).items()}
    return form_class(data={**data, "notes": notes}, **kwargs)
