"""A submission too large for one node, through the scheduler: its layout pinned when it is queued, the team's
GPU-hour allocation checked against every planned node before dispatch, the multi-node batch script submitted,
and every node's GPU-hours charged. LEONARDO's Slurm controller is out of reach from here, so the one stand-in
is ``LeonardoSbatch``: it records what the runner submits and answers with a job id, as sbatch --parsable does.
(The single-node path runs for real on the local Slurm cluster in test_evaluation_real_runs.py.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.checkpoints.services import storage_of
from app.ops.instance import instance_id
from evaluation import jobs
from evaluation.models import Evaluation, EvaluationState as S, GpuCharge
from evaluation.jobspec import build_job_command, job_name
from evaluation.planning import setup_of
from evaluation.runners.base import FAILED, JobPaths, RunStatus
from evaluation.runners.batch_script import render_batch_script
from evaluation.runners.slurm import SlurmRunner
from evaluation.status import status_of

from ._platform import accepted_submission, challenge_text, make_challenge, make_team

CLUSTER = "leonardo-booster"
MOE = {
    "architectures": ["MixtralForCausalLM"],
    "num_local_experts": 64,
    "num_experts_per_tok": 8,
    "num_attention_heads": 128,
    "num_hidden_layers": 96,
}


class LeonardoSbatch:
    """Stands in for LEONARDO's Slurm commands: sbatch --parsable answers job ids from 4242 on."""

    def __init__(self):
        self.scripts: list[str] = []

    def __call__(self, argv, **kwargs):
        assert argv[:2] == ["sbatch", "--parsable"], argv
        self.scripts.append(Path(argv[2]).read_text())
        return subprocess.CompletedProcess(argv, 0, stdout=f"{4241 + len(self.scripts)}\n", stderr="")


@pytest.fixture
def slurm(settings):
    return settings.with_overrides(eval_runner="slurm")


@pytest.fixture
def leonardo(monkeypatch):
    """The scheduler's runner for LEONARDO Booster, with the stand-in for its sbatch."""
    site = LeonardoSbatch()
    monkeypatch.setattr(jobs, "_RUNNERS", {})
    monkeypatch.setattr(jobs, "SlurmRunner", lambda profile: SlurmRunner(profile, run=site))
    return site


def _submit(db, slurm, parameters: int, n=1, **evaluation) -> int:
    with db() as session:
        challenge = make_challenge(
            session, challenge_text(runner="slurm", cluster=CLUSTER, dtype="bfloat16", **evaluation)
        )
        user, team = make_team(session, challenge, "big@example.eu")
        for _ in range(n):
            sub = accepted_submission(session, slurm, challenge, team, user)
            sub.parameters, sub.dtypes = parameters, {"BF16": parameters}
            (storage_of(slurm).submission_dir(sub.id) / "config.json").write_text(json.dumps(MOE))
        return challenge.id


def _cycle(app, slurm, step) -> list[Evaluation]:
    with Session(app.extensions["lagc_engine"], expire_on_commit=False) as session:
        step(jobs.Cycle(session, slurm))
        session.commit()
        return session.exec(select(Evaluation).order_by(Evaluation.id)).all()


def test_a_400b_model_is_queued_with_a_five_node_layout_and_dispatched_as_one_multi_node_job(app, db, slurm, leonardo):
    challenge_id = _submit(db, slurm, 400 * 10**9, allocation_gpu_hours={CLUSTER: 500})
    [ev] = _cycle(app, slurm, jobs.enqueue)
    plan = ev.request["plan"]
    assert (
        plan["backend"],
        plan["nodes"],
        plan["tensor_parallel_size"],
        plan["pipeline_parallel_size"],
        plan["expert_parallel"],
    ) == ("vllm", 5, 4, 5, True)
    with Session(app.extensions["lagc_engine"]) as session:
        status = status_of(session, session.get(Evaluation, ev.id), organiser=False)
    assert (
        status["layout_words"] == "vLLM on 5 nodes (a Ray cluster): tensor parallel 4, pipeline parallel 5, "
        "expert parallel"
    )
    assert status["layout"]["nodes"] == 5 and "800 GB of weights in bfloat16" in status["layout"]["reasons"][0]
    [ev] = _cycle(app, slurm, jobs.dispatch)
    assert S(ev.state) == S.dispatched and ev.job_id == "4242" and len(leonardo.scripts) == 1
    with Session(app.extensions["lagc_engine"]) as session:
        from app.challenges.models import Challenge

        profile = setup_of(session.get(Challenge, challenge_id), slurm).profile(CLUSTER)
        name = job_name(ev.id, 1, instance_id(session, slurm))
    command = build_job_command(ev.request, profile, Path(ev.work_dir))
    expected = render_batch_script(profile, command, JobPaths(Path(ev.work_dir)), name=name, time_minutes=21)
    assert leonardo.scripts[0] == expected == (Path(ev.work_dir) / "run.sh").read_text()
    assert "#SBATCH --nodes=5\n#SBATCH --ntasks-per-node=1\n#SBATCH --exclusive\n" in expected
    assert "pipeline_parallel_size=5,distributed_executor_backend=ray,enable_expert_parallel=True" in expected
    assert "srun --nodes=4 --ntasks=4 --ntasks-per-node=1" in expected


def test_a_model_too_large_for_the_clusters_node_limit_fails_when_queued_with_the_planners_reason(app, db, slurm):
    _submit(db, slurm, 3 * 10**12)
    [ev] = _cycle(app, slurm, jobs.enqueue)
    assert S(ev.state) == S.failed and ev.retry_at is None and ev.job_id is None
    assert "needs 34 nodes" in ev.failure_reason and "allows at most 16 per evaluation" in ev.failure_reason


def test_the_allocation_must_cover_every_planned_node_for_the_whole_time_limit(app, db, slurm, leonardo):
    _submit(db, slurm, 400 * 10**9, allocation_gpu_hours={CLUSTER: 6.9})  # 5 nodes x 4 GPUs x 21 min = 7 h
    _cycle(app, slurm, jobs.enqueue)
    [ev] = _cycle(app, slurm, jobs.dispatch)
    assert S(ev.state) == S.failed and ev.job_id is None and not leonardo.scripts
    assert "cannot cover this evaluation (up to 7.0 GPU-hours on 5 nodes" in ev.failure_reason


def test_a_second_job_waits_while_the_first_holds_the_rest_of_the_allocation(app, db, slurm, leonardo):
    _submit(db, slurm, 400 * 10**9, n=2, allocation_gpu_hours={CLUSTER: 10}, max_concurrent={CLUSTER: 2})
    _cycle(app, slurm, jobs.enqueue)
    first, second = _cycle(app, slurm, jobs.dispatch)
    assert (S(first.state), S(second.state)) == (S.dispatched, S.queued) and len(leonardo.scripts) == 1


def test_every_node_of_a_multi_node_attempt_is_charged(app, db, slurm, leonardo):
    _submit(db, slurm, 400 * 10**9)
    _cycle(app, slurm, jobs.enqueue)
    _cycle(app, slurm, jobs.dispatch)

    def fail_after_half_an_hour(cycle):
        ev = cycle.session.exec(select(Evaluation)).one()
        setup = cycle.setup(ev.challenge_id)
        status = RunStatus(FAILED, "a node failed", elapsed_seconds=1800.0, retryable=True)
        jobs._act_on(cycle, ev, setup, jobs.runner_for("slurm", setup, CLUSTER), None, status)

    [ev] = _cycle(app, slurm, fail_after_half_an_hour)
    with Session(app.extensions["lagc_engine"]) as session:
        [charge] = session.exec(select(GpuCharge)).all()
    assert charge.gpu_hours == 10.0 == ev.gpu_hours  # 5 nodes x 4 A100 x 0.5 h
    assert S(ev.state) == S.failed and ev.retry_at is not None
