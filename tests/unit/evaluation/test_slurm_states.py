"""Reading Slurm's outputs and translating job states into runner statuses."""

import pytest

from evaluation.runners.base import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED
from evaluation.runners.slurm_states import (
    SlurmJob,
    find_in_jobcomp,
    job_from_key_values,
    meaning,
    parse_duration,
    parse_key_values,
    parse_sacct,
    parse_sbatch_job_id,
)

# Real lines from Slurm 22.05 on the local test cluster.
JOBCOMP = (
    "JobId=16 UserId=root(0) GroupId=root(0) Name=wrap JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED "
    "StartTime=2026-11-29T20:32:08 EndTime=2026-11-29T20:32:08 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp "
    "ReservationName= Tres=cpu=1,mem=11540M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown "
    "SubmitTime=2026-11-29T20:32:07 EligibleTime=2026-11-29T20:32:07 DerivedExitCode=0:0 ExitCode=0:0\n"
    "JobId=19 UserId=root(0) GroupId=root(0) Name=wrap JobState=FAILED Partition=debug TimeLimit=UNLIMITED "
    "StartTime=2026-11-29T20:32:18 EndTime=2026-11-29T20:32:19 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp "
    "ReservationName= Tres=cpu=1,mem=11540M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown "
    "SubmitTime=2026-11-29T20:32:18 EligibleTime=2026-11-29T20:32:18 DerivedExitCode=0:0 ExitCode=3:0\n"
)
SCONTROL = (
    "JobId=17 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901743 Nice=0 "
    "Account=(null) QOS=(null) JobState=PENDING Reason=Resources Dependency=(null) Requeue=1 Restarts=0 "
    "BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A "
    "SubmitTime=2026-11-29T20:32:08 StartTime=Unknown EndTime=Unknown Partition=debug NodeList= "
    "TRES=cpu=1,mem=11540M,node=1,billing=1 Command=/tmp/my job/run.sh WorkDir=/tmp StdOut=/tmp/slurm-17.out"
)


def test_scontrol_one_line_output_is_parsed_including_values_with_spaces_and_equals_signs():
    fields = parse_key_values(SCONTROL)
    assert fields["JobState"] == "PENDING" and fields["TRES"] == "cpu=1,mem=11540M,node=1,billing=1"
    assert fields["Command"] == "/tmp/my job/run.sh" and fields["NodeList"] == ""
    job = job_from_key_values(fields, "scontrol")
    assert (job.job_id, job.state, job.reason, job.node, job.start) == ("17", "PENDING", "Resources", None, None)


def test_the_jobcomp_file_gives_state_exit_code_node_and_elapsed_time_of_a_finished_job():
    job = find_in_jobcomp(JOBCOMP, "19")
    assert (job.state, job.exit_code, job.node, job.elapsed_seconds) == ("FAILED", 3, "vm", 1.0)
    assert job.start == "2026-11-29T20:32:18" and job.source == "jobcomp"
    assert find_in_jobcomp(JOBCOMP, "1") is None


def test_sacct_parsable_output_is_read_and_cancelled_by_user_is_just_cancelled():
    out = "123|CANCELLED by 1000|0:15|2026-01-01T10:00:00|2026-01-01T10:05:00|00:05:00|nid005001|None\n"
    job = parse_sacct(out, "123")
    assert (job.state, job.exit_code, job.signal, job.node, job.elapsed_seconds) == (
        "CANCELLED",
        0,
        15,
        "nid005001",
        300.0,
    )
    assert parse_sacct(out, "124") is None


@pytest.mark.parametrize(
    "text, seconds", [("00:00:05", 5), ("1-02:03:04", 93784), ("05:01.5", 301.5), ("", None), ("INVALID", None)]
)
def test_slurm_durations_become_seconds(text, seconds):
    assert parse_duration(text) == seconds


def test_sbatch_parsable_output_gives_the_job_id_with_or_without_a_cluster_name():
    assert parse_sbatch_job_id("4242\n") == "4242"
    assert parse_sbatch_job_id("4242;lumi\n") == "4242"
    with pytest.raises(ValueError):
        parse_sbatch_job_id("sbatch: error: Batch job submission failed")


@pytest.mark.parametrize(
    "state, status, retryable, words",
    [
        ("PENDING", PENDING, False, "queue"),
        ("CONFIGURING", PENDING, False, "queue"),
        ("RUNNING", RUNNING, False, ""),
        ("COMPLETING", RUNNING, False, ""),
        ("COMPLETED", SUCCEEDED, False, ""),
        ("FAILED", FAILED, False, ""),
        ("TIMEOUT", FAILED, False, "time limit"),
        ("CANCELLED", CANCELLED, True, "not by the platform"),
        ("NODE_FAIL", FAILED, True, "compute node failed"),
        ("OUT_OF_MEMORY", FAILED, False, "out of memory"),
        ("PREEMPTED", FAILED, True, "higher-priority"),
        ("BOOT_FAIL", FAILED, True, "failed to start"),
        ("DEADLINE", FAILED, True, "deadline"),
        ("SOMETHING_NEW", FAILED, True, "unexpected job state SOMETHING_NEW"),
    ],
)
def test_each_slurm_state_maps_to_a_status_and_a_reason_a_founder_understands(state, status, retryable, words):
    m = meaning(SlurmJob(job_id="1", state=state, reason="Resources"))
    assert (m.status, m.retryable) == (status, retryable)
    assert words in m.reason
