"""The site API's shared data: what a site sees of a request, the suite's placeholder, the task hash check,
the agent's backoff and its state file."""

from __future__ import annotations

import json

import pytest

from evaluation.agent.client import Backoff
from evaluation.agent.protocol import (
    SUITE_PLACEHOLDER,
    hash_mismatches,
    local_request,
    site_request,
    substitute,
    templatise,
)
from evaluation.agent.state import BOUND, AgentBusy, AgentState


def test_a_site_sees_no_platform_path_and_puts_its_own_back():
    request = {
        "checkpoint": "/srv/lagc/storage/submissions/7",
        "include_path": "/srv/lagc/instance/eval-suite",
        "datasets_cache": "/srv/cache",
        "clusters": {"lumi-g": {}},
        "tasks": [],
        "cluster": "lumi-g",
    }
    seen = site_request(request)
    assert seen == {"tasks": [], "cluster": "lumi-g"}
    assert local_request(seen, "/scratch/m", "/scratch/s", None) == {
        "tasks": [],
        "cluster": "lumi-g",
        "checkpoint": "/scratch/m",
        "include_path": "/scratch/s",
        "datasets_cache": None,
    }


def test_a_suite_file_names_its_folder_only_through_the_placeholder_and_each_side_writes_its_own():
    yaml = b"dataset_kwargs: {data_files: {test: /srv/suite/lagc_capitals_mc.jsonl}}\n"
    travelling = templatise(yaml, "mc.yaml", "/srv/suite")
    assert b"/srv/suite" not in travelling and SUITE_PLACEHOLDER.encode() in travelling
    assert (
        substitute(travelling, "mc.yaml", "/scratch/site/suites/ab")
        == b"dataset_kwargs: {data_files: {test: /scratch/site/suites/ab/lagc_capitals_mc.jsonl}}\n"
    )
    data = b'{"query": "/srv/suite is a path in the data"}\n'
    assert templatise(data, "mc.jsonl", "/srv/suite") == data  # data files travel byte for byte


def test_task_hashes_that_differ_from_the_platforms_reference_are_named():
    reference = {"mc": "aaa", "gen": "bbb", "hellaswag": None}
    assert hash_mismatches(reference, {"mc": "aaa", "gen": "bbb", "hellaswag": "zzz"}) == []
    assert hash_mismatches(reference, {"mc": "aaa", "gen": "ccc"}) == [
        "gen: the site's run recorded task hash ccc, the platform's suite has bbb"
    ]
    assert hash_mismatches(reference, {"mc": "aaa"})[0].startswith("gen: the site's run recorded task hash none")


def test_the_backoff_doubles_up_to_its_cap_with_full_jitter_and_resets_after_a_success():
    backoff = Backoff(base=1.0, cap=10.0, rng=lambda: 1.0)
    assert [backoff.failed() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.succeeded()
    assert backoff.failed() == 1.0
    assert Backoff(base=1.0, cap=10.0, rng=lambda: 0.25).failed() == 0.25


def test_the_state_file_is_replaced_whole_and_read_back_by_a_successor(tmp_path):
    state = AgentState(tmp_path)
    record = state.add({"evaluation_id": 4, "attempt": 2, "job_name": "lagc-eval-4-a2"})
    record.update(phase=BOUND, job_dir="/scratch/jobs/4/attempt-2")
    state.save()
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind
    successor = AgentState(tmp_path).load()
    assert successor.leases["4-a2"]["phase"] == BOUND and [r["key"] for r in successor.active()] == ["4-a2"]
    assert json.loads((tmp_path / "state.json").read_text())["version"] == 1


def test_a_second_agent_in_the_same_work_folder_is_refused(tmp_path):
    AgentState(tmp_path).lock()
    with pytest.raises(AgentBusy, match="another agent"):
        AgentState(tmp_path).lock()
