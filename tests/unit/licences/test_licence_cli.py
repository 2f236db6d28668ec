"""`flask licence check DIR`, driven through click's test runner, and the bounded folder reader."""

import json

import pytest
from click.testing import CliRunner

from app.licences.cli import cli
from app.licences.verify import check_licence_dir


def run_check(path) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", str(path)])
    return result.exit_code, json.loads(result.output)


def test_the_check_command_prints_the_verdict_as_json(tmp_path, card, data):
    (tmp_path / "README.md").write_bytes(card("license: mit"))
    (tmp_path / "LICENSE").write_bytes((data / "LICENSE-mit-markdown.md").read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 1024)
    exit_code, output = run_check(tmp_path)
    assert exit_code == 0
    assert output["verdict"] == "pass"
    assert output["licence"] == "mit"
    assert len(output["reasons"]) == 2


def test_the_check_command_output_is_indented_json(tmp_path, card):
    (tmp_path / "README.md").write_bytes(card("license: llama3"))
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.output.startswith('{\n  "verdict": "review"')


def test_the_check_command_on_a_missing_folder_prints_a_failing_verdict(tmp_path):
    exit_code, output = run_check(tmp_path / "nowhere")
    assert exit_code == 0
    assert output["verdict"] == "fail"


@pytest.mark.timeout(10)
def test_the_folder_reader_reads_only_the_start_of_an_enormous_licence_file(tmp_path, card, reformatted, policy):
    (tmp_path / "README.md").write_bytes(card("license: apache-2.0"))
    with (tmp_path / "LICENSE.txt").open("wb") as handle:
        handle.write(reformatted("apache-2.0"))
        handle.truncate(200 * 1024 * 1024)  # a sparse 200 MB file: cheap to make, costly to read
    verdict = check_licence_dir(tmp_path, policy)
    assert verdict.to_dict()["verdict"] == "review"
    assert "only its start was read" in verdict.reasons[1]


@pytest.mark.timeout(10)
def test_the_folder_reader_refuses_an_enormous_readme(tmp_path, policy):
    with (tmp_path / "README.md").open("wb") as handle:
        handle.write(b"---\nlicense: mit\n---\n")
        handle.truncate(100 * 1024 * 1024)
    assert check_licence_dir(tmp_path, policy).to_dict()["verdict"] == "fail"
