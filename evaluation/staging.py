"""Staging a suite's datasets on a login node (compute nodes on EuroHPC systems have no internet).

``stage_command`` builds the command (pure); running ``python -m evaluation.staging --tasks ... --cache-dir
DIR`` on a machine with network access makes lm-eval download every task's dataset into DIR (through
``HF_DATASETS_CACHE``). Jobs then read DIR with ``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1`` (the
challenge's ``[evaluation] datasets_cache``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from evaluation.command import Command

ONLINE = {
    "HF_HUB_OFFLINE": "0",
    "HF_DATASETS_OFFLINE": "0",
    "TRANSFORMERS_OFFLINE": "0",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_ALLOW_CODE_EVAL": "0",
}


def stage_command(
    tasks: Sequence[str], cache_dir: str, include_path: str | None = None, python: str = sys.executable
) -> Command:
    """The command that downloads the datasets of ``tasks`` into ``cache_dir`` (network needed)."""
    if not tasks:
        raise ValueError("nothing to stage: the suite has no tasks")
    argv = [python, "-m", "evaluation.staging", "--tasks", ",".join(tasks), "--cache-dir", cache_dir]
    if include_path:
        argv += ["--include-path", include_path]
    return Command(argv=tuple(argv), env={**ONLINE, "HF_DATASETS_CACHE": cache_dir})


def main(argv: Sequence[str] | None = None) -> int:
    """Load every task with lm-eval, which downloads its dataset into HF_DATASETS_CACHE."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--include-path")
    args = parser.parse_args(argv)
    os.environ["HF_DATASETS_CACHE"] = args.cache_dir
    from lm_eval.tasks import TaskManager, get_task_dict

    manager = TaskManager(include_path=args.include_path)
    tasks = get_task_dict([t for t in args.tasks.split(",") if t], manager)
    print(f"staged {len(tasks)} tasks into {args.cache_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
