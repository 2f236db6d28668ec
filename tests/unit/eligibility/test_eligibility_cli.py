"""`flask eligibility check`: the verdict as JSON, exit 0 for any verdict and 2 for an invalid application."""

import json
from pathlib import Path

from click.testing import CliRunner

from app.eligibility.cli import cli

HERE = Path(__file__).parent


def run(tmp_path, document, *args):
    path = tmp_path / "application.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return CliRunner().invoke(cli, ["check", str(path), *args])


def test_check_prints_the_verdict_as_indented_json_and_exits_0(tmp_path, data):
    result = run(tmp_path, data())
    assert result.exit_code == 0, result.output
    assert result.output.startswith('{\n  "status": "needs_review"')
    assert [c["rule"] for c in json.loads(result.output)["checks"]][0] == "country"


def test_check_exits_0_for_an_ineligible_verdict_too(tmp_path, data):
    result = run(tmp_path, data(staff_headcount=5000))
    assert (result.exit_code, json.loads(result.output)["status"]) == (0, "ineligible")


def test_check_confirms_experience_when_asked(tmp_path, data):
    result = run(tmp_path, data(), "--experience-confirmed")
    assert json.loads(result.output)["status"] == "eligible"


def test_check_prints_the_field_errors_and_exits_2_for_an_invalid_application(tmp_path, data):
    result = run(tmp_path, data(country="ZZ", staff_headcount=True))
    assert result.exit_code == 2
    assert set(json.loads(result.output)["errors"]) == {"country", "staff_headcount"}


def test_check_exits_2_for_a_file_that_is_not_json(tmp_path, data):
    result = run(tmp_path, "{not json")
    assert result.exit_code == 2
    assert list(json.loads(result.output)["errors"]) == ["$"]


def test_check_uses_the_rules_of_the_challenge_config(tmp_path, data):
    result = run(tmp_path, data(), "--challenge-config", str(HERE / "frontier-2026.toml"))
    assert result.exit_code == 2
    assert "eu_controlled" in json.loads(result.output)["errors"]


def test_check_refuses_a_challenge_config_with_a_bad_eligibility_section(tmp_path, data):
    config = tmp_path / "challenge.toml"
    section = (HERE / "lagc-2024.toml").read_text().replace('"responsible_ai"', '"height"')
    config.write_text(section)
    result = run(tmp_path, data(), "--challenge-config", str(config))
    assert result.exit_code == 2
    assert "eligibility.rules: unknown rule 'height'" in result.output
