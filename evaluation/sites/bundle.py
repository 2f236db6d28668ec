"""A challenge's own task suite (its ``include_path``) as a content-addressed bundle the sites fetch.

When a site evaluation is queued, the suite folder is read once into ``<storage>/suites/<bundle sha256>/``
(the files as they travel: the folder's absolute path replaced by the placeholder, see
``evaluation.agent.protocol``; read-only; built under a temporary name and renamed, so it is complete or
absent), and the evaluation's request pins the bundle's manifest. A later change to the suite folder makes a
new bundle; evaluations in flight keep theirs. The bundle also yields the **reference task hashes**: lm-eval
run over it with a model that answers nothing (``evaluation.taskhash``, in a process of its own), cached in
the bundle folder per limit, few-shot count and seed. A site's results must record the same hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

import yaml

from evaluation.agent.protocol import substitute, templatise
from evaluation.jobspec import fewshot_groups
from evaluation.policy import model_digest

FOLDER = "suites"
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
TASK_HASH_TIMEOUT = 600


class BundleError(ValueError):
    """The suite cannot be bundled or its reference hashes computed (the message says why)."""


def bundle_folder(storage_dir: str | Path, sha256: str) -> Path:
    """Where a bundle's files are kept."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return Path(storage_dir) / FOLDER / sha256


def suite_paths(include_path: Path) -> list[Path]:
    """The suite's files, relative to its folder: everything but hidden names and Python caches."""
    found = []
    for path in sorted(include_path.rglob("*")):
        relative = path.relative_to(include_path)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file():
            found.append(relative)
    return found


def bundle_suite(include_path: str | Path, storage_dir: str | Path) -> dict[str, Any]:
    """Bundle the suite folder (reusing an identical earlier bundle); returns ``{"sha256", "files": [{"path",
    "sha256", "bytes"}]}`` for the request. BundleError when the folder cannot be read."""
    root = Path(include_path).resolve()
    try:
        contents = {str(rel): templatise((root / rel).read_bytes(), str(rel), str(root)) for rel in suite_paths(root)}
    except OSError as exc:
        raise BundleError(f"the task suite folder {root} cannot be read: {exc}") from None
    if not contents:
        raise BundleError(f"the task suite folder {root} holds no files")
    files = [
        {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for rel, data in contents.items()
    ]
    sha = model_digest((f["path"], f["sha256"]) for f in files)
    final = bundle_folder(storage_dir, sha)
    if not final.is_dir():
        _build(final, contents)
    return {"sha256": sha, "files": files}


def _build(final: Path, contents: Mapping[str, bytes]) -> None:
    building = final.with_name(f".{final.name}.{secrets.token_hex(4)}")
    building.mkdir(parents=True)
    try:
        for rel, data in contents.items():
            target = building / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(READ_ONLY)
        os.rename(building, final)
    except BaseException as exc:
        shutil.rmtree(building, ignore_errors=True)
        if isinstance(exc, OSError) and final.is_dir():
            return  # another process built the same bundle meanwhile: the same bytes
        raise


def file_path(storage_dir: str | Path, bundle: Mapping[str, Any], sha256: str) -> Path | None:
    """The stored file of the bundle with this sha256 (None when the bundle has none)."""
    for entry in bundle.get("files", ()):
        if entry["sha256"] == sha256:
            return bundle_folder(storage_dir, bundle["sha256"]) / entry["path"]
    return None


def bundle_tasks(storage_dir: str | Path, bundle: Mapping[str, Any]) -> set[str]:
    """The lm-eval task names the bundle's YAML files define (``task: name``)."""
    names: set[str] = set()
    folder = bundle_folder(storage_dir, bundle["sha256"])
    for entry in bundle["files"]:
        if entry["path"].endswith((".yaml", ".yml")):
            try:
                config = yaml.load((folder / entry["path"]).read_text(encoding="utf-8"), Loader=_TagBlindLoader)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            if isinstance(config, dict) and isinstance(config.get("task"), str):
                names.add(config["task"])
    return names


class _TagBlindLoader(yaml.SafeLoader):
    """YAML with lm-eval's ``!function`` tags read as plain values (the task name is all that is wanted)."""


_TagBlindLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def reference_hashes(
    storage_dir: str | Path, bundle: Mapping[str, Any], request: Mapping[str, Any], python: str = sys.executable
) -> dict[str, str]:
    """``{lm-eval task: hash}`` every run of the request must record, for the tasks the bundle defines
    (cached in the bundle's folder); BundleError when lm-eval cannot compute them here."""
    own = bundle_tasks(storage_dir, bundle)
    groups = [(shots, [t for t in tasks if t in own]) for shots, tasks in fewshot_groups(request)]
    key = hashlib.sha256(json.dumps([groups, request.get("limit"), request.get("seed")]).encode()).hexdigest()[:16]
    cache = bundle_folder(storage_dir, bundle["sha256"]) / f".task-hashes-{key}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    hashes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="lagc-suite-") as scratch:
        suite = materialise(storage_dir, bundle, Path(scratch))
        for shots, tasks in groups:
            if tasks:
                hashes.update(_run_taskhash(python, suite, tasks, request, shots))
    _write_once(cache, json.dumps(hashes, sort_keys=True))
    return hashes


def materialise(storage_dir: str | Path, bundle: Mapping[str, Any], target: Path) -> Path:
    """A usable copy of the bundle in ``target`` (the placeholder replaced by that folder), as a site makes."""
    folder = bundle_folder(storage_dir, bundle["sha256"])
    for entry in bundle["files"]:
        out = target / entry["path"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(substitute((folder / entry["path"]).read_bytes(), entry["path"], str(target)))
    return target


def _run_taskhash(
    python: str, suite: Path, tasks: list[str], request: Mapping[str, Any], shots: int | None
) -> dict[str, str]:
    argv = [
        python,
        "-m",
        "evaluation.taskhash",
        "--include-path",
        str(suite),
        "--tasks",
        ",".join(tasks),
        "--seed",
        str(request.get("seed") or 0),
    ]
    if request.get("limit") is not None:
        argv += ["--limit", str(request["limit"])]
    if shots is not None:
        argv += ["--num-fewshot", str(shots)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TASK_HASH_TIMEOUT, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BundleError(f"the suite's task hashes could not be computed: {exc}") from None
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])[-400:]
        raise BundleError(
            f"the suite's task hashes could not be computed (lm-eval is needed on the platform "
            f"for site evaluations): {tail}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _write_once(path: Path, text: str) -> None:
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
