"""``flask eval plan``: the planner's layout and the batch script, from numbers or from a real checkpoint folder
(read by the intake's validation), with a clear message and a non-zero exit for every bad input."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.cli import cli
from evaluation.clusters import default_profiles
from evaluation.command import EvalSpec, build_command
from evaluation.layout import Layout
from evaluation.runners.base import JobPaths
from evaluation.runners.batch_script import render_batch_script

KEYS = {"backend", "nodes", "tensor_parallel_size", "pipeline_parallel_size", "script"}


def _plan(*args):
    return CliRunner().invoke(cli, ["plan", *args])


def _ok(*args) -> dict:
    result = _plan(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(
    "cluster, shape",
    [("lumi-g", (3, 8, 3)), ("leonardo-booster", (5, 4, 5)), ("mn5-acc", (5, 4, 5)), ("jupiter-booster", (3, 4, 3))],
)
def test_a_400b_bf16_mixture_of_experts_is_planned_over_several_nodes_of_each_site(cluster, shape):
    plan = _ok(
        "--cluster",
        cluster,
        "--parameters",
        "400B",
        "--dtype",
        "bf16",
        "--moe-experts",
        "64",
        "--moe-experts-per-token",
        "8",
    )
    assert KEYS <= set(plan) and plan["backend"] == "vllm" and plan["expert_parallel"] is True
    assert (plan["nodes"], plan["tensor_parallel_size"], plan["pipeline_parallel_size"]) == shape
    assert f"#SBATCH --nodes={shape[0]}\n" in plan["script"] and "ray start --head" in plan["script"]
    assert plan["weights_gb"] == 800.0 and any("64 experts, 8 per token" in r for r in plan["reasons"])


def test_the_printed_script_is_the_one_the_renderer_writes_for_that_layout(tmp_path):
    plan = _ok(
        "--cluster",
        "mn5-acc",
        "--parameters",
        "400000000000",
        "--dtype",
        "bfloat16",
        "--tasks",
        "t1,t2",
        "--job-dir",
        str(tmp_path / "job"),
        "--time-limit",
        "241",
    )
    profile = default_profiles()["mn5-acc"]
    paths = JobPaths((tmp_path / "job").resolve())
    spec = EvalSpec(
        checkpoint="CHECKPOINT",
        tasks=("t1", "t2"),
        output_path=str(paths.output),
        dtype="bfloat16",
        device="cuda",
        num_parameters=400 * 10**9,
    )
    command = build_command(spec, lm_eval=profile.lm_eval, extra_env=dict(profile.env), layout=Layout("vllm", 5, 4, 5))
    assert plan["script"] == render_batch_script(profile, command, paths, name="lagc-eval-plan", time_minutes=241)


def test_a_small_model_plans_hf_on_one_device_and_a_one_node_model_vllm_over_the_node():
    small = _ok("--cluster", "leonardo-booster", "--parameters", "1.5B", "--dtype", "bf16")
    assert (small["backend"], small["nodes"], small["tensor_parallel_size"]) == ("hf", 1, 1)
    assert "--device cuda" in small["script"] and "#SBATCH --nodes=1\n" in small["script"]
    node = _ok("--cluster", "leonardo-booster", "--parameters", "70B", "--dtype", "bf16")
    assert (node["backend"], node["nodes"], node["tensor_parallel_size"], node["pipeline_parallel_size"]) == (
        "vllm",
        1,
        4,
        1,
    )
    assert "srun" not in node["script"]


def test_a_checkpoint_folder_is_read_through_the_intake_validation_and_its_config_json(tiny_model, tmp_path):
    plan = _ok("--cluster", "local-slurm", "--checkpoint", str(tiny_model))
    assert (plan["backend"], plan["nodes"]) == ("hf", 1) and f"pretrained={tiny_model}" in plan["script"]
    moe = tmp_path / "moe"  # the tiny GPT-2 (148,864 parameters, 2 heads, 2 layers) told it has 8 experts
    shutil.copytree(tiny_model, moe)
    config = json.loads((moe / "config.json").read_text())
    (moe / "config.json").write_text(json.dumps({**config, "num_local_experts": 8, "num_experts_per_tok": 2}))
    clusters = tmp_path / "clusters.toml"  # devices so small that the tiny model's 297,728 bf16 bytes need several
    clusters.write_text(
        "".join(
            f'[clusters.{name}]\npartition = "gpu"\ngpus_per_node = 4\ngpu_memory_gb = {gb}\n'
            "max_nodes = 4\nvllm_min_parameters = 1\ncpus_per_task = 8\n"
            for name, gb in (("tiny-gpus", 0.00015), ("tinier-gpus", 0.00004))
        )
    )
    common = ["--clusters-file", str(clusters), "--checkpoint", str(moe)]
    node = _ok("--cluster", "tiny-gpus", *common)
    assert (node["nodes"], node["tensor_parallel_size"], node["pipeline_parallel_size"]) == (1, 2, 2)
    assert "the 2 attention heads" in node["reasons"][1] and node["expert_parallel"] is True
    assert "a mixture of 8 experts, 2 per token" in node["reasons"][-1] and "srun" not in node["script"]
    refused = _plan("--cluster", "tinier-gpus", *common)
    assert refused.exit_code == 1 and "2 layers, too few for the 6 pipeline stages" in refused.output
    nodes = _ok("--cluster", "tinier-gpus", *common, "--attention-heads", "4", "--layers", "8")
    assert (nodes["nodes"], nodes["tensor_parallel_size"], nodes["pipeline_parallel_size"]) == (3, 4, 3)
    assert "#SBATCH --nodes=3\n" in nodes["script"] and f"pretrained={moe}," in nodes["script"]


def test_a_folder_the_intake_would_refuse_is_refused_with_its_findings(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"not opened")
    result = _plan("--cluster", "lumi-g", "--checkpoint", str(tmp_path))
    assert result.exit_code == 1 and "not one the platform accepts" in result.output
    assert "config.json is missing" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "args, code, message",
    [
        (
            ["--cluster", "leonardo-booster", "--parameters", "3T", "--dtype", "bf16"],
            1,
            "needs 34 nodes of LEONARDO Booster",
        ),
        (["--cluster", "nowhere", "--parameters", "1B", "--dtype", "bf16"], 1, "no cluster profile 'nowhere'; known:"),
        (["--cluster", "lumi-g", "--parameters", "1B"], 2, "--parameters needs --dtype"),
        (["--cluster", "lumi-g", "--parameters", "1B", "--dtype", "fp12"], 2, "unknown dtype 'fp12'"),
        (["--cluster", "lumi-g", "--parameters", "many", "--dtype", "bf16"], 2, "is not a parameter count"),
        (["--cluster", "lumi-g", "--parameters", "-5", "--dtype", "bf16"], 2, "is not a plausible parameter count"),
        (["--cluster", "lumi-g", "--dtype", "bf16"], 2, "give either --checkpoint DIR or --parameters N"),
        (["--cluster", "lumi-g", "--moe-experts", "1", "--parameters", "1B", "--dtype", "bf16"], 2, "--moe-experts"),
    ],
)
def test_bad_input_gets_a_clear_message_and_a_non_zero_exit(args, code, message):
    result = _plan(*args)
    assert result.exit_code == code and message in result.output and "Traceback" not in result.output


def test_both_a_checkpoint_and_a_parameter_count_are_refused(tmp_path):
    result = _plan("--cluster", "lumi-g", "--checkpoint", str(tmp_path), "--parameters", "1B", "--dtype", "bf16")
    assert result.exit_code == 2 and "either --checkpoint DIR or --parameters N" in result.output


def test_the_command_is_reachable_through_flask(tmp_path):
    import subprocess
    import sys

    flask = Path(sys.executable).with_name("flask")
    out = subprocess.run(
        [
            str(flask),
            "--app",
            "app",
            "eval",
            "plan",
            "--cluster",
            "jupiter-booster",
            "--parameters",
            "400B",
            "--dtype",
            "bf16",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LAGC_INSTANCE_DIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["nodes"] == 3
