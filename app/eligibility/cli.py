"""`flask eligibility check FILE.json`: the verdict for one application, as JSON.

Exit 0 for any verdict (eligible, needs_review or ineligible), 2 with the field errors when the
application is not valid. The rules default to the 2024 challenge; `--challenge-config` reads the
`[eligibility]` section of a challenge's TOML file instead.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import click
from flask.cli import AppGroup

from app.eligibility.application import ApplicationErrors, parse_application
from app.eligibility.rules import RuleSet, decide
from app.jsonbody import JsonBodyError, load_json

cli = AppGroup("eligibility", help="Check applications against a challenge's eligibility rules.")


def _load_rules(config_path: Path | None) -> RuleSet:
    """The rule set from a challenge TOML file, or the 2024 defaults."""
    if config_path is None:
        return RuleSet.default_2024()
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        return RuleSet.from_config(config.get("eligibility"))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--challenge-config") from exc


@cli.command("check", with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--challenge-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A challenge TOML file whose [eligibility] section holds the rules (default: 2024 rules).",
)
@click.option("--experience-confirmed", is_flag=True, help="An organiser has confirmed the experience evidence.")
def check(file: Path, challenge_config: Path | None, experience_confirmed: bool) -> None:
    """Print the eligibility verdict for the application in FILE (JSON)."""
    rules = _load_rules(challenge_config)
    try:
        application = parse_application(load_json(file.read_bytes()), require=rules.required_fields)
    except JsonBodyError as exc:
        _fail({"$": [str(exc)]})
    except ApplicationErrors as exc:
        _fail(exc.errors)
    verdict = decide(application, rules, experience_confirmed=experience_confirmed)
    click.echo(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))


def _fail(errors: dict[str, list[str]]) -> None:
    click.echo(json.dumps({"errors": errors}, indent=2, ensure_ascii=False))
    raise SystemExit(2)
