"""Fixtures for the evaluation integration tests: one tiny model and the offline suite per session.

Tests marked ``lmeval`` run real lm-eval (skipped when it is not installed); tests marked ``slurm`` submit
real jobs to the cluster named by SLURM_CONF (``eval "$(bash scripts/services/slurm.sh env)"`` after
``bash scripts/services/slurm.sh start``), and are skipped when it is unset.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.results import find_results_file, load_results

from ._support import BATCH_SIZE, LIMIT, local_slurm_profile


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    no_lmeval = importlib.util.find_spec("lm_eval") is None
    no_slurm = not os.environ.get("SLURM_CONF")
    no_ssh = _no_ssh_server()
    for item in items:
        if here not in Path(item.fspath).parents:
            continue
        if no_lmeval and item.get_closest_marker("lmeval"):
            item.add_marker(pytest.mark.skip(reason="lm_eval is not importable (pip install -e '.[eval]')"))
        if no_slurm and item.get_closest_marker("slurm"):
            item.add_marker(
                pytest.mark.skip(
                    reason="SLURM_CONF is unset: run `bash scripts/services/slurm.sh "
                    'start` and `eval "$(bash scripts/services/slurm.sh env)"`'
                )
            )
        if no_ssh and item.get_closest_marker("ssh"):
            item.add_marker(pytest.mark.skip(reason=no_ssh))


def _no_ssh_server() -> str | None:
    """Why the gateway tests cannot run (None: they can). Where LAGC_REQUIRE_SSH is set (scripts/test.sh), a
    missing server is an error, not a skip."""
    folder = os.environ.get("LAGC_TEST_SSH")
    if not folder:
        why = (
            'LAGC_TEST_SSH is unset: run `bash scripts/services/ssh.sh start` and `eval "$(bash '
            'scripts/services/ssh.sh env)"`'
        )
    elif (
        not (Path(folder) / "port").is_file()
        or subprocess.run(
            [
                "bash",
                str(Path(__file__).resolve().parents[3] / "scripts/services/ssh.sh"),
                "status",
                str(Path(folder).parent),
            ],
            capture_output=True,
        ).returncode
        != 0
    ):
        why = f"no OpenSSH server runs for {folder}: run `bash scripts/services/ssh.sh start`"
    else:
        return None
    if os.environ.get("LAGC_REQUIRE_SSH"):
        raise pytest.UsageError(f"LAGC_REQUIRE_SSH is set but {why}")
    return why


@pytest.fixture(scope="session")
def ssh_site():
    """The local OpenSSH server as a site's login node: (host, port, client key, known_hosts)."""
    folder = Path(os.environ["LAGC_TEST_SSH"])
    return "127.0.0.1", int((folder / "port").read_text()), folder / "client_key", folder / "known_hosts"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    if importlib.util.find_spec("transformers") is None:
        pytest.skip("transformers is not installed")
    from evaluation.tinymodel import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"), seed=0)


@pytest.fixture(scope="session")
def suite(tmp_path_factory) -> tuple[Path, tuple[str, ...]]:
    from evaluation.suite import write_suite

    folder = tmp_path_factory.mktemp("suite")
    return folder, tuple(write_suite(folder))


@pytest.fixture(scope="session")
def job_root() -> Path:
    """Job folders must be visible to the Slurm node: on this one-node cluster any local path is."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="lagc-eval-tests-"))


@pytest.fixture(scope="session")
def by_hand(tiny_model, suite, job_root):
    """lm-eval run by hand, as an operator would type it, outside any platform code."""
    suite_dir, tasks = suite
    out = job_root / "by-hand"
    argv = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={tiny_model},use_safetensors=True,trust_remote_code=False,dtype=float32",
        "--tasks",
        ",".join(tasks),
        "--include_path",
        str(suite_dir),
        "--limit",
        str(LIMIT),
        "--batch_size",
        str(BATCH_SIZE),
        "--device",
        "cpu",
        "--seed",
        "0",
        "--output_path",
        str(out),
        "--log_samples",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_results(find_results_file(out), tasks)


@pytest.fixture(scope="session")
def two_runs(tiny_model, suite, job_root):
    """``eval run`` at 0 and at 2 few-shot examples: {shots: its JSON report}. One pair for the session,
    shared by the tests of `scores paired` and of the comparisons on the board and the API."""
    suite_dir, tasks = suite
    reports = {}
    for shots in (0, 2):
        argv = [
            sys.executable,
            "-m",
            "evaluation.cli",
            "run",
            "--checkpoint",
            str(tiny_model),
            "--tasks",
            ",".join(tasks),
            "--include-path",
            str(suite_dir),
            "--limit",
            str(LIMIT),
            "--batch-size",
            str(BATCH_SIZE),
            "--num-fewshot",
            str(shots),
            "--work-dir",
            str(job_root / f"paired-{shots}-shot"),
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
        reports[shots] = json.loads(proc.stdout)
    return reports


OVERTIME_TEST = "test_a_job_over_its_time_limit_is_stopped_and_reported_as_such"


@pytest.fixture(scope="module", autouse=True)
def overtime_job(request, job_root):
    """A Slurm job sleeping far past its 1-minute limit, submitted as the Slurm runner's module starts (only
    when the time-limit test is selected and Slurm is configured), so Slurm's minute overlaps that module's
    other tests. Not earlier: the node-failure test in test_evaluation_real_runs.py takes the node down,
    which would end this job as NODE_FAIL instead of TIMEOUT."""
    selected = any(i.name == OVERTIME_TEST and i.module is request.module for i in request.session.items)
    if not os.environ.get("SLURM_CONF") or not selected:
        yield None
        return
    from evaluation.command import Command
    from evaluation.runners.slurm import SlurmRunner

    runner = SlurmRunner(local_slurm_profile())
    handle = runner.start(
        Command(argv=("sleep", "600")), job_root / "overtime", name="lagc-test-overtime", time_minutes=1
    )
    yield handle
    runner.cancel(handle)
