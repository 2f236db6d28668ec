"""The Slurm runner's decisions, with Slurm's command-line tools replaced by a fake (a true edge): single
polls, and batches of jobs followed with one squeue (and one sacct or jobcomp read for forgotten jobs)."""

import subprocess
from pathlib import Path

import pytest

from evaluation.clusters import default_profiles
from evaluation.command import Command
from evaluation.runners.base import CANCELLED, FAILED, LOST, PENDING, RUNNING, SUCCEEDED, RunHandle
from evaluation.runners.slurm import SlurmError, SlurmRunner
from evaluation.runners.slurm_states import SACCT_FORMAT, SQUEUE_FORMAT


class FakeSlurm:
    """Answers sbatch/squeue/scontrol/sacct/scancel like Slurm would, from canned outputs (or a function of the
    arguments); records every call."""

    def __init__(self, responses):
        self.responses = responses
        self.calls = []

    def __call__(self, args, **kwargs):
        self.calls.append(args)
        for prefix, answer in self.responses.items():
            if callable(answer) and " ".join(args).startswith(prefix):
                return answer(args)
        for prefix, (code, out, err) in ((p, a) for p, a in self.responses.items() if not callable(a)):
            if " ".join(args).startswith(prefix):
                return subprocess.CompletedProcess(args, code, out, err)
        return subprocess.CompletedProcess(args, 1, "", "unknown command")


NOT_FOUND = (1, "", "slurm_load_jobs error: Invalid job id specified")  # squeue -j with one unknown id
CONFIG_NO_ACCOUNTING = (
    0,
    "AccountingStorageType   = accounting_storage/none\nJobCompLoc = /var/jobcomp.txt\n"
    "JobCompType             = jobcomp/filetxt\n",
    "",
)


def _runner(responses, jobcomp="", profile="local-slurm", **kwargs):
    fake = FakeSlurm(responses)
    return SlurmRunner(default_profiles()[profile], run=fake, read_text=lambda path: jobcomp, **kwargs), fake


def _squeue_line(job_id, state, exit_code="0", node="vm", reason="None"):
    return f"{job_id}|{state}|{exit_code}|{node}|2026-01-01T10:00:00|2026-01-01T10:00:30|0:30|{reason}|\n"


def _handle(tmp_path, job_id="7"):
    return RunHandle("slurm", job_id, str(tmp_path), "local-slurm")


def test_start_writes_the_script_and_submits_it_with_sbatch_parsable(tmp_path):
    runner, fake = _runner({"sbatch": (0, "77\n", "")})
    handle = runner.start(Command(argv=("lm_eval", "--tasks", "t")), tmp_path / "job")
    assert handle.job_id == "77" and (tmp_path / "job" / "run.sh").exists()
    assert fake.calls == [["sbatch", "--parsable", str(tmp_path / "job" / "run.sh")]]


def test_a_pending_job_reports_why_it_waits(tmp_path):
    runner, fake = _runner({"squeue": (0, "7|PENDING|0||N/A|N/A|0:00|Priority|\n", "")})
    status = runner.poll(_handle(tmp_path))
    assert status.state == PENDING and "Priority" in status.reason and not status.finished
    assert fake.calls == [["squeue", "-h", "--states=all", "-j", "7", "-O", SQUEUE_FORMAT]]


def test_a_forgotten_job_is_read_from_the_jobcomp_file_found_through_scontrol_show_config(tmp_path):
    jobcomp = (
        "JobId=7 JobState=COMPLETED StartTime=2026-01-01T10:00:00 EndTime=2026-01-01T10:00:30 "
        "NodeList=vm ExitCode=0:0\n"
    )
    runner, fake = _runner({"squeue": NOT_FOUND, "scontrol show config": CONFIG_NO_ACCOUNTING}, jobcomp=jobcomp)
    status = runner.poll(_handle(tmp_path))
    assert (status.state, status.node, status.elapsed_seconds) == (SUCCEEDED, "vm", 30.0)
    assert runner.accounting() == ("jobcomp", "/var/jobcomp.txt")
    assert not any(call[0] == "sacct" for call in fake.calls)


def test_a_site_with_accounting_is_asked_through_sacct(tmp_path):
    sacct = "7|TIMEOUT|0:15|2026-01-01T10:00:00|2026-01-01T11:00:00|01:00:00|nid001|TimeLimit\n"
    runner, fake = _runner({"squeue": NOT_FOUND, "sacct": (0, sacct, "")}, profile="lumi-g")
    status = runner.poll(_handle(tmp_path))
    assert status.state == FAILED and "time limit" in status.reason and status.scheduler_state == "TIMEOUT"
    assert status.elapsed_seconds == 3600.0 and status.node == "nid001"


def test_a_failed_job_is_explained_from_its_log(tmp_path):
    (tmp_path / "lm_eval.log").write_text("Traceback\ntorch.OutOfMemoryError: CUDA out of memory.\n")
    (tmp_path / "exitcode").write_text("1\n")
    runner, _ = _runner({"squeue": (0, _squeue_line("7", "FAILED", "256", reason="NonZeroExitCode"), "")})
    status = runner.poll(_handle(tmp_path))
    assert status.state == FAILED and status.reason == "the model ran out of GPU memory"
    assert status.exit_code == 1 and "CUDA out of memory" in status.log_tail[-1]


def test_a_job_the_platform_cancelled_is_cancelled_not_failed(tmp_path):
    runner, fake = _runner({"scancel": (0, "", ""), "squeue": (0, _squeue_line("7", "CANCELLED", "15"), "")})
    runner.cancel(_handle(tmp_path))
    assert ["scancel", "7"] in fake.calls
    assert runner.poll(_handle(tmp_path)).state == CANCELLED


def test_a_job_slurm_no_longer_knows_that_left_no_exit_code_is_lost(tmp_path):
    runner, _ = _runner({"squeue": NOT_FOUND, "scontrol show config": CONFIG_NO_ACCOUNTING})
    status = runner.poll(_handle(tmp_path))
    assert status.state == LOST and status.retryable


def test_a_job_slurm_no_longer_knows_is_judged_by_its_exit_code_file(tmp_path):
    Path(tmp_path / "exitcode").write_text("0\n")
    runner, _ = _runner({"squeue": NOT_FOUND, "scontrol show config": CONFIG_NO_ACCOUNTING})
    assert runner.poll(_handle(tmp_path)).state == SUCCEEDED


def test_an_unreachable_controller_is_an_error_to_retry_not_a_lost_job(tmp_path):
    down = (1, "", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)")
    runner, _ = _runner({"squeue": down})
    with pytest.raises(SlurmError, match="Unable to contact"):
        runner.poll(_handle(tmp_path))


def _handles(tmp_path, *job_ids):
    handles = []
    for job_id in job_ids:
        (tmp_path / job_id).mkdir()
        handles.append(RunHandle("slurm", job_id, str(tmp_path / job_id), "local-slurm"))
    return handles


def test_many_jobs_are_followed_with_one_squeue_and_the_forgotten_ones_with_one_sacct(tmp_path):
    squeue = _squeue_line("1", "RUNNING") + _squeue_line("2", "PENDING", reason="Priority")
    sacct = "3|COMPLETED|0:0|2026-01-01T10:00:00|2026-01-01T10:01:00|00:01:00|nid001|None\n"
    runner, fake = _runner({"squeue": (0, squeue, ""), "sacct": (0, sacct, "")}, profile="lumi-g")
    handles = _handles(tmp_path, "1", "2", "3", "4")
    statuses = runner.poll_many(handles)
    assert [statuses[h].state for h in handles] == [RUNNING, PENDING, SUCCEEDED, LOST]
    assert statuses[handles[2]].elapsed_seconds == 60.0 and statuses[handles[3]].retryable
    assert fake.calls == [
        ["squeue", "-h", "--states=all", "-j", "1,2,3,4", "-O", SQUEUE_FORMAT],
        ["sacct", "-j", "3,4", "-X", "-n", "-P", "-o", SACCT_FORMAT],
    ]


def test_jobs_all_still_known_to_the_controller_need_no_accounting_call(tmp_path):
    runner, fake = _runner({"squeue": (0, _squeue_line("1", "RUNNING") + _squeue_line("2", "COMPLETED"), "")})
    statuses = runner.poll_many(_handles(tmp_path, "1", "2"))
    assert sorted(s.state for s in statuses.values()) == [RUNNING, SUCCEEDED]
    assert [call[0] for call in fake.calls] == ["squeue"]


def test_thousands_of_jobs_are_asked_about_in_bounded_chunks(tmp_path):
    def squeue(args):  # every asked job is running
        ids = args[args.index("-j") + 1].split(",")
        return subprocess.CompletedProcess(args, 0, "".join(_squeue_line(i, "RUNNING") for i in ids), "")

    runner, fake = _runner({"squeue": squeue}, chunk_size=2)
    handles = [RunHandle("slurm", str(i), str(tmp_path), "local-slurm") for i in range(1, 6)]
    statuses = runner.poll_many(handles)
    assert all(statuses[h].state == RUNNING for h in handles)
    assert [call[call.index("-j") + 1] for call in fake.calls] == ["1,2", "3,4", "5"]


def test_the_jobcomp_file_is_read_once_for_all_forgotten_jobs(tmp_path):
    reads = []
    jobcomp = (
        "JobId=2 JobState=COMPLETED StartTime=2026-01-01T10:00:00 EndTime=2026-01-01T10:00:30 NodeList=vm "
        "ExitCode=0:0\nJobId=3 JobState=NODE_FAIL StartTime=2026-01-01T10:00:00 "
        "EndTime=2026-01-01T10:00:05 NodeList=vm ExitCode=0:0\n"
    )
    fake = FakeSlurm({"squeue": (0, _squeue_line("1", "RUNNING"), ""), "scontrol show config": CONFIG_NO_ACCOUNTING})
    runner = SlurmRunner(
        default_profiles()["local-slurm"], run=fake, read_text=lambda path: reads.append(path) or jobcomp
    )
    handles = _handles(tmp_path, "1", "2", "3")
    statuses = runner.poll_many(handles)
    assert [statuses[h].state for h in handles] == [RUNNING, SUCCEEDED, FAILED]
    assert statuses[handles[2]].retryable and "compute node failed" in statuses[handles[2]].reason
    assert reads == ["/var/jobcomp.txt"]
    assert [call[0] for call in fake.calls] == ["squeue", "scontrol"]  # the config once, then cached
    runner.poll_many(handles)
    assert reads == ["/var/jobcomp.txt"] * 2 and [call[0] for call in fake.calls].count("scontrol") == 1


def test_a_controller_that_cannot_be_asked_leaves_every_job_unknown_and_asks_nothing_else(tmp_path):
    down = (1, "", "squeue: error: Unable to contact slurm controller (connect failure)")
    runner, fake = _runner({"squeue": down, "sacct": (0, "", "")}, profile="lumi-g")
    (tmp_path / "exitcode").write_text("0\n")  # even a job that wrote its exit code waits for Slurm's word
    handles = [RunHandle("slurm", str(i), str(tmp_path), "lumi-g") for i in (1, 2, 3)]
    statuses = runner.poll_many(handles)
    assert all(isinstance(statuses[h], SlurmError) and "Unable to contact" in str(statuses[h]) for h in handles)
    assert [call[0] for call in fake.calls] == ["squeue"]


def test_a_squeue_that_hangs_is_an_error_to_retry_not_a_crash(tmp_path):
    def hang(args):
        raise subprocess.TimeoutExpired(args, 60)

    runner, _ = _runner({"squeue": hang})
    with pytest.raises(SlurmError, match="could not be run"):
        runner.poll(_handle(tmp_path))


def test_failing_accounting_leaves_only_the_forgotten_jobs_unknown(tmp_path):
    runner, _ = _runner(
        {
            "squeue": (0, _squeue_line("1", "RUNNING"), ""),
            "sacct": (1, "", "sacct: error: slurmdbd: Connection refused"),
        },
        profile="lumi-g",
    )
    handles = _handles(tmp_path, "1", "2")
    statuses = runner.poll_many(handles)
    assert statuses[handles[0]].state == RUNNING
    assert isinstance(statuses[handles[1]], SlurmError) and "Connection refused" in str(statuses[handles[1]])
    with pytest.raises(SlurmError, match="Connection refused"):
        runner.poll(handles[1])


def test_a_single_job_the_controller_forgot_is_not_an_error_but_a_look_in_accounting(tmp_path):
    sacct = "7|OUT_OF_MEMORY|0:125|2026-01-01T10:00:00|2026-01-01T10:00:09|00:00:09|nid001|None\n"
    runner, fake = _runner({"squeue": NOT_FOUND, "sacct": (0, sacct, "")}, profile="lumi-g")
    status = runner.poll(_handle(tmp_path))
    assert status.state == FAILED and "out of memory" in status.reason
    assert [call[0] for call in fake.calls] == ["squeue", "sacct"]
