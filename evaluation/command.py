"""Build the lm-eval command line for one evaluation (pure: argv and env, nothing is run).

Every knob that changes scores is pinned and written on the command line (batch size, dtype, seed, device,
limit, few-shot), so the results file records it and a rerun reproduces it. ``--log_samples`` is always on:
every evaluation writes its per-item results, which the platform keeps for paired comparisons.

Safety: ``trust_remote_code=False`` always, so an entrant's checkpoint never runs its own Python; with the
``hf`` backend ``use_safetensors=True`` always, so a pickle is never read. vLLM rejects ``use_safetensors``
(lm-eval passes model_args straight to ``vllm.LLM``), so there the same guarantee is ``load_format=safetensors``.

The backend and vLLM's parallel sizes come from a ``Layout`` (``evaluation.layout.plan_layout``); without one,
the single-node rule of ``BackendPolicy`` applies (vLLM over every GPU of the node from a size on, else hf).

Few-shot: lm-eval takes a single ``--num_fewshot`` for all tasks of a run. Put per-task few-shot counts in the
task YAML (``num_fewshot:``), or split the tasks with ``split_by_fewshot`` and run one command per group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from evaluation.layout import VLLM_GPU_MEMORY_UTILIZATION, Layout

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_ALLOW_CODE_EVAL": "0",
    "PYTHONUNBUFFERED": "1",
}

DEFAULT_VLLM_MIN_PARAMETERS = 3_000_000_000


@dataclass(frozen=True)
class EvalSpec:
    """What to evaluate and how. ``output_path`` is where lm-eval writes its results folder."""

    checkpoint: str
    tasks: tuple[str, ...]
    output_path: str
    include_path: str | None = None
    limit: int | float | None = None
    num_fewshot: int | None = None
    batch_size: int = 8
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    num_parameters: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class BackendPolicy:
    """When to switch from Hugging Face ``hf`` to ``vllm``, and how many GPUs vLLM shards the model over."""

    vllm_min_parameters: int = DEFAULT_VLLM_MIN_PARAMETERS
    gpus_per_node: int = 0
    gpu_memory_utilization: float = VLLM_GPU_MEMORY_UTILIZATION


@dataclass(frozen=True)
class Command:
    """An lm-eval invocation: the argv list, the extra environment, the backend it chose, and the layout
    the batch script must provide (None: one node, as for every hf run)."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    backend: str = "hf"
    layout: Layout | None = None


def choose_backend(spec: EvalSpec, policy: BackendPolicy) -> str:
    """``vllm`` for models at or above the policy's size on a GPU node, else ``hf``."""
    big = spec.num_parameters is not None and spec.num_parameters >= policy.vllm_min_parameters
    return "vllm" if big and policy.gpus_per_node > 0 else "hf"


def single_node_layout(spec: EvalSpec, policy: BackendPolicy) -> Layout:
    """The layout without a plan: ``choose_backend``'s backend, vLLM over every GPU of one node."""
    backend = choose_backend(spec, policy)
    return Layout(backend, tensor_parallel_size=policy.gpus_per_node if backend == "vllm" else 1)


def model_args(spec: EvalSpec, layout: Layout, policy: BackendPolicy) -> str:
    """The ``--model_args`` string; the safety arguments come last so nothing can override them."""
    args = [f"pretrained={spec.checkpoint}", f"dtype={spec.dtype}"]
    if spec.max_length:
        args.append(f"max_length={spec.max_length}")
    if layout.backend == "vllm":
        args.append(f"tensor_parallel_size={layout.tensor_parallel_size}")
        if layout.pipeline_parallel_size > 1:
            args.append(f"pipeline_parallel_size={layout.pipeline_parallel_size}")
        if layout.distributed_executor_backend:
            args.append(f"distributed_executor_backend={layout.distributed_executor_backend}")
        if layout.expert_parallel:
            args.append("enable_expert_parallel=True")
        args += [
            f"gpu_memory_utilization={policy.gpu_memory_utilization}",
            "load_format=safetensors",
            "trust_remote_code=False",
        ]
    else:
        args += ["use_safetensors=True", "trust_remote_code=False"]
    if "," in spec.checkpoint or "," in spec.dtype:
        raise ValueError(f"{spec.checkpoint!r} cannot be passed in lm-eval model_args (it contains a comma)")
    return ",".join(args)


def build_command(
    spec: EvalSpec,
    policy: BackendPolicy = BackendPolicy(),
    lm_eval: Sequence[str] = ("lm_eval",),
    extra_env: Mapping[str, str] | None = None,
    layout: Layout | None = None,
) -> Command:
    """The argv and environment that run one evaluation with lm-eval, fully offline, in the planned layout
    (without one: ``single_node_layout``)."""
    if not spec.tasks:
        raise ValueError("an evaluation needs at least one task")
    layout = layout or single_node_layout(spec, policy)
    backend = layout.backend
    argv = [
        *lm_eval,
        "--model",
        backend,
        "--model_args",
        model_args(spec, layout, policy),
        "--tasks",
        ",".join(spec.tasks),
        "--batch_size",
        str(spec.batch_size),
        "--seed",
        str(spec.seed),
        "--output_path",
        spec.output_path,
    ]
    if backend == "hf":
        argv += ["--device", spec.device]
    if spec.include_path:
        argv += ["--include_path", spec.include_path]
    if spec.limit is not None:
        argv += ["--limit", str(spec.limit)]
    if spec.num_fewshot is not None:
        argv += ["--num_fewshot", str(spec.num_fewshot)]
    argv.append("--log_samples")  # always: the per-item results paired comparisons need (evaluation.archive)
    return Command(argv=tuple(argv), env={**OFFLINE_ENV, **(extra_env or {})}, backend=backend, layout=layout)


def split_by_fewshot(fewshot: Mapping[str, int | None]) -> list[tuple[int | None, tuple[str, ...]]]:
    """Group tasks by few-shot count (one lm-eval run per group), in first-seen order of the counts."""
    groups: dict[int | None, list[str]] = {}
    for task, shots in fewshot.items():
        groups.setdefault(shots, []).append(task)
    return [(shots, tuple(tasks)) for shots, tasks in groups.items()]
