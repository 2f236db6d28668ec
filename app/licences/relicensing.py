"""May a model derived from a base model be released under the licence its card declares?

Permissive bases (Apache-2.0, MIT, CC-BY ...) allow any licence for derived work. Other bases
bind their derivatives: a non-commercial base must stay non-commercial, a share-alike base
must keep the same licence, a no-derivatives base allows no release at all, and Llama, Gemma
and RAIL licences travel with every derivative.
"""

from dataclasses import dataclass

from app.licences.expression import Expression, evaluate
from app.licences.ids import family
from app.licences.policy import Outcome, best, worst

PERMISSIVE_BASES = frozenset(
    {
        "apache-2.0",
        "mit",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "isc",
        "cc0-1.0",
        "unlicense",
        "zlib",
        "bsl-1.0",
        "cc-by-4.0",
    }
)
NO_DERIVATIVES = frozenset({"cc-by-nd-4.0", "cc-by-nc-nd-4.0"})

# Base licence -> licences a derived model may carry (besides the base licence itself).
_BINDING = {
    "cc-by-nc-4.0": frozenset({"cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0"}),
    "cc-by-nc-sa-4.0": frozenset(),
    "cc-by-sa-4.0": frozenset({"gpl-3.0"}),  # GPLv3 is on Creative Commons' BY-SA compatible list
    "gpl-3.0": frozenset({"agpl-3.0"}),
    "agpl-3.0": frozenset(),
    "lgpl-3.0": frozenset({"gpl-3.0", "agpl-3.0"}),
    "mpl-2.0": frozenset({"gpl-3.0", "lgpl-3.0", "agpl-3.0"}),
}
_WHY = {
    "cc-by-nc-4.0": "a non-commercial base model must stay non-commercial",
    "cc-by-nc-sa-4.0": "a share-alike base model must keep its licence",
    "cc-by-sa-4.0": "a share-alike base model must keep its licence",
}


@dataclass(frozen=True)
class Relicensing:
    """Whether the declared licence is allowed for a model derived from the base, and why."""

    outcome: Outcome
    rule: str


def check_relicensing(base: str, declared: Expression) -> Relicensing:
    """Judge a declared licence against the licence of the base model it was derived from."""
    if base in PERMISSIVE_BASES:
        return Relicensing(Outcome.PASS, "its licence allows derived models under any licence")
    if base in NO_DERIVATIVES:
        return Relicensing(Outcome.FAIL, "its licence forbids sharing derived models at all")
    if base in _BINDING:
        allowed = _BINDING[base] | {base}
        rule = _WHY.get(base, "its copyleft licence must carry over to derived models")
    elif family(base) != base or base == "gemma":
        allowed = None
        rule = "its licence terms must carry over to every derived model"
    else:
        return Relicensing(Outcome.REVIEW, "the platform has no rule for this base licence")

    def carries(key: str) -> Outcome:
        if key == "other":
            return Outcome.REVIEW  # a custom licence may well include the base terms
        ok = family(key) == family(base) if allowed is None else key in allowed
        return Outcome.PASS if ok else Outcome.FAIL

    # Every option of an OR must carry the terms; one part of an AND is enough.
    return Relicensing(evaluate(declared, carries, either=worst, both=best), rule)
