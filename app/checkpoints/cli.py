"""`flask checkpoint ...` commands: validate a checkpoint folder, refresh the architecture list, and delete
unused blobs and left-over folders (`gc`). (`submit-baseline` joins this group from the organiser feature.)"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from app.checkpoints.validation import NATIVE_ARCHITECTURES_FILE, validate_checkpoint

cli = AppGroup("checkpoint", help="Check model checkpoints submitted for evaluation.")

# The transformers auto-mappings whose model classes the evaluation can load without remote code.
ARCHITECTURE_MAPPINGS = (
    "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
    "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES",
    "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
)


# Neither command touches the database, so neither needs (or builds) the Flask app.
@cli.command("validate", with_appcontext=False)
@click.argument("directory", type=click.Path(path_type=Path))
def validate_command(directory: Path) -> None:
    """Validate the checkpoint in DIRECTORY and print the report as JSON (exit 1 if refused)."""
    report = validate_checkpoint(directory)
    click.echo(json.dumps(report.to_dict(), indent=2))
    raise SystemExit(0 if report.ok else 1)


@cli.command("refresh-architectures", with_appcontext=False)
def refresh_architectures_command() -> None:
    """Rewrite native_architectures.txt from the installed transformers (needs the eval extra); scripts/lock.sh
    runs it after syncing .venv to the lock, so the list is the locked transformers'."""
    text = native_architectures_text()
    NATIVE_ARCHITECTURES_FILE.write_text(text, encoding="utf-8")
    click.echo(f"wrote {text.count(chr(10)) - 2} architectures to {NATIVE_ARCHITECTURES_FILE}")


def native_architectures_text() -> str:
    """The contents of native_architectures.txt for the installed transformers version."""
    import transformers
    from transformers.models.auto import modeling_auto

    names: set[str] = set()
    for mapping_name in ARCHITECTURE_MAPPINGS:
        for value in getattr(modeling_auto, mapping_name, {}).values():
            names.update([value] if isinstance(value, str) else value)
    header = (
        f"# Model classes transformers {transformers.__version__} implements natively "
        f"({', '.join(ARCHITECTURE_MAPPINGS)}).\n"
        "# Generated from the locked transformers by scripts/lock.sh (`flask checkpoint refresh-architectures`); "
        "do not edit by hand.\n"
    )
    return header + "".join(f"{name}\n" for name in sorted(names))


@cli.command("gc")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@click.option(
    "--as-of",
    type=click.DateTime(),
    default=None,
    help="With --dry-run: judge ages as of this UTC time, e.g. to see what tomorrow's run frees.",
)
def gc_command(dry_run: bool, as_of) -> None:
    """Delete blobs no submission links and staging/download folders left behind, once unchanged for the
    grace period (LAGC_STORAGE_GC_GRACE_HOURS); print each with its reason, what stays, and the bytes freed."""
    from datetime import timezone

    from flask import current_app

    from app.checkpoints.housekeeping import collect
    from app.db import session_scope

    if as_of is not None and not dry_run:
        raise click.UsageError("--as-of only goes with --dry-run (it would shorten the grace period).")
    now = as_of.replace(tzinfo=timezone.utc).timestamp() if as_of is not None else None
    with session_scope(current_app.extensions["lagc_engine"]) as session:
        outcome = collect(session, current_app.config["LAGC"], dry_run=dry_run, now=now, trigger="cli")
    verb = "would remove" if dry_run else "removed"
    for decision in outcome.removed:
        click.echo(f"{verb} {decision.kind} {decision.name} ({decision.bytes:,} bytes): {decision.reason}")
    for decision in outcome.skipped:
        click.echo(f"kept {decision.kind} {decision.name}: {decision.reason}")
    for decision in outcome.plan.keep:
        click.echo(f"kept {decision.kind} {decision.name}: {decision.reason}")
    counts = ", ".join(f"{n} {kind}" for kind, n in outcome.counts().items() if n) or "nothing"
    click.echo(f"{verb} {counts}; {outcome.bytes:,} bytes {'would be ' if dry_run else ''}freed")
