"""Demo prizes: the demo organiser's award page (Dashboard -> Prize award) previews the demo challenge.

Nothing is inserted. The demo's judging is still open and its board is not frozen (the demo's judging phase
lies weeks ahead), so the award page lists exactly what is missing before a preview: an instructive first
look at the workflow. Once an organiser finalises judging (confirming, and accepting Jonas's two missing sheets)
and freezes the board, the same page shows the real preview from the final ranking, with the confirmation
that names the winners, their prizes and what confirming does; the winners page waits for the judges'
scores to be published. Recording an award here would write a permanent record in the demo's chain, which
should be the organiser's own act.
"""

from __future__ import annotations

from sqlmodel import Session

from app.challenges.models import Challenge


def extend_demo(session: Session, settings, challenge: Challenge) -> None:
    """Leave the demo's award chain as the organisers made it (idempotent: it never writes).

    The award page reads the chain and the live inputs (judging, freeze, ranking) on each visit, so there is
    nothing to seed for the preview to appear.
    """
