"""The site agent's own parts that need no platform and no Slurm: its settings (the token never from the
command line), what it reads of a finished job (outputs, GPU models, time limit, provenance) and the staging
store's checks and folders (files put into the store by hand, so nothing is fetched)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from evaluation.agent import running
from evaluation.agent.client import PlatformClient
from evaluation.agent.protocol import SUITE_PLACEHOLDER
from evaluation.agent.settings import TOKEN_ENV, AgentSettingsError, from_args
from evaluation.agent.staging import USED, Stager, StagingError
from evaluation.clusters import ClusterProfile
from evaluation.layout import Layout
from evaluation.policy import model_digest
from evaluation.runners.base import SUCCEEDED, RunStatus
from evaluation.runners.transport import LocalTransport

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
BASE = ["--platform", "https://lagc.example.eu/", "--site", "lumi", "--workdir"]


def test_the_token_comes_from_the_environment_or_a_file_and_the_command_line_has_no_place_for_it(tmp_path):
    argv = [*BASE, str(tmp_path)]
    assert from_args(argv, {TOKEN_ENV: " lagc_site_env \n"}).token == "lagc_site_env"
    (tmp_path / "token").write_text("lagc_site_file\n")
    assert from_args([*argv, "--token-file", str(tmp_path / "token")], {TOKEN_ENV: "ignored"}).token == "lagc_site_file"
    with pytest.raises(AgentSettingsError, match=TOKEN_ENV):
        from_args(argv, {})
    with pytest.raises(AgentSettingsError, match="token file cannot be read"):
        from_args([*argv, "--token-file", str(tmp_path / "missing")], {})
    with pytest.raises(AgentSettingsError, match="never goes on the command line") as refused:
        from_args([*argv, "--token", "lagc_site_visible_in_ps"], {TOKEN_ENV: "x"})
    assert "lagc_site_visible_in_ps" not in str(refused.value)


def test_the_settings_refuse_a_platform_that_is_no_url_and_waits_that_are_not_positive(tmp_path):
    env = {TOKEN_ENV: "t"}
    with pytest.raises(AgentSettingsError, match="http"):
        from_args(["--platform", "lagc.example.eu", "--site", "s", "--workdir", str(tmp_path)], env)
    for option in ("--poll", "--keep-hours", "--max-backoff"):
        with pytest.raises(AgentSettingsError, match="above 0"):
            from_args([*BASE, str(tmp_path), option, "0"], env)


def test_job_folders_live_under_the_work_folder_unless_the_site_names_its_own(tmp_path):
    env = {TOKEN_ENV: "t"}
    settings = from_args([*BASE, str(tmp_path / "agent")], env)
    assert settings.platform == "https://lagc.example.eu" and settings.jobs_root == tmp_path / "agent" / "jobs"
    elsewhere = from_args([*BASE, str(tmp_path / "agent"), "--site-dir", str(tmp_path / "scratch")], env)
    assert elsewhere.site_root == tmp_path / "scratch" and elsewhere.jobs_root == tmp_path / "scratch" / "jobs"


def test_a_job_is_overtime_only_past_the_requests_limit_counted_from_its_start():
    request = {"timeout_minutes": 30}
    assert not running.overtime(request, (NOW - timedelta(minutes=29)).isoformat(), NOW)
    assert running.overtime(request, (NOW - timedelta(minutes=31)).isoformat(), NOW)
    assert not running.overtime({}, (NOW - timedelta(days=3)).isoformat(), NOW)  # no limit asked
    assert not running.overtime(request, None, NOW) and not running.overtime(request, "Unknown", NOW)


def _request(*shots: int) -> dict:
    return {"tasks": [{"lm_eval_task": f"task{i}", "num_fewshot": n} for i, n in enumerate(shots)]}


def test_the_outputs_are_the_results_and_samples_files_of_each_few_shot_group_and_nothing_else(tmp_path):
    job = tmp_path / "job"
    for relative in (
        "output/shots-0/m/results_1.json",
        "output/shots-0/m/samples_task0_1.jsonl",
        "output/shots-5/m/results_2.json",
        "output/shots-5/m/notes.txt",
        "log.txt",
    ):
        (job / relative).parent.mkdir(parents=True, exist_ok=True)
        (job / relative).write_text("{}")
    found = running.outputs(_request(0, 5), job, job)
    assert [relative for relative, _ in found] == [
        "output/shots-0/m/results_1.json",
        "output/shots-0/m/samples_task0_1.jsonl",
        "output/shots-5/m/results_2.json",
    ]
    one = tmp_path / "one-group"
    (one / "output" / "m").mkdir(parents=True)
    (one / "output" / "m" / "results_0.json").write_text("{}")
    assert [relative for relative, _ in running.outputs(_request(0), one, one)] == ["output/m/results_0.json"]


def test_the_gpu_models_a_job_recorded_are_counted_and_a_job_without_gpus_names_none(tmp_path):
    transport = LocalTransport()
    assert running.gpu_model(transport, tmp_path) is None
    (tmp_path / "gpus.txt").write_text("NVIDIA A100-SXM-64GB\nNVIDIA A100-SXM-64GB\n\nAMD MI250X\n")
    assert running.gpu_model(transport, tmp_path) == "1 x AMD MI250X, 2 x NVIDIA A100-SXM-64GB"


def test_the_provenance_bills_every_device_of_every_node_and_names_the_lock_only_for_the_agents_own_python(tmp_path):
    profile = ClusterProfile("lumi-g", gpus_per_node=8, gpu_billing_devices=2, container="/images/lm-eval.sif")
    layout = Layout("vllm", nodes=2, tensor_parallel_size=8, pipeline_parallel_size=2)
    request = {**_request(0), "plan": layout.to_dict()}
    status = RunStatus(
        SUCCEEDED,
        exit_code=0,
        node="nid[001-002]",
        started_at="2026-12-04T11:00:00",
        ended_at="2026-12-04T11:30:00",
        elapsed_seconds=1800.0,
    )
    info = {"version": "1", "host": "uan01", "transport": "local", "python": "3.11", "lock_sha256": "ab" * 32}
    record = running.provenance(request, profile, status, "4242", tmp_path, [], LocalTransport(), info)
    assert record["job_id"] == "4242" and record["nodes"] == "nid[001-002]"
    assert record["container"] == "/images/lm-eval.sif" and record["gpu_model"] is None
    assert record["lock_sha256"] is None and record["agent"]["lock_sha256"] == "ab" * 32
    assert record["node_count"] == 2 and record["gpu_hours"] == pytest.approx(0.5 * 8 * 2 / 2)
    here = running.provenance(request, ClusterProfile("local-slurm"), status, "1", tmp_path, [], LocalTransport(), info)
    assert here["lock_sha256"] == "ab" * 32  # lm-eval ran in the agent's own Python: its lock names lm-eval's


def _stager(tmp_path: Path, blobs: dict[str, bytes]) -> Stager:
    """A stager whose store already holds these files (its client points nowhere: nothing may be fetched)."""
    stager = Stager(tmp_path / "agent", PlatformClient("http://127.0.0.1:9", "lagc_site_none", timeout=0.1))
    for data in blobs.values():
        path = stager.blob(hashlib.sha256(data).hexdigest())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return stager


def test_a_name_that_is_not_a_sha256_never_becomes_a_path_in_the_store(tmp_path):
    stager = _stager(tmp_path, {})
    for bad in ("../../etc/passwd", "AB" * 32, "ab" * 31, "ab" * 32 + "/x"):
        with pytest.raises(StagingError, match="not a sha256"):
            stager.blob(bad)


def test_a_file_list_that_does_not_add_up_to_the_leases_digest_is_refused_before_anything_is_fetched(tmp_path):
    files = [{"name": "config.json", "sha256": hashlib.sha256(b"{}").hexdigest()}]
    stager = _stager(tmp_path, {})
    with pytest.raises(StagingError, match="does not add up"):
        stager.stage_model(1, 1, {"sha256": "0" * 64, "files": files})
    suite = {"sha256": "0" * 64, "files": [{"path": "mc.yaml", "sha256": files[0]["sha256"]}]}
    with pytest.raises(StagingError, match="do not add up"):
        stager.stage_suite(1, 1, suite)
    assert not (tmp_path / "agent" / "models").exists() and not (tmp_path / "agent" / "suites").exists()


def test_a_suites_configs_name_the_sites_folder_and_its_data_files_are_the_stored_bytes_themselves(tmp_path):
    yaml = f"dataset_kwargs: {{data_files: {{test: {SUITE_PLACEHOLDER}/mc.jsonl}}}}\n".encode()
    data = f'{{"query": "{SUITE_PLACEHOLDER} stays as it is in data"}}\n'.encode()
    files = {"tasks/mc.yaml": yaml, "mc.jsonl": data}
    stager = _stager(tmp_path, files)
    entries = [{"path": p, "sha256": hashlib.sha256(d).hexdigest()} for p, d in files.items()]
    suite = {"sha256": model_digest((e["path"], e["sha256"]) for e in entries), "files": entries}
    folder = stager.stage_suite(3, 1, suite)
    assert folder == tmp_path / "agent" / "suites" / suite["sha256"]
    assert (folder / "tasks" / "mc.yaml").read_bytes() == yaml.replace(SUITE_PLACEHOLDER.encode(), str(folder).encode())
    assert (folder / "mc.jsonl").read_bytes() == data
    assert (folder / "mc.jsonl").stat().st_ino == stager.blob(entries[1]["sha256"]).stat().st_ino  # a hard link
    assert not (folder / "tasks" / "mc.yaml").stat().st_mode & 0o222  # read-only, like the store
    assert stager.stage_suite(4, 1, suite) == folder and (folder / USED).exists()  # reused, marked as used
    assert stager.fetched == 0
