"""Keep a finished evaluation's raw results and per-item samples under the platform's storage.

    <storage>/evaluations/<evaluation id>/<path under the job's output folder>/results_<time>.json
    <storage>/evaluations/<evaluation id>/<path under the job's output folder>/samples_<task>_<time>.jsonl.gz

The job folder may be a cluster's scratch space, purged after a while and outside the backups; the storage
is the durable, backed-up place (``ops backup`` copies everything in it but uploads, staging and downloads).
The results files are copied byte for byte; the samples files (hundreds of KB to hundreds of MB, one JSON
line per item) are gzip-compressed, losslessly, at level 6 with no name or time in the header, so the same
samples always give the same bytes. gzip rather than zstd: Python 3.11 reads and writes it with no extra
dependency, and so does every tool (``zcat``, ``zgrep``, pandas); zstd -3 would save about 17% more on
HellaSwag and GSM8K samples (bench/evaluation.md), not worth a dependency. The provenance records each file's
sha256 of its uncompressed bytes, i.e. of the file exactly as lm-eval wrote it (``zcat FILE | sha256sum``),
and both sizes. The folder is built under a temporary name and renamed, so it is complete or absent, and
its files are read-only.

Evaluations recorded before samples were kept have no ``kept`` entry in their provenance: ``stored_items``
says so instead of comparing them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any, Iterable

from evaluation.models import Evaluation
from evaluation.samples import LmEvalRun, SamplesError, read_run, run_id, task_files, task_items
from scoring.paired import TaskItems

FOLDER = "evaluations"
GZIP_LEVEL = 6  # within 3% of level 9 on lm-eval's samples, several times faster
BLOCK = 1 << 20
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def evaluation_folder(storage_dir: str | Path, evaluation_id: int) -> Path:
    """Where an evaluation's results and samples are kept."""
    return Path(storage_dir) / FOLDER / str(int(evaluation_id))


def keep(outputs: Iterable[Path], storage_dir: str | Path, evaluation_id: int) -> dict[str, Any]:
    """Copy the results files and compress the samples files found under each output folder into the
    evaluation's storage folder (replacing what an interrupted earlier call left); return the provenance
    entry ``{"folder", "results": [...], "samples": {task: {...}}}`` with paths relative to the storage."""
    storage = Path(storage_dir)
    final = evaluation_folder(storage, evaluation_id)
    building = final.with_name(f".{evaluation_id}.{secrets.token_hex(4)}")
    building.mkdir(parents=True)
    results, samples = [], {}
    try:
        for out in outputs:
            for path in sorted(Path(out).rglob("*")):
                relative = path.relative_to(out)
                if path.name.startswith("results_") and path.suffix == ".json":
                    results.append(_entry(_copy(path, building / relative), final / relative, storage))
                elif path.name.startswith("samples_") and path.suffix == ".jsonl":
                    target = building / relative.with_name(path.name + ".gz")
                    task = path.name[len("samples_") :].rsplit("_", 1)[0]
                    samples[task] = _entry(_compress(path, target), final / target.relative_to(building), storage)
        _seal(building)
        _replace(building, final)
    except BaseException:
        _remove(building)
        raise
    return {"folder": str(final.relative_to(storage)), "results": results, "samples": samples}


def _entry(sizes: tuple[str, int, int], path: Path, storage: Path) -> dict[str, Any]:
    sha256, raw_bytes, stored_bytes = sizes
    return {"file": str(path.relative_to(storage)), "sha256": sha256, "bytes": raw_bytes, "stored_bytes": stored_bytes}


def _copy(source: Path, target: Path) -> tuple[str, int, int]:
    """Copy a file unchanged; (sha256, bytes, bytes stored)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        while block := src.read(BLOCK):
            digest.update(block)
            size += len(block)
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest(), size, size


def _compress(source: Path, target: Path) -> tuple[str, int, int]:
    """gzip a file (no name, time 0 in the header); (sha256 of the uncompressed bytes, their size, stored)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=raw, mtime=0) as dst:
            while block := src.read(BLOCK):
                digest.update(block)
                size += len(block)
                dst.write(block)
        raw.flush()
        os.fsync(raw.fileno())
    return digest.hexdigest(), size, target.stat().st_size


def _seal(folder: Path) -> None:
    """Files read-only; folders stay writable by the platform (so a replaced folder can be removed)."""
    for path in folder.rglob("*"):
        if path.is_file():
            os.chmod(path, READ_ONLY)


def _replace(building: Path, final: Path) -> None:
    """Put the built folder in place; an earlier one (from an ingest that did not commit) is removed first."""
    if final.exists():
        _remove(final)
    os.rename(building, final)
    descriptor = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)


def stored_items(
    ev: Evaluation, task: str, storage_dir: str | Path, metric: str | None = None, verify: bool = True
) -> TaskItems:
    """An evaluation's per-item values for one suite task (its counted metric unless ``metric`` is given),
    read from its kept samples, checked against their recorded sha256; SamplesError says why it cannot."""
    kept = (ev.provenance or {}).get("kept")
    if not kept:
        raise SamplesError(
            f"evaluation {ev.id} was recorded before per-item results were kept, so it cannot be "
            "compared item by item; run it again to compare it"
        )
    spec = next((t for t in ev.request.get("tasks", []) if t["name"] == task), None)
    if spec is None:
        raise SamplesError(f"evaluation {ev.id} has no task {task}")
    storage = Path(storage_dir).resolve()
    folder = (storage / kept["folder"]).resolve()
    if storage not in folder.parents or not folder.is_dir():
        raise SamplesError(f"the kept results of evaluation {ev.id} are missing from the storage ({kept['folder']})")
    run = read_run(folder)
    if verify:
        _verify(ev, kept, storage, run, spec["lm_eval_task"])
    items = task_items(run, spec["lm_eval_task"], metric or spec["metric"])
    return TaskItems(
        task, items.metric, items.doc_ids, items.values, items.task_hash, items.item_hashes, items.prompt_hashes
    )


def stored_run_id(ev: Evaluation) -> str:
    """The id a paired comparison seeds from (``scoring.paired.generator``): the same as ``read_run`` gives
    for the evaluation's kept folder, or its job's output folder; SamplesError when nothing was kept."""
    kept = (ev.provenance or {}).get("kept")
    if not kept or not kept.get("results"):
        raise SamplesError(f"evaluation {ev.id} was recorded before per-item results were kept")
    return run_id([entry["sha256"] for entry in kept["results"]])


def _verify(ev: Evaluation, kept: dict, storage: Path, run: LmEvalRun, lm_task: str) -> None:
    """Every kept file the task reads must hash to the sha256 recorded when it was kept."""
    recorded = {
        entry["file"]: entry["sha256"] for entry in [*kept.get("results", []), *(kept.get("samples") or {}).values()]
    }
    for path in task_files(run, lm_task):
        name = str(path.relative_to(storage))
        if name not in recorded:
            raise SamplesError(f"evaluation {ev.id}: {name} was not recorded when the results were kept")
        opener = gzip.open if path.suffix == ".gz" else open
        digest = hashlib.sha256()
        with opener(path, "rb") as fh:
            while block := fh.read(BLOCK):
                digest.update(block)
        if digest.hexdigest() != recorded[name]:
            raise SamplesError(f"evaluation {ev.id}: {name} does not match the sha256 recorded when it was kept")
