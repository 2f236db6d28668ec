"""The batch script rendered for each cluster profile."""

from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.clusters import default_profiles
from evaluation.command import BackendPolicy, EvalSpec, build_command
from evaluation.runners.base import JobPaths
from evaluation.runners.slurm import render_batch_script

PATHS = JobPaths(Path("/scratch/lagc/jobs/42"))


def _script(name, **spec_changes):
    profile = default_profiles()[name]
    spec = EvalSpec(
        checkpoint="/scratch/lagc/models/m",
        tasks=("t1", "t2"),
        output_path=str(PATHS.output),
        num_parameters=spec_changes.pop("num_parameters", 10**6),
        **spec_changes,
    )
    command = build_command(
        spec, BackendPolicy(gpus_per_node=profile.gpus_per_node), lm_eval=profile.lm_eval, extra_env=dict(profile.env)
    )
    return render_batch_script(profile, command, PATHS, name="lagc-eval-42")


def _directives(script):
    return [line.split(" ", 1)[1] for line in script.splitlines() if line.startswith("#SBATCH ")]


def test_the_local_test_cluster_script_asks_for_no_gpus_and_no_account():
    d = _directives(_script("local-slurm"))
    assert "--partition=debug" in d and "--time=10" in d and "--nodes=1" in d and "--cpus-per-task=2" in d
    assert not any(x.startswith(("--account", "--qos", "--gres", "--gpus")) for x in d)
    assert "--output=/scratch/lagc/jobs/42/slurm-%j.out" in d and "--error=/scratch/lagc/jobs/42/slurm-%j.err" in d


def test_the_lumi_script_asks_for_all_eight_gcds_loads_modules_and_runs_in_the_container():
    script = _script("lumi-g")
    d = _directives(script)
    assert {
        "--account=project_465000000",
        "--partition=standard-g",
        "--gres=gpu:8",
        "--cpus-per-task=56",
        "--mem=480G",
        "--time=2880",
    } <= set(d)
    assert "module load LUMI/24.03\nmodule load partition/G" in script
    assert 'export MIOPEN_USER_DB_PATH="/tmp/miopen-$SLURM_JOB_ID"' in script
    assert "singularity exec --bind /scratch,/project,/flash /appl/local/containers/" in script


@pytest.mark.parametrize(
    "name, expected",
    [
        ("leonardo-booster", {"--partition=boost_usr_prod", "--qos=normal", "--gres=gpu:4", "--cpus-per-task=32"}),
        ("mn5-acc", {"--partition=acc", "--qos=acc_ehpc", "--gres=gpu:4", "--cpus-per-task=80"}),
        ("jupiter-booster", {"--partition=booster", "--gres=gpu:4", "--mem=0"}),
    ],
)
def test_each_site_gets_its_partition_qos_and_gpus(name, expected):
    assert expected <= set(_directives(_script(name)))


def test_every_script_runs_offline_with_safe_model_args_and_records_the_exit_code():
    for name in default_profiles():
        if default_profiles()[name].scheduler != "slurm":
            continue
        script = _script(name)
        assert "export HF_HUB_OFFLINE=1" in script and "export HF_DATASETS_OFFLINE=1" in script
        assert "trust_remote_code=False" in script
        assert "> /scratch/lagc/jobs/42/lm_eval.log 2>&1" in script
        assert "echo $code > /scratch/lagc/jobs/42/exitcode.tmp && mv" in script
        assert script.rstrip().endswith("exit $code")


def test_a_big_model_on_lumi_runs_on_vllm_over_eight_gcds():
    script = _script("lumi-g", num_parameters=70 * 10**9, dtype="bfloat16", device="cuda")
    assert "--model vllm" in script and "tensor_parallel_size=8" in script and "load_format=safetensors" in script


def test_a_requested_time_limit_cannot_exceed_the_sites_limit():
    profile = default_profiles()["local-slurm"]
    command = build_command(EvalSpec("/m", ("t",), "/o"))
    assert "#SBATCH --time=1\n" in render_batch_script(profile, command, PATHS, time_minutes=1)
    assert "#SBATCH --time=10\n" in render_batch_script(profile, command, PATHS, time_minutes=999)


def test_a_gpu_site_without_a_gres_string_asks_with_gpus_per_node():
    profile = replace(default_profiles()["mn5-acc"], gpu_gres=None)
    script = render_batch_script(profile, build_command(EvalSpec("/m", ("t",), "/o")), PATHS)
    assert "#SBATCH --gpus-per-node=4" in script
