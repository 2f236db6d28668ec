"""What a site evaluation's request pins besides the platform's own: the checkpoint's files by sha256 (and its
Hub commit), the task suite's bundle and the task hashes a site's run of it must record."""

from __future__ import annotations

from typing import Any

from app.checkpoints.models import Submission, SubmissionSource
from app.settings import Settings
from evaluation.sites.bundle import BundleError, bundle_suite, reference_hashes
from evaluation.planning import SetupError


def pin_for_sites(request: dict[str, Any], submission: Submission, settings: Settings) -> dict[str, Any]:
    """The request with ``model``, ``suite`` and ``task_hashes`` added; SetupError when the suite cannot be
    bundled or its reference hashes computed (the evaluation then fails with that reason)."""
    sizes = {f["name"]: f.get("bytes") for f in submission.manifest or []}
    files = [
        {"name": name, "sha256": sha, "bytes": sizes.get(name)} for name, sha in sorted(request["model_files"].items())
    ]
    hub = None
    if submission.source == SubmissionSource.hub and submission.hub_repo and submission.hub_commit:
        hub = {"repo": submission.hub_repo, "commit": submission.hub_commit}
    suite, hashes = None, {}
    if request.get("include_path"):
        try:
            suite = bundle_suite(request["include_path"], settings.storage_dir)
            hashes = reference_hashes(settings.storage_dir, suite, request)
        except BundleError as exc:
            raise SetupError(str(exc)) from None
    return {
        **request,
        "model": {"sha256": request["model_sha256"], "files": files, "hub": hub},
        "suite": suite,
        "task_hashes": hashes,
    }
