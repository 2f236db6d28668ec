"""The local runner with real processes (no lm-eval needed): restarts, cancel, lost runs, result errors."""

import os
import signal
import time
from pathlib import Path

import pytest

from evaluation.command import Command
from evaluation.results import ResultsError
from evaluation.runners.base import CANCELLED, FAILED, LOST, RUNNING, SUCCEEDED, RunHandle, collect, wait
from evaluation.runners.local import LocalRunner, process_start_token


def _sh(script: str) -> Command:
    return Command(argv=("/bin/sh", "-c", script), env={"HF_HUB_OFFLINE": "1"})


def _wait(runner, handle, timeout=20):
    return wait(runner, handle, timeout=timeout, interval=0.05)


def test_a_restarted_process_can_follow_a_run_it_did_not_start(tmp_path):
    handle = LocalRunner().start(_sh("sleep 1; echo hello; echo $HF_HUB_OFFLINE"), tmp_path)
    stored = handle.to_dict()  # what the database keeps
    fresh = LocalRunner()  # a new scheduler process knows only the stored handle
    assert fresh.poll(RunHandle.from_dict(stored)).state == RUNNING
    status = _wait(fresh, RunHandle.from_dict(stored))
    assert status.state == SUCCEEDED and status.exit_code == 0 and status.elapsed_seconds is not None
    assert status.log_tail == ("hello", "1")


def test_a_failing_command_reports_its_exit_code_and_last_log_lines(tmp_path):
    runner = LocalRunner()
    status = _wait(runner, runner.start(_sh("echo 'ValueError: bad task' >&2; exit 3"), tmp_path))
    assert (status.state, status.exit_code) == (FAILED, 3)
    assert "exit code 3" in status.reason and status.log_tail == ("ValueError: bad task",)


def test_cancel_stops_the_whole_process_group(tmp_path):
    runner = LocalRunner(grace_seconds=2)
    handle = runner.start(_sh("sleep 300 & echo $! > child.pid; wait"), tmp_path)
    deadline = time.monotonic() + 5
    while not (tmp_path / "child.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int((tmp_path / "child.pid").read_text())
    runner.cancel(handle)
    status = _wait(runner, handle)
    assert status.state == CANCELLED and status.reason == "the evaluation was cancelled"
    assert process_start_token(child) is None, "the grandchild must not survive a cancel"


def test_a_run_whose_process_vanished_without_an_exit_code_is_lost(tmp_path):
    runner = LocalRunner()
    handle = runner.start(_sh("sleep 300"), tmp_path)
    os.killpg(int(handle.job_id), signal.SIGKILL)  # as if the machine had rebooted under it
    status = _wait(runner, handle)
    assert status.state == LOST and "disappeared" in status.reason


def test_a_reused_pid_is_not_mistaken_for_the_run(tmp_path):
    (tmp_path / "started").write_text("0\n")
    handle = RunHandle("local", str(os.getpid()), str(tmp_path), token="1")  # our pid, another start time
    assert LocalRunner().poll(handle).state == LOST


def test_a_successful_run_without_a_results_file_is_a_results_error(tmp_path):
    runner = LocalRunner()
    handle = runner.start(_sh("true"), tmp_path)
    assert _wait(runner, handle).state == SUCCEEDED
    with pytest.raises(ResultsError, match="no results file"):
        collect(handle, ["lagc_capitals_mc"])


def test_a_corrupt_results_file_is_a_results_error(tmp_path):
    runner = LocalRunner()
    handle = runner.start(_sh("mkdir -p output/m && printf '{\"results\": ' > output/m/results_1.json"), tmp_path)
    assert _wait(runner, handle).state == SUCCEEDED
    with pytest.raises(ResultsError, match="not valid JSON"):
        collect(handle)
    assert Path(tmp_path / "output/m/results_1.json").read_text() == '{"results": '


def test_cancelling_a_run_that_already_succeeded_keeps_it_succeeded(tmp_path):
    runner = LocalRunner()
    handle = runner.start(_sh("true"), tmp_path)
    assert _wait(runner, handle).state == SUCCEEDED
    runner.cancel(handle)
    assert runner.poll(handle).state == SUCCEEDED
