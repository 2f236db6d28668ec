"""Reading the batch outputs of squeue, sacct and the jobcomp file, and keeping command lines bounded."""

import pytest

from evaluation.runners.slurm_states import (
    SQUEUE_FORMAT,
    chunks,
    find_in_jobcomp,
    find_many_in_jobcomp,
    job_from_key_values,
    meaning,
    parse_key_values,
    parse_sacct,
    parse_sacct_many,
    parse_squeue,
    squeue_exit,
)

# Real output of `squeue -h --states=all -j 110,111,112,113,114 -O SQUEUE_FORMAT` (Slurm 22.05, local cluster):
# running, failed with exit code 4, held, cancelled, and killed by SIGKILL.
SQUEUE = (
    "113|CANCELLED|15|vm|2026-11-29T23:24:04|2026-11-29T23:24:06|0:02|None|\n"
    "111|FAILED|1024|vm|2026-11-29T23:24:04|2026-11-29T23:24:04|0:00|NonZeroExitCode|\n"
    "114|FAILED|9|vm|2026-11-29T23:24:06|2026-11-29T23:24:06|0:00|JobLaunchFailure|\n"
    "112|PENDING|0||N/A|N/A|0:00|JobHeldUser|\n"
    "110|RUNNING|0|vm|2026-11-29T23:24:04|2027-11-29T23:24:04|0:03|None|\n"
)
# What `scontrol show job -o` said about the same jobs at the same moment (the fields the runner reads).
SCONTROL = {
    "110": "JobId=110 JobState=RUNNING Reason=None ExitCode=0:0 RunTime=00:00:03 StartTime=2026-11-29T23:24:04 "
    "EndTime=2027-11-29T23:24:04 NodeList=vm",
    "111": "JobId=111 JobState=FAILED Reason=NonZeroExitCode ExitCode=4:0 RunTime=00:00:00 "
    "StartTime=2026-11-29T23:24:04 EndTime=2026-11-29T23:24:04 NodeList=vm",
    "112": "JobId=112 JobState=PENDING Reason=JobHeldUser ExitCode=0:0 RunTime=00:00:00 StartTime=Unknown "
    "EndTime=Unknown NodeList=",
    "113": "JobId=113 JobState=CANCELLED Reason=None ExitCode=0:15 RunTime=00:00:02 StartTime=2026-11-29T23:24:04 "
    "EndTime=2026-11-29T23:24:06 NodeList=vm",
    "114": "JobId=114 JobState=FAILED Reason=JobLaunchFailure ExitCode=0:9 RunTime=00:00:00 "
    "StartTime=2026-11-29T23:24:06 EndTime=2026-11-29T23:24:06 NodeList=vm",
}


def _without_source(job):
    return {**job.__dict__, "source": None}


def test_the_squeue_format_asks_for_every_field_the_runner_reads_each_followed_by_a_bar():
    assert SQUEUE_FORMAT == ("JobID:|,State:|,exit_code:|,NodeList:|,StartTime:|,EndTime:|,TimeUsed:|,Reason:|")


def test_one_squeue_answer_gives_each_job_exactly_what_scontrol_gives_for_it_alone():
    jobs = parse_squeue(SQUEUE)
    assert set(jobs) == set(SCONTROL)
    for job_id, line in SCONTROL.items():
        alone = job_from_key_values(parse_key_values(line), "scontrol")
        assert _without_source(jobs[job_id]) == _without_source(alone), job_id
        assert meaning(jobs[job_id]) == meaning(alone)
    assert jobs["112"].reason == "JobHeldUser" and jobs["112"].start is None and jobs["112"].node is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0", (0, 0)),
        ("1024", (4, 0)),
        ("256", (1, 0)),
        ("15", (0, 15)),
        ("9", (0, 9)),
        ("34304", (134, 0)),
        ("4:0", (4, 0)),
        ("0:15", (0, 15)),  # newer Slurm prints code:signal, as scontrol does
        ("4294967294", (None, None)),
        ("", (None, None)),
        ("N/A", (None, None)),
    ],
)
def test_squeue_exit_codes_are_read_as_scontrol_shows_them(raw, expected):
    assert squeue_exit(raw) == expected


def test_squeue_lines_that_are_not_jobs_are_skipped_and_a_reason_may_contain_a_bar():
    out = "squeue: warning: something\n\n7|PENDING|0||N/A|N/A|0:00|held by admin | see ticket 12|\n"
    assert list(parse_squeue(out)) == ["7"]
    assert parse_squeue(out)["7"].reason == "held by admin | see ticket 12"


def test_one_sacct_answer_gives_every_wanted_job_and_ignores_the_others():
    out = (
        "123|CANCELLED by 1000|0:15|2026-01-01T10:00:00|2026-01-01T10:05:00|00:05:00|nid005001|None\n"
        "124|COMPLETED|0:0|2026-01-01T10:00:00|2026-01-01T11:00:00|01:00:00|nid005002|None\n"
        "999|FAILED|1:0|2026-01-01T10:00:00|2026-01-01T10:00:01|00:00:01|nid005003|None\n"
    )
    found = parse_sacct_many(out, ["123", "124", "125"])
    assert set(found) == {"123", "124"}
    assert found["123"] == parse_sacct(out, "123") and found["124"].state == "COMPLETED"


JOBCOMP = (
    "JobId=16 Name=wrap JobState=COMPLETED StartTime=2026-11-29T20:32:08 EndTime=2026-11-29T20:32:08 NodeList=vm "
    "ExitCode=0:0\n"
    "JobId=19 Name=wrap JobState=NODE_FAIL StartTime=2026-11-29T20:32:18 EndTime=2026-11-29T20:32:19 NodeList=vm "
    "ExitCode=0:0\n"
    "JobId=161 Name=wrap JobState=FAILED StartTime=2026-11-29T20:33:00 EndTime=2026-11-29T20:33:02 NodeList=vm "
    "ExitCode=3:0\n"
    "JobId=19 Name=wrap JobState=COMPLETED StartTime=2026-11-29T20:40:00 EndTime=2026-11-29T20:40:09 NodeList=vm "
    "ExitCode=0:0\n"
)


def test_one_read_of_the_jobcomp_file_gives_each_wanted_jobs_last_record():
    found = find_many_in_jobcomp(JOBCOMP, ["16", "19", "20"])
    assert set(found) == {"16", "19"}  # 161 starts with 16 but is another job; 20 has no record
    assert found["19"].state == "COMPLETED" and found["19"].elapsed_seconds == 9.0  # the requeued job's last run
    for job_id in ("16", "19"):
        assert found[job_id] == find_in_jobcomp(JOBCOMP, job_id)


def test_job_ids_are_sent_in_chunks_each_job_once_in_order():
    ids = [str(i) for i in range(1, 1202)] + ["5"]
    groups = chunks(ids, 500)
    assert [len(g) for g in groups] == [500, 500, 201]
    assert [i for g in groups for i in g] == ids[:-1]
    assert chunks([], 500) == [] and chunks(["1"], 500) == [["1"]]
    with pytest.raises(ValueError):
        chunks(ids, 0)
