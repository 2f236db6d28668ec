"""The site API's data, shared by the platform and the site agent (pure: one definition both sides import).

A lease is one attempt of one evaluation held by one site. Its ``request`` is the evaluation's pinned request
as the site needs it: every platform path taken out (``checkpoint``, ``include_path``, ``datasets_cache``)
and, in their place, what to fetch: ``model`` (the checkpoint's files by sha256, and its Hub commit) and
``suite`` (the challenge's own task files as a content-addressed bundle). The agent puts its own staged
paths back (``local_request``) and builds the job with ``evaluation.jobspec``, as the scheduler does.

Task files may name their own folder by its absolute path (lm-eval reads ``data_files`` relative to the
working directory, so suites write absolute paths): the bundle carries ``SUITE_PLACEHOLDER`` there, and each
side writes its own folder in (``substitute``).
"""

from __future__ import annotations

from typing import Any, Mapping

# What an agent reports, in the order a job lives through them.
STAGED, SUBMITTING, SUBMITTED, RUNNING = "staged", "submitting", "submitted", "running"
FAILED, CANCELLED, RELEASED = "failed", "cancelled", "released"
EVENTS = (STAGED, SUBMITTING, SUBMITTED, RUNNING, FAILED, CANCELLED, RELEASED)

SHA256_HEADER = "X-Content-SHA256"
TOKEN_PREFIX = "lagc_site_"
SUITE_PLACEHOLDER = "@LAGC_SUITE_DIR@"
TEMPLATED_SUFFIXES = (".yaml", ".yml", ".py")  # lm-eval task configs and their helpers
PLATFORM_PATHS = ("checkpoint", "include_path", "datasets_cache")
API = "/api/v1/sites"


def site_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request as a site sees it: no path of the platform's storage, no other cluster's options."""
    return {key: value for key, value in request.items() if key not in (*PLATFORM_PATHS, "clusters")}


def local_request(
    request: Mapping[str, Any], checkpoint: str, include_path: str | None, datasets_cache: str | None
) -> dict[str, Any]:
    """The request with the site's own paths: the staged checkpoint and suite, and the site's dataset cache."""
    return {**request, "checkpoint": checkpoint, "include_path": include_path, "datasets_cache": datasets_cache}


def templated(path: str) -> bool:
    """Whether a suite file may carry the suite's folder (and so the placeholder)."""
    return path.endswith(TEMPLATED_SUFFIXES)


def substitute(data: bytes, path: str, suite_dir: str) -> bytes:
    """A bundle file as it is used in ``suite_dir``: the placeholder replaced by that folder."""
    return data.replace(SUITE_PLACEHOLDER.encode(), suite_dir.encode()) if templated(path) else data


def templatise(data: bytes, path: str, suite_dir: str) -> bytes:
    """A suite file as it travels: its own folder's absolute path replaced by the placeholder."""
    return data.replace(suite_dir.encode(), SUITE_PLACEHOLDER.encode()) if templated(path) else data


def hash_mismatches(reference: Mapping[str, str | None], recorded: Mapping[str, str | None]) -> list[str]:
    """Why the task hashes a run recorded differ from the platform's reference (empty when every task the
    reference covers was asked exactly the same questions)."""
    problems = []
    for task, expected in sorted(reference.items()):
        if expected is None:
            continue
        found = recorded.get(task)
        if found != expected:
            problems.append(
                f"{task}: the site's run recorded task hash {found or 'none'}, the platform's suite has {expected}"
            )
    return problems
