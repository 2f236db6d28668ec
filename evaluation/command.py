"""Build the lm-eval command line for one evaluation (pure: argv and env, nothing is run).

(``count_safetensors_parameters`` is the one function here that reads a file: the checkpoint's headers.)

Every knob that changes scores is pinned and written on the command line (batch size, dtype, seed, device,
limit, few-shot), so the results file records it and a rerun reproduces it.

Safety: ``trust_remote_code=False`` always, so an entrant's checkpoint never runs its own Python; with the
``hf`` backend ``use_safetensors=True`` always, so a pickle is never read. vLLM rejects ``use_safetensors``
(lm-eval passes model_args straight to ``vllm.LLM``), so there the same guarantee is ``load_format=safetensors``.

Few-shot: lm-eval takes a single ``--num_fewshot`` for all tasks of a run. Put per-task few-shot counts in the
task YAML (``num_fewshot:``), or split the tasks with ``split_by_fewshot`` and run one command per group.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

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
    log_samples: bool = True
    num_parameters: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class BackendPolicy:
    """When to switch from Hugging Face ``hf`` to ``vllm``, and how many GPUs vLLM shards the model over."""

    vllm_min_parameters: int = DEFAULT_VLLM_MIN_PARAMETERS
    gpus_per_node: int = 0
    gpu_memory_utilization: float = 0.85


@dataclass(frozen=True)
class Command:
    """An lm-eval invocation: the argv list, the extra environment, and the backend it chose."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    backend: str = "hf"


def choose_backend(spec: EvalSpec, policy: BackendPolicy) -> str:
    """``vllm`` for models at or above the policy's size on a GPU node, else ``hf``."""
    big = spec.num_parameters is not None and spec.num_parameters >= policy.vllm_min_parameters
    return "vllm" if big and policy.gpus_per_node > 0 else "hf"


def model_args(spec: EvalSpec, backend: str, policy: BackendPolicy) -> str:
    """The ``--model_args`` string; the safety arguments come last so nothing can override them."""
    args = [f"pretrained={spec.checkpoint}", f"dtype={spec.dtype}"]
    if spec.max_length:
        args.append(f"max_length={spec.max_length}")
    if backend == "vllm":
        args += [f"tensor_parallel_size={policy.gpus_per_node}",
                 f"gpu_memory_utilization={policy.gpu_memory_utilization}",
                 "load_format=safetensors", "trust_remote_code=False"]
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
) -> Command:
    """The argv and environment that run one evaluation with lm-eval, fully offline."""
    if not spec.tasks:
        raise ValueError("an evaluation needs at least one task")
    backend = choose_backend(spec, policy)
    argv = [*lm_eval, "--model", backend, "--model_args", model_args(spec, backend, policy),
            "--tasks", ",".join(spec.tasks), "--batch_size", str(spec.batch_size),
            "--seed", str(spec.seed), "--output_path", spec.output_path]
    if backend == "hf":
        argv += ["--device", spec.device]
    if spec.include_path:
        argv += ["--include_path", spec.include_path]
    if spec.limit is not None:
        argv += ["--limit", str(spec.limit)]
    if spec.num_fewshot is not None:
        argv += ["--num_fewshot", str(spec.num_fewshot)]
    if spec.log_samples:
        argv.append("--log_samples")
    return Command(argv=tuple(argv), env={**OFFLINE_ENV, **(extra_env or {})}, backend=backend)


def split_by_fewshot(fewshot: Mapping[str, int | None]) -> list[tuple[int | None, tuple[str, ...]]]:
    """Group tasks by few-shot count (one lm-eval run per group), in first-seen order of the counts."""
    groups: dict[int | None, list[str]] = {}
    for task, shots in fewshot.items():
        groups.setdefault(shots, []).append(task)
    return [(shots, tuple(tasks)) for shots, tasks in groups.items()]


def count_safetensors_parameters(checkpoint: str | Path) -> int:
    """The number of parameters in a checkpoint's ``*.safetensors`` files, read from their headers only."""
    total = 0
    for path in sorted(Path(checkpoint).glob("*.safetensors")):
        with open(path, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        for name, info in header.items():
            if name != "__metadata__":
                total += math.prod(info["shape"])
    return total
