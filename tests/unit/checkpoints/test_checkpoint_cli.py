"""`flask checkpoint validate DIR` prints the report and exits 1 when the checkpoint is refused."""

from __future__ import annotations

import json

from click.testing import CliRunner

from app.checkpoints.cli import cli


def test_validate_prints_the_report_and_exits_zero_for_a_sound_checkpoint(single_file_checkpoint):
    result = CliRunner().invoke(cli, ["validate", str(single_file_checkpoint)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["parameters"] == 19
    assert '\n  "ok": true' in result.output  # indented by 2


def test_validate_exits_one_and_lists_the_errors_for_a_refused_checkpoint(single_file_checkpoint):
    (single_file_checkpoint / "pytorch_model.bin").write_bytes(b"not opened")
    result = CliRunner().invoke(cli, ["validate", str(single_file_checkpoint)])
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0].startswith("'pytorch_model.bin': pickle-based files")
