"""The Slurm runner against the real local Slurm cluster: scores, cancel, time limit, finished-job records.

A sleeping job that exceeds a one-minute limit is submitted when the session starts (see ``overtime_job``
in conftest.py) and checked last, so the minute Slurm needs to enforce the limit overlaps the other tests.
"""

import time

import pytest

from evaluation.command import Command
from evaluation.runners.base import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED, collect, wait
from evaluation.runners.slurm import SlurmRunner
from evaluation.runners.slurm_states import find_in_jobcomp

from ._support import eval_command, local_slurm_profile

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def runner():
    return SlurmRunner(local_slurm_profile())


@pytest.fixture(scope="module")
def slurm_run(runner, tiny_model, suite, job_root):
    suite_dir, tasks = suite
    job_dir = job_root / "slurm"
    handle = runner.start(eval_command(tiny_model, suite_dir, tasks, job_dir), job_dir, name="lagc-test-eval")
    status = wait(runner, handle, timeout=240, interval=0.5)
    return handle, status


@pytest.mark.lmeval
def test_a_slurm_evaluation_records_exactly_the_scores_of_lm_eval_run_by_hand(slurm_run, by_hand, suite):
    handle, status = slurm_run
    _, tasks = suite
    assert status.state == SUCCEEDED, (status.reason, status.log_tail)
    results = collect(handle, tasks)
    for task in tasks:
        assert results.task(task).metrics() == by_hand.task(task).metrics()


@pytest.mark.lmeval
def test_a_finished_slurm_job_records_its_node_and_times(slurm_run):
    _, status = slurm_run
    assert status.node and status.started_at and status.ended_at
    assert status.elapsed_seconds is not None and status.elapsed_seconds >= 1
    assert status.scheduler_state == "COMPLETED" and status.exit_code == 0


@pytest.mark.lmeval
def test_the_local_cluster_keeps_finished_jobs_in_its_jobcomp_file(runner, slurm_run):
    handle, _ = slurm_run
    kind, location = runner.accounting()
    assert kind == "jobcomp" and location
    deadline = time.monotonic() + 10
    record = None
    while record is None and time.monotonic() < deadline:
        with open(location) as fh:
            record = find_in_jobcomp(fh.read(), handle.job_id)
        time.sleep(0.2)
    assert record.state == "COMPLETED" and record.exit_code == 0


def test_a_cancelled_slurm_job_is_reported_as_cancelled(runner, job_root):
    handle = runner.start(Command(argv=("sleep", "300")), job_root / "cancel", name="lagc-test-cancel")
    deadline = time.monotonic() + 30
    while runner.poll(handle).state == PENDING and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runner.poll(handle).state == RUNNING
    runner.cancel(handle)
    status = wait(runner, handle, timeout=30, interval=0.2)
    assert status.state == CANCELLED and status.reason == "the evaluation was cancelled"


def test_a_failing_slurm_job_reports_the_exit_code_and_log(runner, job_root):
    command = Command(argv=("sh", "-c", "echo 'RuntimeError: boom' >&2; exit 4"))
    handle = runner.start(command, job_root / "fail", name="lagc-test-fail")
    status = wait(runner, handle, timeout=30, interval=0.2)
    assert (status.state, status.exit_code, status.scheduler_state) == (FAILED, 4, "FAILED")
    assert "exit code 4" in status.reason and status.log_tail == ("RuntimeError: boom",)


def test_a_job_over_its_time_limit_is_stopped_and_reported_as_such(runner, overtime_job):
    # Slurm enforces limits about every 30 s, so a 1-minute limit ends the job 60-100 s after it started.
    status = wait(runner, overtime_job, timeout=150, interval=1)
    assert status.state == FAILED and status.scheduler_state == "TIMEOUT"
    assert "time limit" in status.reason and not status.retryable
