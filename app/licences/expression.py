"""Reading a declared licence: a single Hub id or an SPDX expression with AND, OR and WITH.

`license-expression` (the ScanCode project's parser) does the parsing; we only decide what an
AND, an OR and a WITH mean for the challenge: OR offers a choice, so the best option counts;
AND imposes every part, so the worst part counts; an exception (`WITH LLVM-exception`) only
adds permissions, so the licence it is attached to counts.
"""

from collections.abc import Callable
from dataclasses import dataclass

from license_expression import ExpressionError, Licensing

from app.licences.ids import canonical_id, is_valid_id
from app.licences.policy import Outcome, best, worst

_LICENSING = Licensing()  # no known symbols: any well-formed key parses, the policy judges it
_MAX_EXPRESSION = 500


class UnreadableExpression(ValueError):
    """The declared licence is not a licence id nor a well-formed SPDX expression."""


@dataclass(frozen=True)
class Expression:
    """A parsed licence expression and the canonical ids it mentions, in order."""

    text: str
    tree: object
    ids: tuple[str, ...]


def parse_expression(text: str) -> Expression:
    """Parse a declared licence, raising `UnreadableExpression` with a reason a person can read."""
    if len(text) > _MAX_EXPRESSION:
        raise UnreadableExpression(f"the licence field is {len(text)} characters long")
    try:
        tree = _LICENSING.parse(text, validate=False, strict=False)
    except ExpressionError as error:
        raise UnreadableExpression(str(error)) from None
    if tree is None:
        raise UnreadableExpression("the licence field is empty")
    ids = tuple(canonical_id(key) for key in _leaf_keys(tree))
    for key in ids:
        if not is_valid_id(key):
            raise UnreadableExpression(f"'{key}' is not a licence id")
    return Expression(text=text, tree=tree, ids=ids)


Combine = Callable[[list[Outcome]], Outcome]


def evaluate(
    expression: Expression,
    leaf: Callable[[str], Outcome],
    either: Combine = best,
    both: Combine = worst,
) -> Outcome:
    """Combine the outcome of each licence id: by default the best of an OR, the worst of an AND.

    A rule about obligations (does the licence carry the base model's terms?) swaps them: every
    option of an OR must carry the terms, and one part of an AND is enough.
    """
    return _walk(expression.tree, leaf, either, both)


def _walk(node: object, leaf: Callable[[str], Outcome], either: Combine, both: Combine) -> Outcome:
    """Walk the expression tree bottom up."""
    if hasattr(node, "license_symbol"):  # `X WITH exception`: exceptions only add permissions
        return leaf(canonical_id(node.license_symbol.key))
    if hasattr(node, "key"):
        return leaf(canonical_id(node.key))
    outcomes = [_walk(arg, leaf, either, both) for arg in node.args]
    return either(outcomes) if node.operator.strip() == "OR" else both(outcomes)


def _leaf_keys(node: object) -> list[str]:
    """Return the licence keys of an expression tree, left to right, without the exceptions."""
    if hasattr(node, "license_symbol"):
        return [node.license_symbol.key]
    if hasattr(node, "key"):
        return [node.key]
    return [key for arg in node.args for key in _leaf_keys(arg)]


def exceptions(expression: Expression) -> tuple[str, ...]:
    """Return the `WITH` exceptions an expression mentions (for the reasons)."""
    found = []
    stack = [expression.tree]
    while stack:
        node = stack.pop()
        if hasattr(node, "exception_symbol"):
            found.append(node.exception_symbol.key)
        stack.extend(getattr(node, "args", ()))
    return tuple(sorted(found))
