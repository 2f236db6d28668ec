"""The pure rules of running evaluations: the [evaluation] and [clusters.*] sections, dispatch planning,
queue positions, phase boundaries, hidden tasks, the model digest and the dataset-staging command."""

from datetime import datetime, timedelta, timezone

import pytest

from evaluation.clusters import parse_clusters_section
from evaluation.policy import (
    Candidate,
    EvaluationPolicy,
    effective_runner,
    hidden_tasks_revealed,
    model_digest,
    plan_dispatch,
    queue_positions,
)
from evaluation.staging import stage_command

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_the_evaluation_section_is_read_with_per_cluster_limits_and_allocations():
    p = EvaluationPolicy.from_config(
        {
            "runner": "slurm",
            "cluster": "lumi-g",
            "max_concurrent": {"lumi-g": 4},
            "allocation_gpu_hours": {"lumi-g": 250.5},
            "timeout_minutes": 90,
        }
    )
    assert p.concurrency("lumi-g") == 4 and p.concurrency("leonardo-booster") == 1
    assert p.allocation("lumi-g") == 250.5 and p.allocation("leonardo-booster") is None
    assert p.slurm_minutes() == 91


@pytest.mark.parametrize(
    "section, message",
    [
        ({"runner": "kubernetes"}, "runner must be one of"),
        ({"max_concurrent": {"lumi-g": 1.5}}, "max_concurrent.lumi-g"),
        ({"max_attempts": 0}, "max_attempts must be a positive number"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"colour": "blue"}, "unknown setting 'colour'"),
    ],
)
def test_a_bad_evaluation_section_is_refused_naming_the_key(section, message):
    with pytest.raises(ValueError, match=message):
        EvaluationPolicy.from_config(section)


def test_a_deployment_without_slurm_runs_every_challenge_on_this_machine():
    policy = EvaluationPolicy(runner="slurm", cluster="lumi-g")
    assert effective_runner(policy, "local") == ("local", "local")
    assert effective_runner(policy, "slurm") == ("slurm", "lumi-g")


def test_a_clusters_section_overrides_the_shipped_profile_it_names():
    clusters = parse_clusters_section({"lumi-g": {"account": "project_465009999"}, "leonardo-booster": {}})
    assert clusters["lumi-g"].account == "project_465009999" and clusters["lumi-g"].gpus_per_node == 8
    assert clusters["leonardo-booster"].partition == "boost_usr_prod"
    with pytest.raises(ValueError, match="unknown settings"):
        parse_clusters_section({"lumi-g": {"max_concurrent": 3}})


def test_dispatch_fills_each_cluster_up_to_its_limit_first_come_first_served():
    queue = [Candidate(i, team_id=i, cluster="a" if i < 4 else "b", limit=2, allocation=None) for i in range(6)]
    go, exhausted = plan_dispatch(queue, active={"a": 1}, used={})
    assert go == [0, 4, 5] and exhausted == []


def test_a_team_at_its_allocation_gets_nothing_more_on_that_cluster_but_others_do():
    queue = [
        Candidate(1, team_id=7, cluster="a", limit=5, allocation=10.0),
        Candidate(2, team_id=8, cluster="a", limit=5, allocation=10.0),
    ]
    assert plan_dispatch(queue, active={}, used={(7, "a"): 10.0, (8, "a"): 9.9}) == ([2], [1])


def test_queue_positions_count_per_cluster():
    assert queue_positions([(5, "a"), (6, "b"), (7, "a")]) == {5: 1, 6: 1, 7: 2}


def test_hidden_tasks_are_revealed_when_the_last_phase_begins():
    phases = [("evaluation", T0, T0 + timedelta(days=1)), ("award", T0 + timedelta(days=1), T0 + timedelta(days=2))]
    assert not hidden_tasks_revealed(phases, T0 + timedelta(hours=23))
    assert hidden_tasks_revealed(phases, T0 + timedelta(days=1))


def test_the_model_digest_ignores_file_order_and_changes_with_any_file():
    files = [("model.safetensors", "a" * 64), ("config.json", "b" * 64)]
    assert model_digest(files) == model_digest(list(reversed(files)))
    assert model_digest(files) != model_digest([("model.safetensors", "c" * 64), ("config.json", "b" * 64)])


def test_staging_downloads_into_the_shared_cache_with_the_network_on():
    # The download itself needs the Hugging Face Hub, which this machine cannot reach: only the command is tested.
    command = stage_command(["hellaswag", "belebele_deu_Latn"], "/scratch/cache", python="python3")
    assert command.argv == (
        "python3",
        "-m",
        "evaluation.staging",
        "--tasks",
        "hellaswag,belebele_deu_Latn",
        "--cache-dir",
        "/scratch/cache",
    )
    assert command.env["HF_DATASETS_CACHE"] == "/scratch/cache" and command.env["HF_DATASETS_OFFLINE"] == "0"


def test_a_job_starts_only_if_the_allocation_covers_its_worst_case_over_all_its_nodes():
    big = Candidate(1, team_id=7, cluster="a", limit=5, allocation=100.0, gpu_hours_at_most=80.0)  # 20 nodes x 4 h
    assert plan_dispatch([big], active={}, used={(7, "a"): 10.0}) == ([1], [])
    assert plan_dispatch([big], active={}, used={(7, "a"): 30.0}) == ([], [1])  # 70 left: it can never fit


def test_a_job_that_fits_only_once_the_teams_jobs_in_flight_end_waits_in_the_queue():
    queue = [
        Candidate(1, team_id=7, cluster="a", limit=5, allocation=100.0, gpu_hours_at_most=60.0),
        Candidate(2, team_id=8, cluster="a", limit=5, allocation=100.0, gpu_hours_at_most=60.0),
    ]
    assert plan_dispatch(queue, active={"a": 1}, used={}, reserved={(7, "a"): 50.0}) == ([2], [])


def test_jobs_dispatched_in_the_same_cycle_reserve_the_allocation_for_each_other():
    queue = [Candidate(i, team_id=7, cluster="a", limit=5, allocation=100.0, gpu_hours_at_most=40.0) for i in (1, 2, 3)]
    assert plan_dispatch(queue, active={}, used={}) == ([1, 2], [])
