"""Building the lm-eval command line: safety arguments always, pinned knobs, backend choice."""

import pytest

from evaluation.command import (
    OFFLINE_ENV,
    BackendPolicy,
    EvalSpec,
    build_command,
    choose_backend,
    split_by_fewshot,
)

SPEC = EvalSpec(checkpoint="/models/m", tasks=("a", "b"), output_path="/jobs/1/output", batch_size=4)


def _model_args(argv):
    return dict(kv.split("=", 1) for kv in argv[argv.index("--model_args") + 1].split(","))


@pytest.mark.parametrize("params, gpus", [(None, 0), (10**5, 0), (10**11, 0), (10**6, 4)])
def test_hf_commands_always_forbid_pickles_and_remote_code(params, gpus):
    cmd = build_command(EvalSpec(**{**SPEC.__dict__, "num_parameters": params}), BackendPolicy(gpus_per_node=gpus))
    args = _model_args(cmd.argv)
    assert cmd.backend == "hf"
    assert args["use_safetensors"] == "True" and args["trust_remote_code"] == "False"
    assert args["pretrained"] == "/models/m" and args["dtype"] == "float32"


def test_big_models_on_gpu_nodes_use_vllm_sharded_over_the_nodes_gpus_and_safetensors_only():
    spec = EvalSpec(**{**SPEC.__dict__, "num_parameters": 7 * 10**9, "dtype": "bfloat16"})
    cmd = build_command(spec, BackendPolicy(vllm_min_parameters=3 * 10**9, gpus_per_node=4))
    args = _model_args(cmd.argv)
    assert cmd.backend == "vllm" and cmd.argv[cmd.argv.index("--model") + 1] == "vllm"
    assert args["tensor_parallel_size"] == "4" and args["load_format"] == "safetensors"
    assert args["trust_remote_code"] == "False" and "--device" not in cmd.argv


def test_scores_affecting_knobs_are_pinned_on_the_command_line():
    cmd = build_command(EvalSpec(**{**SPEC.__dict__, "limit": 8, "num_fewshot": 5, "include_path": "/suite"}))
    argv = list(cmd.argv)
    pairs = {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}
    assert pairs["--batch_size"] == "4" and pairs["--seed"] == "0" and pairs["--device"] == "cpu"
    assert pairs["--limit"] == "8" and pairs["--num_fewshot"] == "5" and pairs["--include_path"] == "/suite"
    assert pairs["--tasks"] == "a,b" and pairs["--output_path"] == "/jobs/1/output"
    assert argv[-1] == "--log_samples" and argv[0] == "lm_eval"


def test_the_environment_keeps_hugging_face_offline_and_extra_env_cannot_remove_that():
    cmd = build_command(SPEC, extra_env={"OMP_NUM_THREADS": "7"})
    assert cmd.env["HF_HUB_OFFLINE"] == "1" and cmd.env["HF_DATASETS_OFFLINE"] == "1"
    assert cmd.env["TOKENIZERS_PARALLELISM"] == "false" and cmd.env["OMP_NUM_THREADS"] == "7"
    assert set(OFFLINE_ENV) <= set(cmd.env)


def test_a_checkpoint_path_with_a_comma_is_refused_because_lm_eval_would_split_it():
    with pytest.raises(ValueError, match="comma"):
        build_command(EvalSpec(**{**SPEC.__dict__, "checkpoint": "/models/a,trust_remote_code=True"}))


def test_an_evaluation_without_tasks_is_refused():
    with pytest.raises(ValueError):
        build_command(EvalSpec(**{**SPEC.__dict__, "tasks": ()}))


def test_the_lm_eval_executable_can_be_a_python_module_invocation():
    cmd = build_command(SPEC, lm_eval=("/venv/bin/python", "-m", "lm_eval"))
    assert cmd.argv[:4] == ("/venv/bin/python", "-m", "lm_eval", "--model")


def test_unknown_model_size_stays_on_hf():
    assert choose_backend(SPEC, BackendPolicy(gpus_per_node=8)) == "hf"


def test_tasks_are_grouped_by_few_shot_count_for_one_run_per_group():
    groups = split_by_fewshot({"arc": 25, "hellaswag": 10, "mmlu": 5, "arc_fr": 25, "mine": None})
    assert groups == [(25, ("arc", "arc_fr")), (10, ("hellaswag",)), (5, ("mmlu",)), (None, ("mine",))]


def test_a_multi_node_layout_puts_vllms_pipeline_over_ray_before_the_safety_arguments():
    from evaluation.layout import Layout

    spec = EvalSpec(**{**SPEC.__dict__, "num_parameters": 400 * 10**9, "dtype": "bfloat16"})
    cmd = build_command(
        spec, layout=Layout("vllm", nodes=5, tensor_parallel_size=4, pipeline_parallel_size=5, expert_parallel=True)
    )
    model_args = cmd.argv[cmd.argv.index("--model_args") + 1]
    assert model_args == (
        "pretrained=/models/m,dtype=bfloat16,tensor_parallel_size=4,pipeline_parallel_size=5,"
        "distributed_executor_backend=ray,enable_expert_parallel=True,gpu_memory_utilization=0.85,"
        "load_format=safetensors,trust_remote_code=False"
    )
    assert cmd.backend == "vllm" and cmd.layout.nodes == 5 and "--device" not in cmd.argv


def test_a_planned_hf_layout_runs_hf_whatever_the_size_threshold_says():
    from evaluation.layout import Layout

    spec = EvalSpec(**{**SPEC.__dict__, "num_parameters": 7 * 10**9})
    cmd = build_command(spec, BackendPolicy(gpus_per_node=4), layout=Layout("hf"))
    assert cmd.backend == "hf" and _model_args(cmd.argv)["use_safetensors"] == "True"
