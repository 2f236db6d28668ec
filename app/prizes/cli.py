"""``flask prizes split FILE.json``: try a prize split from a file before anything is recorded;
``flask prizes verify-chain --challenge SLUG``: check that no award record was edited.

A thin shell: read the JSON, build the entries, call ``split_prize``, print the
result. Exit 1 when the split is refused (a decision for the organisers), 2
when the input is invalid.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import click
from flask.cli import AppGroup

from app.prizes.split import (
    DEFAULT_WEIGHTS,
    InvalidSplitInput,
    PrizeEntry,
    Split,
    SplitRefused,
    split_prize,
)

cli = AppGroup("prizes", help="Prize award tools.")

EXIT_REFUSED = 1
EXIT_INVALID = 2
_REQUIRED = ("pool_cents", "max_winners", "policy", "entries")
_ENTRY_REQUIRED = ("id", "rank", "score", "eligible", "licence")


@cli.command("split", with_appcontext=False)  # pure: needs no app or database
@click.argument("file", type=click.Path(dir_okay=False))
def split_command(file: str) -> None:
    """Print how FILE.json's pool would be split, as JSON."""
    try:
        request = _read_request(file)
        result = split_prize(**request)
    except InvalidSplitInput as error:
        for problem in error.problems:
            click.echo(f"invalid input: {problem}", err=True)
        raise SystemExit(EXIT_INVALID)
    except SplitRefused as error:
        click.echo(f"refused: {error.reason}", err=True)
        click.echo(_dump({"error": error.reason, "tied": list(error.tied_ids)}))
        raise SystemExit(EXIT_REFUSED)
    click.echo(_dump(split_to_json(result)))


def split_to_json(result: Split) -> dict[str, Any]:
    """The printed shape of a prize split (amounts in euro cents)."""
    return {
        "policy": result.policy,
        "awards": [{"id": a.id, "rank": a.rank, "amount_cents": a.amount} for a in result.awards],
        "total_cents": result.total,
        "unawarded_cents": result.unawarded,
        "excluded": [{"id": x.id, "reason": x.reason} for x in result.excluded],
    }


def request_from_json(data: Any) -> dict[str, Any]:
    """Keyword arguments for ``split_prize`` from the file's JSON; InvalidSplitInput names each problem."""
    if not isinstance(data, dict):
        raise InvalidSplitInput(["the file must hold a JSON object"])
    problems = [f"missing field {key!r}" for key in _REQUIRED if key not in data]
    raw_entries = data.get("entries", [])
    if not isinstance(raw_entries, list):
        problems.append("'entries' must be a list")
        raw_entries = []
    entries = []
    for n, raw in enumerate(raw_entries, start=1):
        entry, entry_problems = _entry_from_json(n, raw)
        problems.extend(entry_problems)
        entries.append(entry)
    weights = data.get("weights", DEFAULT_WEIGHTS)
    if not isinstance(weights, list | tuple):
        problems.append("'weights' must be a list of numbers")
    if problems:
        raise InvalidSplitInput(problems)
    return {
        "pool_cents": data["pool_cents"],
        "max_winners": data["max_winners"],
        "policy": data["policy"],
        "entries": entries,
        "weights": tuple(weights),
    }


def _entry_from_json(n: int, raw: Any) -> tuple[PrizeEntry | None, list[str]]:
    """One entry, or the problems that stop it being read (the split validates the rest)."""
    if not isinstance(raw, dict):
        return None, [f"entry {n} must be a JSON object"]
    problems = [f"entry {n} is missing {key!r}" for key in _ENTRY_REQUIRED if key not in raw]
    for key in ("eligible", "forfeited"):
        if key in raw and not isinstance(raw[key], bool):
            problems.append(f"entry {n}: {key!r} must be true or false")
    if problems:
        return None, problems
    entry = PrizeEntry(
        id=raw["id"],
        rank=raw["rank"],
        score=raw["score"],
        eligible=raw["eligible"],
        licence=raw["licence"],
        forfeited=raw.get("forfeited", False),
    )
    return entry, []


def _read_request(file: str) -> dict[str, Any]:
    try:
        with open(file, encoding="utf-8") as handle:
            # Decimals keep scores and weights exact (0.1 stays one tenth).
            data = json.load(handle, parse_float=Decimal)
    except OSError as error:
        raise InvalidSplitInput([f"cannot read {file}: {error.strerror}"]) from error
    except ValueError as error:
        raise InvalidSplitInput([f"{file} is not valid JSON: {error}"]) from error
    return request_from_json(data)


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


@cli.command("verify-chain")
@click.option("--challenge", "slug", required=True, help="The challenge whose award chain to verify.")
def verify_chain_command(slug: str) -> None:
    """Verify a challenge's award chain: exit 0 when intact, 1 naming the first bad record."""
    from flask import current_app

    from app.challenges.services import get_challenge
    from app.db import session_scope
    from app.prizes.records import chain_of, check

    with session_scope(current_app.extensions["lagc_engine"]) as session:
        challenge = get_challenge(session, slug)
        if challenge is None:
            raise click.BadParameter(f"there is no challenge {slug!r}", param_hint="--challenge")
        result, count = check(session, challenge), len(chain_of(session, challenge.id))
    if not result.ok:
        for problem in result.problems:
            click.echo(f"broken: {problem}", err=True)
        raise SystemExit(EXIT_REFUSED)
    click.echo(f"the award chain of {slug} is intact: {count} record(s)")
