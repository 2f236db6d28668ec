"""The layout planner: hf on one device, vLLM on one node, vLLM over N nodes, or refused, at each boundary."""

from dataclasses import replace

import pytest

from evaluation.clusters import default_profiles
from evaluation.layout import (
    GB,
    VLLM_GPU_MEMORY_UTILIZATION,
    WEIGHTS_MAX_SHARE,
    Layout,
    LayoutRefused,
    MoE,
    canonical_dtype,
    describe,
    model_facts,
    moe_of,
    plan_layout,
)

B = 10**9
LEONARDO = default_profiles()["leonardo-booster"]  # 4 x 64 GB: at most 179.2 GB of weights per node
NODE_BF16 = int(4 * 64 * GB * WEIGHTS_MAX_SHARE) // 2  # the most bf16 parameters one LEONARDO node holds


def _plan(parameters, dtype="bfloat16", profile=LEONARDO, config=None, stored_bytes=None):
    return plan_layout(model_facts(parameters, dtype, config, stored_bytes), profile)


def _shape(layout: Layout):
    return layout.backend, layout.nodes, layout.tensor_parallel_size, layout.pipeline_parallel_size


def test_weights_leave_room_for_the_kv_cache_within_what_vllm_is_told_to_use():
    assert 0 < WEIGHTS_MAX_SHARE < VLLM_GPU_MEMORY_UTILIZATION < 1


@pytest.mark.parametrize(
    "parameters, shape",
    [
        (150_000, ("hf", 1, 1, 1)),  # a tiny model: hf on one device
        (3 * B - 1, ("hf", 1, 1, 1)),  # just below the vLLM threshold, fits one 64 GB device
        (3 * B, ("vllm", 1, 4, 1)),  # at the threshold: vLLM over the node's 4 devices
        (NODE_BF16, ("vllm", 1, 4, 1)),  # exactly a node's worth of weights
        (NODE_BF16 + 1, ("vllm", 2, 4, 2)),  # one parameter more: two nodes, pipelined
        (16 * NODE_BF16, ("vllm", 16, 4, 16)),  # exactly the 16 nodes the profile allows
    ],
)
def test_the_layout_changes_exactly_at_each_boundary(parameters, shape):
    assert _shape(_plan(parameters)) == shape


def test_a_model_needing_more_nodes_than_the_profile_allows_is_refused_with_the_reason():
    with pytest.raises(LayoutRefused) as refused:
        _plan(16 * NODE_BF16 + 1)
    message = str(refused.value)
    assert "needs 17 nodes" in message and "allows at most 16 per evaluation" in message
    assert "179.2 GB of weights per node of 4 devices" in message and "70%" in message


def test_a_small_model_that_does_not_fit_one_device_goes_to_vllm():
    small_devices = replace(LEONARDO, gpu_memory_gb=4)  # 2.8 GB of weights per device
    assert _shape(_plan(2 * B, profile=small_devices)) == ("vllm", 1, 4, 1)


@pytest.mark.parametrize(
    "dtype, nodes",
    [
        ("float32", 9),
        ("fp32", 9),
        ("bfloat16", 5),
        ("bf16", 5),
        ("float16", 5),
        ("fp16", 5),
        ("fp8", 3),
        ("int8", 3),
        ("int4", 2),
    ],
)
def test_weight_bytes_follow_the_dtype(dtype, nodes):
    assert _plan(400 * B, dtype).nodes == nodes  # 1600, 800, 400 and 200 GB against 179.2 GB per node


@pytest.mark.parametrize(
    "name, shape",
    [
        ("lumi-g", ("vllm", 3, 8, 3)),  # 8 GCDs x 64 GB: 358.4 GB per node
        ("leonardo-booster", ("vllm", 5, 4, 5)),  # 4 x 64 GB: 179.2 GB per node
        ("mn5-acc", ("vllm", 5, 4, 5)),  # 4 x 64 GB
        ("jupiter-booster", ("vllm", 3, 4, 3)),  # 4 x 96 GB: 268.8 GB per node
    ],
)
def test_a_400b_bf16_mixture_of_experts_on_each_eurohpc_site(name, shape):
    config = {"num_local_experts": 64, "num_experts_per_tok": 8, "num_attention_heads": 128, "num_hidden_layers": 96}
    layout = _plan(400 * B, "bf16", default_profiles()[name], config)
    assert _shape(layout) == shape and layout.expert_parallel and layout.distributed_executor_backend == "ray"
    assert any("a mixture of 64 experts, 8 per token" in r for r in layout.reasons)


@pytest.mark.parametrize(
    "name, shape",
    [
        ("lumi-g", ("vllm", 1, 8, 1)),
        ("leonardo-booster", ("vllm", 2, 4, 2)),
        ("mn5-acc", ("vllm", 2, 4, 2)),
        ("jupiter-booster", ("vllm", 1, 4, 1)),
    ],
)
def test_a_dense_120b_model_on_each_eurohpc_site(name, shape):
    layout = _plan(120 * B, "bf16", default_profiles()[name])  # 240 GB of weights
    assert _shape(layout) == shape and not layout.expert_parallel


@pytest.mark.parametrize("name", ["local", "local-slurm"])
def test_a_cluster_without_gpus_runs_hf_on_the_cpu_whatever_the_size(name):
    layout = _plan(400 * B, "float32", default_profiles()[name])
    assert _shape(layout) == ("hf", 1, 1, 1) and "no GPUs" in layout.reasons[0]


@pytest.mark.parametrize(
    "config, moe",
    [
        ({"num_local_experts": 8, "num_experts_per_tok": 2}, MoE(8, 2)),  # Mixtral
        ({"num_experts": 128, "num_experts_per_tok": 8}, MoE(128, 8)),  # Qwen3-MoE
        ({"n_routed_experts": 256, "num_experts_per_tok": 8}, MoE(256, 8)),  # DeepSeek-V3
        ({"text_config": {"num_local_experts": 16, "num_experts_per_tok": 1}}, MoE(16, 1)),  # Llama 4
        ({"num_local_experts": 128, "experts_per_token": 4}, MoE(128, 4)),  # gpt-oss
        ({"num_experts": 1}, None),
        ({"num_experts": True}, None),
        ({"hidden_size": 4096}, None),
        ({}, None),
    ],
)
def test_the_mixture_of_experts_fields_are_read_from_config_json(config, moe):
    assert moe_of(config) == moe


def test_experts_that_do_not_spread_evenly_stay_sharded_like_the_other_weights():
    layout = _plan(20 * B, config={"num_local_experts": 6, "num_experts_per_tok": 2})
    assert _shape(layout) == ("vllm", 1, 4, 1) and not layout.expert_parallel
    assert "sharded like the other weights" in layout.reasons[-1]


def test_a_mixture_of_experts_on_hf_needs_no_expert_parallelism():
    assert not _plan(1 * B, config={"num_local_experts": 8}).expert_parallel


def test_tensor_parallelism_divides_the_attention_heads():
    lumi = default_profiles()["lumi-g"]
    one_node = _plan(7 * B, profile=lumi, config={"num_attention_heads": 28})
    assert _shape(one_node) == ("vllm", 1, 4, 1) and "28 attention heads" in one_node.reasons[1]
    several = _plan(500 * B, profile=lumi, config={"num_attention_heads": 28})
    assert _shape(several) == ("vllm", 3, 4, 6)  # two 4-GCD pipeline stages on each of the 3 nodes


def test_a_model_with_fewer_layers_than_pipeline_stages_is_refused():
    with pytest.raises(LayoutRefused, match="4 layers, too few for the 5 pipeline stages"):
        _plan(400 * B, config={"num_hidden_layers": 4})


def test_a_quantised_checkpoint_is_held_at_its_stored_size():
    config = {"quantization_config": {"quant_method": "fp8"}}
    layout = _plan(671 * B, "bfloat16", config=config, stored_bytes=700 * B)
    assert layout.nodes == 4 and "its stored dtypes" in layout.reasons[0]
    assert _plan(671 * B, "bfloat16").nodes == 8  # the same count unquantised: 1,342 GB


def test_a_gpu_cluster_without_device_memory_cannot_be_planned():
    with pytest.raises(LayoutRefused, match="does not state gpu_memory_gb"):
        _plan(7 * B, profile=replace(LEONARDO, gpu_memory_gb=None))


def test_a_model_of_unknown_size_cannot_be_planned_on_gpus():
    with pytest.raises(LayoutRefused, match="parameter count is unknown"):
        _plan(None)


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("bf16", "bfloat16"),
        ("BF16", "bfloat16"),
        ("torch.float16", "float16"),
        ("fp8", "float8"),
        ("float32", "float32"),
        ("int4", "int4"),
    ],
)
def test_dtype_names_are_read_in_their_common_spellings(name, canonical):
    assert canonical_dtype(name) == canonical


def test_an_unknown_dtype_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown dtype 'fp12': use one of float32"):
        model_facts(B, "fp12")


def test_a_layout_survives_the_round_trip_through_plain_data():
    layout = _plan(400 * B, config={"num_local_experts": 64})
    assert Layout.from_dict(layout.to_dict()) == layout
    assert Layout.from_dict(layout.to_dict()).reasons == layout.reasons
    assert Layout("vllm", 1, 4, 1).distributed_executor_backend is None
    assert Layout("hf").to_dict()["nodes"] == 1


@pytest.mark.parametrize(
    "layout, device, words",
    [
        (Layout("hf"), "cpu", "lm-eval's hf backend on the CPU"),
        (Layout("hf"), "cuda", "lm-eval's hf backend on one GPU"),
        (Layout("vllm", 1, 8, 1), "cuda", "vLLM on one node: tensor parallel 8"),
        (
            Layout("vllm", 5, 4, 5, True),
            "cuda",
            "vLLM on 5 nodes (a Ray cluster): tensor parallel 4, pipeline parallel 5, expert parallel",
        ),
    ],
)
def test_a_layout_is_described_in_a_few_words_for_the_pages(layout, device, words):
    assert describe(layout, device) == words
