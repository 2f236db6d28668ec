"""Prize forms: confirm and re-run (carrying the preview's fingerprint), publish, forfeit, tie-break decision.
The irreversible ones (confirm, re-run, publish) need a tick box that names what they do."""

from __future__ import annotations

from typing import Sequence

from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import WebForm, confirmation, team_select
from app.prizes.workflow import MIN_REASON


class ConfirmForm(WebForm):
    """Confirm the award exactly as previewed."""

    fingerprint = HiddenField(validators=[DataRequired()])
    confirm_award = confirmation(
        "I confirm this award: it is recorded for good (it cannot be edited or deleted), "
        "and each winner's release obligation opens now."
    )


class RerunForm(WebForm):
    """Confirm the re-run after a forfeit exactly as previewed."""

    fingerprint = HiddenField(validators=[DataRequired()])
    confirm_rerun = confirmation(
        "I confirm this re-run: it is recorded for good, replaces the award in force "
        "(and the public winners page, if published) and opens the new winners' release "
        "obligations."
    )


class PublishForm(WebForm):
    """Publish the award in force."""

    confirm_publish = confirmation(
        "I understand that the winners page becomes public, naming the winners and "
        "their prizes; it cannot be withdrawn."
    )


class ForfeitForm(WebForm):
    """An organiser disqualifies a team from the prize, with a written reason."""

    team_id = team_select()
    reason = TextAreaField(
        "Why the team forfeits (kept in the award history)",
        validators=[DataRequired(), Length(min=MIN_REASON, max=2000)],
    )


class TieBreakFormBase(WebForm):
    """The organisers' order for entries tied at the cut-off; `tie_break_form` adds one field per place."""

    justification = TextAreaField(
        "Justification (kept in the audit log)", validators=[DataRequired(), Length(min=MIN_REASON, max=4000)]
    )

    def order(self) -> list[int]:
        """The team ids, best first."""
        return [self[f"place_{n}"].data for n in range(1, self._places + 1)]

    def validate_justification(self, _field) -> None:
        if len(set(self.order())) != len(self.order()):
            raise ValidationError("Give each tied entry its own place in the order.")


def tie_break_form(tied: Sequence[tuple[int, str]], **kwargs) -> TieBreakFormBase:
    """A form with one select per place (1st, 2nd, ...) among the tied teams, in their current order."""
    choices = [(team_id, name) for team_id, name in tied]

    class TieBreakForm(TieBreakFormBase):
        _places = len(choices)

    for n, (team_id, _) in enumerate(choices, start=1):
        setattr(TieBreakForm, f"place_{n}", SelectField(f"Place {n}", coerce=int, choices=choices, default=team_id))
    return TieBreakForm(**kwargs)
