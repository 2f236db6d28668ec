"""A site's results: each output file uploaded unchanged with its sha256, then the result that ingests them.

Files land under ``<storage>/sites/<evaluation>/attempt-<n>/`` at the path they had under the job folder
(``output/<model>/results_*.json``, ``output/<model>/samples_<task>_*.jsonl``; ``output/shots-K/...`` for
several few-shot groups), written under a temporary name, checked against the announced sha256, made
read-only and renamed; one ``SiteUpload`` row per file. The same file again is the same answer; another
file under a path already uploaded is refused. The result then reads that folder through
``evaluation.ingest.settle``, the scheduler's own code, once: its compare-and-set claim (``leases.claim_end``)
lets exactly one request ingest an attempt, and the task hashes lm-eval recorded must equal the reference
the platform computed for the suite (``task_hashes`` in the request), or nothing is ingested.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import stat
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Mapping

from sqlmodel import Session, select

from app.settings import Settings
from evaluation import services
from evaluation.agent.protocol import hash_mismatches
from evaluation.ingest import read_results, settle
from evaluation.models import Evaluation, EvaluationState as S, Site, SiteUpload
from evaluation.results import ResultsError
from evaluation.runners.base import SUCCEEDED
from evaluation.sites.leases import claim_end, pinned_profile, retry_delay, status_from
from evaluation.sites.services import HELD, SiteError

FOLDER = "sites"
OUTPUT_NAME = re.compile(r"^(results_[^/]+\.json|samples_[^/]+\.jsonl)$")
PART = re.compile(r"^[A-Za-z0-9._+-]{1,255}$")
BLOCK = 1 << 20


def upload_folder(storage_dir: str | Path, evaluation_id: int, attempt: int) -> Path:
    """Where an attempt's uploaded outputs are kept (the job folder the platform ingests from)."""
    return Path(storage_dir) / FOLDER / str(int(evaluation_id)) / f"attempt-{int(attempt)}"


def check_output_path(path: str) -> str:
    """The upload's path under the job folder, if it names one of lm-eval's output files; SiteError else."""
    parts = PurePosixPath(path).parts
    if (
        len(path) > 500
        or not parts
        or parts[0] != "output"
        or len(parts) > 5
        or not all(PART.match(p) and p not in (".", "..") for p in parts)
        or not OUTPUT_NAME.match(parts[-1])
    ):
        raise SiteError(
            "an output is output/.../results_*.json or output/.../samples_*.jsonl under the job folder", 422, "path"
        )
    return "/".join(parts)


def store_output(
    session: Session,
    settings: Settings,
    site: Site,
    ev: Evaluation,
    path: str,
    sha256: str,
    body: BinaryIO,
    length: int,
    now: datetime,
) -> tuple[SiteUpload, bool]:
    """Keep one uploaded file; (its row, whether it is new). SiteError for a wrong sha256, a conflicting file
    or an attempt that no longer takes uploads."""
    path = check_output_path(path)
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise SiteError("send the file's sha256 (64 lower-case hex digits) in X-Content-SHA256", 422, "sha256")
    found = session.exec(
        select(SiteUpload).where(
            SiteUpload.evaluation_id == ev.id, SiteUpload.attempt == ev.attempt, SiteUpload.path == path
        )
    ).first()
    if found is not None:
        if found.sha256 != sha256:
            raise SiteError(f"{path} was already uploaded with sha256 {found.sha256}", 409, "sha256")
        return found, False
    if S(ev.state) not in HELD or ev.finished_at is not None:
        raise SiteError(f"evaluation {ev.id} is {S(ev.state).value}: it takes no more uploads", 409)
    if length > settings.site_upload_max_bytes:
        raise SiteError(f"the file is larger than the {settings.site_upload_max_bytes:,} bytes a site may upload", 413)
    target = upload_folder(settings.storage_dir, ev.id, ev.attempt) / path
    _receive(body, length, target, sha256)
    row = SiteUpload(
        evaluation_id=ev.id,
        attempt=ev.attempt,
        site_id=site.id,
        path=path,
        sha256=sha256,
        bytes=length,
        uploaded_at=now,
    )
    session.add(row)
    services.audit(session, ev, "evaluation.output_uploaded", site=site.name, path=path, sha256=sha256, bytes=length)
    return row, True


def _receive(body: BinaryIO, length: int, target: Path, sha256: str) -> None:
    """Copy exactly ``length`` bytes into ``target`` (read-only), if their sha256 is the announced one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    digest, remaining = hashlib.sha256(), length
    try:
        with open(temporary, "wb") as out:
            while remaining:
                try:
                    block = body.read(min(BLOCK, remaining))
                except (OSError, ValueError):
                    block = b""
                if not block:
                    raise SiteError(f"the upload ended {remaining:,} bytes early; send it again", 400)
                digest.update(block)
                out.write(block)
                remaining -= len(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise SiteError(f"the file's sha256 is {digest.hexdigest()}, not {sha256}: it was refused", 422, "sha256")
        os.chmod(temporary, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def settle_result(
    session: Session, settings: Settings, site: Site, ev: Evaluation, body: Mapping[str, Any], now: datetime
) -> list[str]:
    """Ingest a succeeded job from its uploaded outputs, once (the same result again changes nothing). Returns
    why the results were refused (the suite's task hashes differ: the attempt failed, to be retried), or
    nothing; SiteError when outputs are missing or the attempt no longer wants a result."""
    if S(ev.state) == S.finished:
        return []
    if S(ev.state) not in HELD:
        raise SiteError(f"evaluation {ev.id} is {S(ev.state).value}: its result is no longer wanted", 409)
    _check_listed(session, ev, body.get("outputs") or [])
    folder = upload_folder(settings.storage_dir, ev.id, ev.attempt)
    mismatches = _task_hash_mismatches(ev, folder)
    if not claim_end(session, ev, site, now):
        session.refresh(ev)
        if S(ev.state) == S.finished:
            return []
        raise SiteError(f"evaluation {ev.id} is {S(ev.state).value}: its result is no longer wanted", 409)
    if mismatches:
        services.fail(
            session,
            ev,
            "the results were refused: the task suite the site ran differs from the "
            "platform's (" + "; ".join(mismatches)[:1500] + ")",
            (),
            retryable=True,
            now=now,
            retry_delay=retry_delay(session, settings, ev),
        )
        services.audit(session, ev, "evaluation.result_refused", site=site.name, reasons=mismatches)
        return mismatches
    status = status_from({**(body.get("status") or {}), "reason": "", "retryable": False}, SUCCEEDED)
    provenance = {**dict(body.get("provenance") or {}), "site": site.name}
    settle(
        session,
        ev,
        status,
        pinned_profile(ev),
        now,
        retry_delay(session, settings, ev),
        settings,
        job_dir=folder,
        site=provenance,
    )
    services.audit(session, ev, "evaluation.result", site=site.name, state=S(ev.state).value)
    return []


def discard_uploads(settings: Settings, ev: Evaluation) -> None:
    """Once an attempt is ingested its outputs are kept in the storage (``evaluation.archive``: the results as
    they are, the samples compressed): the uploaded copies go. Their rows stay, so the same upload again gets
    the same answer."""
    shutil.rmtree(upload_folder(settings.storage_dir, ev.id, ev.attempt), ignore_errors=True)


def _check_listed(session: Session, ev: Evaluation, outputs: list) -> None:
    """Every output the result lists was uploaded, with the same sha256."""
    uploaded = {
        u.path: u.sha256
        for u in session.exec(
            select(SiteUpload).where(SiteUpload.evaluation_id == ev.id, SiteUpload.attempt == ev.attempt)
        ).all()
    }
    missing = []
    for entry in outputs:
        path = check_output_path(str(entry.get("path", "")))
        if uploaded.get(path) != entry.get("sha256"):
            missing.append(path)
    if missing or not outputs:
        raise SiteError(
            "upload these outputs (with the same sha256) before the result: "
            + (", ".join(missing[:10]) or "the results files"),
            409,
            "outputs",
        )


def _task_hash_mismatches(ev: Evaluation, folder: Path) -> list[str]:
    """How the task hashes in the uploaded results differ from the platform's reference (results that cannot
    be read are left to ingestion, which fails the attempt with the reason)."""
    try:
        results = read_results(ev, folder)
    except ResultsError:
        return []
    recorded = {name: task.task_hash for r in results for name, task in r.tasks.items()}
    return hash_mismatches((ev.request or {}).get("task_hashes") or {}, recorded)
