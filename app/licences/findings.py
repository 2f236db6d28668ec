"""The findings that make up a licence verdict, one per source: model card, LICENSE file, base model.

Each function judges one source and returns `Finding`s whose reasons say what licence was
found, where, and which rule applied, in words a start-up founder understands.
"""

from collections.abc import Callable
from dataclasses import dataclass

from app.licences.expression import (
    Expression,
    UnreadableExpression,
    evaluate,
    exceptions,
    parse_expression,
)
from app.licences.ids import canonical_id, same_terms
from app.licences.modelcard import CardLicence
from app.licences.policy import LicencePolicy, Outcome
from app.licences.relicensing import check_relicensing
from app.licences.texts import MAX_LICENSE_BYTES, TextMatch

_VERB = {Outcome.PASS: "passes", Outcome.REVIEW: "needs an organiser's review", Outcome.FAIL: "fails"}


@dataclass(frozen=True)
class Finding:
    """One rule applied to one source: its outcome and the reason, in plain words."""

    outcome: Outcome
    reason: str


def judge_declared(card: CardLicence, policy: LicencePolicy) -> tuple[Finding, Expression | None]:
    """Judge the `license` field of the model card's front matter."""
    raw = card.licence
    if not isinstance(raw, str):
        kind = type(raw).__name__
        return Finding(
            Outcome.FAIL,
            f"The model card's `license` field is a {kind}, not a "
            "licence id or an SPDX expression, so no licence can be read from it.",
        ), None
    if canonical_id(raw) == "other":
        return _judge_other(card), None
    try:
        expression = parse_expression(raw)
    except UnreadableExpression as error:
        return Finding(
            Outcome.FAIL,
            f"The model card declares the licence '{raw}', which is "
            f"neither a licence id nor a valid SPDX expression ({error}).",
        ), None
    return _judge_expression(expression, policy, "The model card front matter declares"), expression


def _judge_other(card: CardLicence) -> Finding:
    """`license: other` is acceptable only with a link to the custom licence's text."""
    name = f" '{card.licence_name}'" if card.licence_name else ""
    if card.licence_link:
        return Finding(
            Outcome.REVIEW,
            f"The model card declares a custom licence{name} "
            f"(license: other) published at {card.licence_link}; an organiser must "
            "read it to decide whether it allows use and redistribution.",
        )
    return Finding(
        Outcome.FAIL,
        f"The model card declares a custom licence{name} (license: "
        "other) but gives no license_link, so nobody can read its terms.",
    )


def _judge_expression(expression: Expression, policy: LicencePolicy, where: str) -> Finding:
    """Judge a parsed licence id or SPDX expression against the policy."""
    outcome = evaluate(expression, lambda key: policy.outcome_for(key)[0])
    if len(expression.ids) == 1:
        key = expression.ids[0]
        extra = "".join(f" (with the {e} exception, which only adds permissions)" for e in exceptions(expression))
        return Finding(
            outcome, f"{where} the licence {key}{extra}: it {_VERB[outcome]} because {policy.outcome_for(key)[1]}."
        )
    parts = "; ".join(f"{key} {_VERB[policy.outcome_for(key)[0]]}" for key in expression.ids)
    return Finding(
        outcome,
        f"{where} the SPDX expression '{expression.text}' ({parts}). "
        "With OR the user may pick the best option, with AND every part applies; "
        f"taken together it {_VERB[outcome]}.",
    )


def judge_text(match: TextMatch, declared: Expression | None, declared_raw: str | None) -> list[Finding]:
    """Judge the LICENSE file against what the model card declares."""
    findings = []
    if match.truncated:
        findings.append(
            Finding(
                Outcome.REVIEW,
                f"The LICENSE file is longer than "
                f"{MAX_LICENSE_BYTES:,} bytes, far longer than any licence; only "
                "its start was read, so an organiser should look at it.",
            )
        )
    if match.licence == "proprietary":
        findings.append(
            Finding(
                Outcome.FAIL,
                "The LICENSE file reserves all rights or forbids "
                "copying (it reads as a proprietary licence), so the weights "
                "may not be redistributed.",
            )
        )
    elif match.licence is None and declared_raw is not None:
        findings.append(
            Finding(
                Outcome.REVIEW,
                "The LICENSE file does not match any licence the "
                f"platform knows, so it cannot confirm the declared '{declared_raw}'.",
            )
        )
    elif declared is not None and match.licence is not None:
        findings.append(_compare(match, declared))
    return findings


def _compare(match: TextMatch, declared: Expression) -> Finding:
    """The LICENSE text should be one of the licences the card declares."""
    percent = f"{match.similarity:.0%} similar to the reference text"
    if any(same_terms(match.licence, key) for key in declared.ids):
        return Finding(
            Outcome.PASS,
            f"The LICENSE file contains the {match.licence} licence ({percent}), as the model card declares.",
        )
    return Finding(
        Outcome.REVIEW,
        f"The LICENSE file contains the {match.licence} licence "
        f"({percent}), but the model card declares '{declared.text}'; an organiser "
        "must find out which one applies.",
    )


def judge_text_alone(match: TextMatch, policy: LicencePolicy) -> tuple[list[Finding], Expression | None]:
    """With no licence in the model card, the LICENSE file is the only source."""
    if match.licence is None:
        return [
            Finding(
                Outcome.FAIL,
                "No licence found: the model card declares none and the "
                "LICENSE file matches no licence the platform knows.",
            )
        ], None
    if match.licence == "proprietary":
        return [], None  # `judge_text` already explains the proprietary text
    expression = parse_expression(match.licence)
    # Advice, not a reason for review: the identified text decides under the policy (a licence the policy
    # passes passes), but the Hub only shows a licence the card declares.
    missing = Finding(
        Outcome.PASS,
        "The model card declares no licence in its front matter, so "
        "the Hub shows none; add `license: " + match.licence + "` to README.md.",
    )
    return [_judge_expression(expression, policy, "The LICENSE file contains"), missing], expression


def judge_base_models(
    bases: tuple[str, ...],
    declared: Expression | None,
    policy: LicencePolicy,
    lookup: Callable[[str], str | None],
) -> list[Finding]:
    """A declared base model means the model was not trained from scratch, and binds its licence."""
    findings = []
    if policy.base_model_forces_review:
        findings.append(
            Finding(
                Outcome.REVIEW,
                f"The model card names {', '.join(bases)} as "
                "base_model; the challenge asks for models trained from scratch, "
                "so an organiser decides.",
            )
        )
    for base in bases[:10]:
        findings.append(_judge_base(base, declared, lookup))
    return findings


def _judge_base(base: str, declared: Expression | None, lookup: Callable[[str], str | None]) -> Finding:
    """Check that the declared licence is one the base model's licence allows."""
    try:
        licence = lookup(base)
    except Exception as error:  # a Hub lookup is a network edge; its failure is not ours to crash on
        return Finding(
            Outcome.REVIEW,
            f"The licence of the base model {base} could not be "
            f"looked up ({type(error).__name__}); an organiser must check it.",
        )
    if not licence:
        return Finding(
            Outcome.REVIEW,
            f"The base model {base} is not in the platform's base "
            "model catalogue, so its licence could not be checked.",
        )
    licence = canonical_id(licence)
    if declared is None:
        return Finding(
            Outcome.REVIEW,
            f"The base model {base} is licensed {licence} (base model "
            "catalogue); without a readable declared licence the platform cannot tell "
            "whether the release respects it.",
        )
    verdict = check_relicensing(licence, declared)
    allowed = {
        Outcome.PASS: "is allowed",
        Outcome.REVIEW: "needs an organiser's check",
        Outcome.FAIL: "is not allowed",
    }[verdict.outcome]
    return Finding(
        verdict.outcome,
        f"The base model {base} is licensed {licence} (base model "
        f"catalogue) and {verdict.rule}: releasing it as '{declared.text}' {allowed}.",
    )
