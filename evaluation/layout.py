"""The layout planner: which lm-eval backend runs a model, on how many devices and nodes (pure).

From what the checkpoint is (``ModelFacts``: parameter count, the dtype its weights are held in, the
mixture-of-experts and attention fields of its ``config.json``) and where it runs (a ``ClusterProfile``:
devices per node, ``gpu_memory_gb`` per device, ``max_nodes``), ``plan_layout`` decides, the way vLLM's
guide to parallelism and scaling does (docs/serving/parallelism_scaling.md in vllm-project/vllm):

- a small model runs on lm-eval's ``hf`` backend on one device (its reference implementation; vLLM's start-up
  costs more than it saves below ``profile.vllm_min_parameters``);
- a model that fits one node runs on vLLM with ``tensor_parallel_size`` = the node's devices;
- a larger model runs on N nodes with ``pipeline_parallel_size`` = N (tensor parallel inside each node), vLLM
  over a Ray cluster the batch script starts inside one Slurm allocation (``evaluation.runners.batch_script``);
- a model that needs more nodes than the profile allows is refused with the reason (``LayoutRefused``).

No files, processes, database or clock: callers read the checkpoint and pass plain facts, so the site agent
plans exactly as the platform does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from evaluation.clusters import ClusterProfile
from scoring.units import human_bytes

# Weights may fill at most this share of each device. vLLM is told to use VLLM_GPU_MEMORY_UTILIZATION of
# each device for weights, activations and the KV cache together, so at least 15 points (9.6 GB of a 64 GB
# device) stay for the KV cache and activations (vLLM refuses to start if one sequence of the model's length
# does not fit), and the last 15% for the CUDA/ROCm context, NCCL/RCCL buffers and fragmentation. The hf
# backend gets the same budget for its activations. The first and last pipeline stages also hold the
# embeddings and the output head; the slack covers them for the vocabularies of today's models.
WEIGHTS_MAX_SHARE = 0.70
VLLM_GPU_MEMORY_UTILIZATION = 0.85
GB = 10**9

# Bytes per parameter of the dtypes weights are held in on the device (lm-eval's names and common aliases).
DTYPE_BYTES: Mapping[str, float] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float8": 1,
    "int8": 1,
    "float4": 0.5,
    "int4": 0.5,
}
DTYPE_ALIASES: Mapping[str, str] = {
    "fp32": "float32",
    "f32": "float32",
    "float": "float32",
    "fp16": "float16",
    "f16": "float16",
    "half": "float16",
    "bf16": "bfloat16",
    "fp8": "float8",
    "f8": "float8",
    "float8_e4m3fn": "float8",
    "float8_e5m2": "float8",
    "fp4": "float4",
    "nvfp4": "float4",
    "mxfp4": "float4",
}

# Where config.json names the experts, across the architectures transformers implements natively
# (Mixtral, Llama 4 and gpt-oss: num_local_experts; Qwen-MoE, OLMoE: num_experts; DeepSeek: n_routed_experts).
EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
EXPERTS_PER_TOKEN_KEYS = ("num_experts_per_tok", "experts_per_token", "num_experts_per_token", "moe_topk")
HEAD_KEYS = ("num_attention_heads", "n_head", "num_heads")
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers")


class LayoutRefused(ValueError):
    """The model cannot be evaluated on this cluster as configured; the message says why, in words."""


@dataclass(frozen=True)
class MoE:
    """A mixture-of-experts model: experts per MoE layer, and how many each token is routed to."""

    experts: int
    experts_per_token: int | None = None


@dataclass(frozen=True)
class ModelFacts:
    """What the planner needs to know of a checkpoint. ``weight_bytes`` is what its weights take on the
    devices (parameters x bytes of the dtype they are held in; a quantised checkpoint's stored size)."""

    parameters: int | None
    weight_bytes: int | None
    dtype: str
    moe: MoE | None = None
    attention_heads: int | None = None
    layers: int | None = None


@dataclass(frozen=True)
class Layout:
    """How one evaluation runs: the backend, the nodes, and vLLM's parallel sizes (1 for hf)."""

    backend: str
    nodes: int = 1
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    expert_parallel: bool = False
    reasons: tuple[str, ...] = field(default=(), compare=False)

    @property
    def distributed_executor_backend(self) -> str | None:
        """vLLM's executor: Ray for pipeline stages (across nodes it is the only one), else vLLM's default."""
        return "ray" if self.backend == "vllm" and self.pipeline_parallel_size > 1 else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (pinned in an evaluation's request, printed by ``eval plan``)."""
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Layout":
        """The layout stored with ``to_dict``."""
        known = {
            k: data[k]
            for k in ("backend", "nodes", "tensor_parallel_size", "pipeline_parallel_size", "expert_parallel")
            if k in data
        }
        return cls(**known, reasons=tuple(data.get("reasons") or ()))


def describe(layout: Layout, device: str = "cuda") -> str:
    """The layout in a few words, for the evaluation pages ("vLLM on 5 nodes (a Ray cluster): ...")."""
    if layout.backend != "vllm":
        return f"lm-eval's {layout.backend} backend on " + ("the CPU" if device == "cpu" else "one GPU")
    where = "one node" if layout.nodes == 1 else f"{layout.nodes} nodes (a Ray cluster)"
    parts = [f"tensor parallel {layout.tensor_parallel_size}"]
    if layout.pipeline_parallel_size > 1:
        parts.append(f"pipeline parallel {layout.pipeline_parallel_size}")
    if layout.expert_parallel:
        parts.append("expert parallel")
    return f"vLLM on {where}: {', '.join(parts)}"


def canonical_dtype(name: str) -> str:
    """lm-eval's name of a dtype (``bf16`` -> ``bfloat16``); ValueError for one the planner does not know."""
    key = str(name).strip().lower().replace("torch.", "")
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {name!r}: use one of {', '.join(DTYPE_BYTES)} (or bf16, fp16, fp8 ...)")
    return key


def model_facts(
    parameters: int | None, dtype: str, config: Mapping[str, Any] | None = None, stored_bytes: int | None = None
) -> ModelFacts:
    """The facts of a model evaluated in ``dtype``. A checkpoint whose config.json carries a
    ``quantization_config`` keeps its stored widths on the device, so its ``stored_bytes`` count instead."""
    config = config or {}
    if parameters is not None and parameters < 0:
        raise ValueError("the parameter count cannot be negative")
    quantised = isinstance(config.get("quantization_config"), Mapping) and stored_bytes is not None
    if quantised or (str(dtype).lower() == "auto" and stored_bytes is not None):
        weights, label = stored_bytes, "its stored dtypes"
    else:
        label = canonical_dtype(dtype)
        weights = None if parameters is None else math.ceil(parameters * DTYPE_BYTES[label])
    return ModelFacts(
        parameters, weights, label, moe_of(config), _first_int(config, HEAD_KEYS), _first_int(config, LAYER_KEYS)
    )


def moe_of(config: Mapping[str, Any]) -> MoE | None:
    """The mixture-of-experts fields of a config.json (None for a dense model)."""
    experts = _first_int(config, EXPERT_KEYS)
    if experts is None or experts < 2:
        return None
    return MoE(experts, _first_int(config, EXPERTS_PER_TOKEN_KEYS))


def _first_int(config: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first positive whole number under one of ``keys``, in the config or its ``text_config``."""
    for section in (config, config.get("text_config")):
        if not isinstance(section, Mapping):
            continue
        for key in keys:
            value = section.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def plan_layout(model: ModelFacts, profile: ClusterProfile) -> Layout:
    """The layout of one evaluation of ``model`` on ``profile``; LayoutRefused says why none fits."""
    where = profile.display_name or profile.name
    if profile.gpus_per_node == 0:
        return Layout("hf", reasons=(f"{where} has no GPUs: lm-eval's hf backend on the CPU",))
    if model.weight_bytes is None:
        raise LayoutRefused("the model's parameter count is unknown, so the GPUs it needs cannot be planned")
    if not profile.gpu_memory_gb:
        raise LayoutRefused(
            f"cluster {profile.name} does not state gpu_memory_gb (the memory of one device), so "
            "the planner cannot tell how many devices the model needs; add it to its profile"
        )
    device = profile.gpu_memory_gb * GB * WEIGHTS_MAX_SHARE
    size = f"{human_bytes(model.weight_bytes)} of weights in {model.dtype}"
    budget = (
        f"weights may take at most {WEIGHTS_MAX_SHARE:.0%} of each {profile.gpu_memory_gb:g} GB device, "
        "the rest is for the KV cache and activations"
    )
    if model.parameters is not None and model.parameters < profile.vllm_min_parameters and model.weight_bytes <= device:
        return Layout(
            "hf",
            reasons=(
                f"{size} fit one device ({budget}); with {model.parameters:,} parameters, fewer "
                f"than {profile.vllm_min_parameters:,}, lm-eval's hf backend runs it there",
            ),
        )
    return _vllm_layout(model, profile, device, size, budget)


def _vllm_layout(model: ModelFacts, profile: ClusterProfile, device: float, size: str, budget: str) -> Layout:
    """vLLM on one node if the weights fit it, else on as few nodes as hold them, pipelined."""
    per_node = profile.gpus_per_node
    tp, why_tp = _tensor_parallel_size(model, per_node)
    reasons = [f"{size}; {budget}", *why_tp]
    if model.weight_bytes <= device * tp:
        reasons.append(f"they fit {tp} device(s) of one node: vLLM with tensor_parallel_size={tp}")
        return _with_experts(Layout("vllm", 1, tp, 1), model, reasons)
    nodes = math.ceil(model.weight_bytes / (device * per_node))
    node_gb = device * per_node / GB
    if nodes > profile.max_nodes:
        raise LayoutRefused(
            f"the model needs {nodes} nodes of {profile.display_name or profile.name} ({size}; "
            f"at most {node_gb:,.1f} GB of weights per node of {per_node} devices, as {budget}), "
            f"and cluster {profile.name} allows at most {profile.max_nodes} per evaluation"
        )
    stages = nodes * (per_node // tp)
    if model.layers is not None and stages > model.layers:
        raise LayoutRefused(
            f"the model has {model.layers} layers, too few for the {stages} pipeline stages its "
            f"size needs on {profile.name}"
        )
    reasons.append(
        f"at most {node_gb:,.1f} GB of weights fit one node of {per_node} devices: {nodes} node(s), "
        f"pipeline_parallel_size={stages} across them, tensor_parallel_size={tp} inside each stage, "
        "vLLM over a Ray cluster"
    )
    return _with_experts(Layout("vllm", nodes, tp, stages), model, reasons)


def _tensor_parallel_size(model: ModelFacts, per_node: int) -> tuple[int, list[str]]:
    """The node's device count, or its largest divisor that divides the attention heads (vLLM shards heads)."""
    heads = model.attention_heads
    if heads is None or heads % per_node == 0:
        return per_node, []
    tp = max(d for d in range(1, per_node + 1) if per_node % d == 0 and heads % d == 0)
    return tp, [
        f"vLLM splits the {heads} attention heads evenly, so tensor_parallel_size is {tp}, "
        f"not the node's {per_node} devices"
    ]


def _with_experts(layout: Layout, model: ModelFacts, reasons: list[str]) -> Layout:
    """Expert parallelism for a mixture of experts whose experts spread evenly over the tensor-parallel ranks."""
    moe, tp = model.moe, layout.tensor_parallel_size
    expert_parallel = moe is not None and tp > 1 and moe.experts % tp == 0
    if moe is not None:
        routed = f", {moe.experts_per_token} per token" if moe.experts_per_token else ""
        reasons.append(
            f"a mixture of {moe.experts} experts{routed}: "
            + (
                f"each of the {tp} tensor-parallel ranks holds {moe.experts // tp} whole experts (expert parallelism)"
                if expert_parallel
                else "the experts are sharded like the other weights"
            )
        )
    return Layout(layout.backend, layout.nodes, tp, layout.pipeline_parallel_size, expert_parallel, tuple(reasons))
