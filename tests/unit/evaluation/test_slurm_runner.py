"""The Slurm runner's decisions, with Slurm's command-line tools replaced by a fake (a true edge)."""

import subprocess
from pathlib import Path

import pytest

from evaluation.clusters import default_profiles
from evaluation.command import Command
from evaluation.runners.base import CANCELLED, FAILED, LOST, PENDING, SUCCEEDED, RunHandle
from evaluation.runners.slurm import SlurmError, SlurmRunner


class FakeSlurm:
    """Answers sbatch/scontrol/sacct/scancel like Slurm would, from canned outputs; records every call."""

    def __init__(self, responses):
        self.responses = responses
        self.calls = []

    def __call__(self, args, **kwargs):
        self.calls.append(args)
        for prefix, (code, out, err) in self.responses.items():
            if " ".join(args).startswith(prefix):
                return subprocess.CompletedProcess(args, code, out, err)
        return subprocess.CompletedProcess(args, 1, "", "unknown command")


NOT_FOUND = (1, "", "slurm_load_jobs error: Invalid job id specified")
CONFIG_NO_ACCOUNTING = (0, "AccountingStorageType   = accounting_storage/none\nJobCompLoc = /var/jobcomp.txt\n"
                           "JobCompType             = jobcomp/filetxt\n", "")


def _runner(responses, jobcomp="", profile="local-slurm"):
    fake = FakeSlurm(responses)
    return SlurmRunner(default_profiles()[profile], run=fake, read_text=lambda path: jobcomp), fake


def _handle(tmp_path, job_id="7"):
    return RunHandle("slurm", job_id, str(tmp_path), "local-slurm")


def test_start_writes_the_script_and_submits_it_with_sbatch_parsable(tmp_path):
    runner, fake = _runner({"sbatch": (0, "77\n", "")})
    handle = runner.start(Command(argv=("lm_eval", "--tasks", "t")), tmp_path / "job")
    assert handle.job_id == "77" and (tmp_path / "job" / "run.sh").exists()
    assert fake.calls == [["sbatch", "--parsable", str(tmp_path / "job" / "run.sh")]]


def test_a_pending_job_reports_why_it_waits(tmp_path):
    runner, _ = _runner({"scontrol show job": (0, "JobId=7 JobState=PENDING Reason=Priority NodeList=", "")})
    status = runner.poll(_handle(tmp_path))
    assert status.state == PENDING and "Priority" in status.reason and not status.finished


def test_a_forgotten_job_is_read_from_the_jobcomp_file_found_through_scontrol_show_config(tmp_path):
    jobcomp = ("JobId=7 JobState=COMPLETED StartTime=2026-01-01T10:00:00 EndTime=2026-01-01T10:00:30 "
               "NodeList=vm ExitCode=0:0\n")
    runner, fake = _runner({"scontrol show job": NOT_FOUND, "scontrol show config": CONFIG_NO_ACCOUNTING},
                           jobcomp=jobcomp)
    status = runner.poll(_handle(tmp_path))
    assert (status.state, status.node, status.elapsed_seconds) == (SUCCEEDED, "vm", 30.0)
    assert runner.accounting() == ("jobcomp", "/var/jobcomp.txt")
    assert not any(call[0] == "sacct" for call in fake.calls)


def test_a_site_with_accounting_is_asked_through_sacct(tmp_path):
    sacct = "7|TIMEOUT|0:15|2026-01-01T10:00:00|2026-01-01T11:00:00|01:00:00|nid001|TimeLimit\n"
    runner, fake = _runner({"scontrol show job": NOT_FOUND, "sacct": (0, sacct, "")}, profile="lumi-g")
    status = runner.poll(_handle(tmp_path))
    assert status.state == FAILED and "time limit" in status.reason and status.scheduler_state == "TIMEOUT"
    assert status.elapsed_seconds == 3600.0 and status.node == "nid001"


def test_a_failed_job_is_explained_from_its_log(tmp_path):
    (tmp_path / "lm_eval.log").write_text("Traceback\ntorch.OutOfMemoryError: CUDA out of memory.\n")
    (tmp_path / "exitcode").write_text("1\n")
    runner, _ = _runner({"scontrol show job": (0, "JobId=7 JobState=FAILED ExitCode=1:0 NodeList=vm", "")})
    status = runner.poll(_handle(tmp_path))
    assert status.state == FAILED and status.reason == "the model ran out of GPU memory"
    assert status.exit_code == 1 and "CUDA out of memory" in status.log_tail[-1]


def test_a_job_the_platform_cancelled_is_cancelled_not_failed(tmp_path):
    runner, fake = _runner({"scancel": (0, "", ""),
                            "scontrol show job": (0, "JobId=7 JobState=CANCELLED ExitCode=0:15", "")})
    runner.cancel(_handle(tmp_path))
    assert ["scancel", "7"] in fake.calls
    assert runner.poll(_handle(tmp_path)).state == CANCELLED


def test_a_job_slurm_no_longer_knows_that_left_no_exit_code_is_lost(tmp_path):
    runner, _ = _runner({"scontrol show job": NOT_FOUND, "scontrol show config": CONFIG_NO_ACCOUNTING})
    status = runner.poll(_handle(tmp_path))
    assert status.state == LOST and status.retryable


def test_a_job_slurm_no_longer_knows_is_judged_by_its_exit_code_file(tmp_path):
    Path(tmp_path / "exitcode").write_text("0\n")
    runner, _ = _runner({"scontrol show job": NOT_FOUND, "scontrol show config": CONFIG_NO_ACCOUNTING})
    assert runner.poll(_handle(tmp_path)).state == SUCCEEDED


def test_an_unreachable_controller_is_an_error_to_retry_not_a_lost_job(tmp_path):
    down = (1, "", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)")
    runner, _ = _runner({"scontrol show job": down})
    with pytest.raises(SlurmError, match="Unable to contact"):
        runner.poll(_handle(tmp_path))
