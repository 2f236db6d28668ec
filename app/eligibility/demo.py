"""Demo eligibility: an application for each demo team, showing the three paths an application takes.

Aurora Labs (FI) is eligible after the demo organiser confirmed its experience; Baltic Tensor (LV) is eligible
with a partner enterprise (counted in proportion) and a venture-capital investor (left out, Article 3(2));
Iberia NLP (PT) sent two versions: the first forgot the trustworthy-AI commitment, the second waits in the
organisers' queue because its previous period was over the ceilings (Article 4(2)) and its experience
evidence is unconfirmed. Idempotent: a team that already applied is left alone.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.accounts.services import find_user
from app.challenges.models import Challenge
from app.eligibility.services import confirm_experience, latest_application, rules_for, submit_application
from app.settings import Settings
from app.teams.services import team_of

ORGANISER = "organiser@demo.lagc.eu"


def _figures(staff: float, turnover: int, balance: int) -> dict[str, Any]:
    return {"staff_headcount": staff, "annual_turnover_eur": turnover, "balance_sheet_total_eur": balance}


def _application(legal_name: str, country: str, founded_on: str, experience: str, **extra: Any) -> dict[str, Any]:
    return {
        "legal_name": legal_name,
        "country": country,
        "founded_on": founded_on,
        **_figures(24, 1_800_000, 2_500_000),
        "accounts_approved": True,
        "previous_period": None,
        "partner_enterprises": [],
        "linked_enterprises": [],
        "public_bodies_control_percent": 0,
        "responsible_ai_commitment": True,
        "large_scale_ai_experience": experience,
        "planned_model": {"parameters": 34_000_000_000, "from_scratch": True},
        **extra,
    }


AURORA = _application(
    "Aurora Language Labs Oy",
    "FI",
    "2021-05-10",
    "Trained Aurora-13B, a Finnish-English model, on 512 AMD MI250X GPUs of LUMI (project 462000123, 2023); "
    "model card and training report at aurora-labs.example/13b.",
)
BALTIC = _application(
    "Baltic Tensor SIA",
    "LV",
    "2020-09-01",
    "Our team pre-trained a 7B Latvian-Lithuanian-Estonian model on LEONARDO (EuroHPC Regular Access, 2024).",
    **_figures(38.5, 4_200_000, 3_100_000),
    partner_enterprises=[
        {"name": "Riga Compute SIA", "stake_percent": 35, **_figures(12, 900_000, 1_400_000), "investor_type": None},
        {
            "name": "Baltic Ventures Fund",
            "stake_percent": 40,
            **_figures(6, 2_000_000, 60_000_000),
            "investor_type": "venture_capital",
        },
    ],
)
IBERIA_FIRST = _application(
    "Iberia NLP, Lda.",
    "PT",
    "2017-02-14",
    "Fine-tuned open 70B models for Portuguese and Spanish public administration; trained a 3B model from "
    "scratch on Deucalion (2024).",
    **_figures(210, 38_000_000, 29_000_000),
    responsible_ai_commitment=False,
)
IBERIA_SECOND = {
    **IBERIA_FIRST,
    "responsible_ai_commitment": True,
    "previous_period": _figures(265, 54_000_000, 47_000_000),
}


def extend_demo(session: Session, settings: Settings, challenge: Challenge) -> None:
    """Give each demo team its application (and the organiser's confirmations) unless it already applied."""
    organiser = find_user(session, ORGANISER)
    rules = rules_for(challenge)
    plans = (
        ("aurora@demo.lagc.eu", [AURORA], True),
        ("baltic@demo.lagc.eu", [BALTIC], True),
        ("iberia@demo.lagc.eu", [IBERIA_FIRST, IBERIA_SECOND], False),
    )
    for email, documents, confirm in plans:
        entrant = find_user(session, email)
        team = team_of(session, entrant, challenge.id) if entrant else None
        if team is None or latest_application(session, team.id) is not None:
            continue
        for document in documents:
            application = submit_application(session, team, entrant, document, rules)
        if confirm and organiser is not None:
            confirm_experience(session, application, organiser)
