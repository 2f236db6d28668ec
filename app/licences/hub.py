"""Reading a released model from the Hugging Face Hub: resolve a revision to a commit, fetch its licence files.

The one network edge of the licence feature. It speaks the Hub's public REST API directly with `requests`
(`GET {endpoint}/api/models/{repo}/revision/{rev}` for the commit sha and file list, `GET
{endpoint}/{repo}/resolve/{sha}/{file}` for a file) rather than through `huggingface_hub`: those two calls are
all we need, bounded reads are easy to guarantee, and `huggingface_hub` refuses to go online when
`HF_HUB_OFFLINE=1` is set, which would make the check depend on the process's environment rather than on the
endpoint it is given. Tests point `endpoint` at a local fake Hub.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from app.licences.modelcard import MAX_README_BYTES
from app.licences.texts import MAX_LICENSE_BYTES
from app.licences.verify import CONFIG_NAMES, LICENSE_NAMES, MAX_CONFIG_BYTES, README_NAMES

DEFAULT_ENDPOINT = "https://huggingface.co"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
SHA = re.compile(r"^[0-9a-f]{40}$")
TIMEOUT = 15


class HubError(ValueError):
    """The release cannot be read from the Hub; the message says why, for the entrant."""


@dataclass(frozen=True)
class HubRelease:
    """A public model repo pinned at a commit, with the licence-relevant files read from that commit."""

    repo: str
    commit: str
    files: dict[str, bytes] = field(default_factory=dict)


def check_names(repo: str, revision: str) -> None:
    """Refuse repo ids and revisions that are not the Hub's shapes (and could escape the URL path)."""
    if not REPO_ID.match(repo or "") or ".." in repo:
        raise HubError("The Hub repository must look like owner/name.")
    if not REVISION.match(revision or "") or ".." in revision:
        raise HubError("The revision must be a branch, a tag or a commit sha.")


def fetch_release(endpoint: str, repo: str, revision: str, timeout: float = TIMEOUT) -> HubRelease:
    """Resolve `revision` of the public model `repo` to a commit and read its README, LICENSE and config."""
    check_names(repo, revision)
    base = endpoint.rstrip("/")
    info = _model_info(base, repo, revision, timeout)
    commit = info.get("sha")
    if not isinstance(commit, str) or not SHA.match(commit):
        raise HubError("The Hub did not say which commit this revision is.")
    if info.get("private") or info.get("gated"):
        raise HubError(f"{repo} is private or gated: the release must be public.")
    names = [s.get("rfilename") for s in info.get("siblings") or [] if isinstance(s, dict)]
    files = {}
    for name in names:
        limit = _limit(name)
        if limit is not None:
            files[name] = _download(f"{base}/{repo}/resolve/{commit}/{quote(name)}", limit, timeout)
    return HubRelease(repo=repo, commit=commit, files=files)


def _model_info(base: str, repo: str, revision: str, timeout: float) -> dict:
    url = f"{base}/api/models/{repo}/revision/{quote(revision, safe='')}"
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise HubError(f"The Hub could not be reached ({type(exc).__name__}).") from None
    if response.status_code in (401, 403, 404):
        raise HubError(f"{repo} at {revision} is not a public model on the Hub.")
    if response.status_code != 200:
        raise HubError(f"The Hub answered {response.status_code} for {repo}.")
    try:
        info = response.json()
    except ValueError:
        raise HubError("The Hub's answer was not JSON.") from None
    if not isinstance(info, dict):
        raise HubError("The Hub's answer was not a model description.")
    return info


def _limit(name: object) -> int | None:
    """How many bytes of a top-level file to read, or None when the licence check does not need it."""
    if not isinstance(name, str) or "/" in name:
        return None
    lower = name.lower()
    if lower in README_NAMES:
        return MAX_README_BYTES
    if lower in LICENSE_NAMES:
        return MAX_LICENSE_BYTES
    return MAX_CONFIG_BYTES if lower in CONFIG_NAMES else None


def _download(url: str, limit: int, timeout: float) -> bytes:
    """Read at most `limit + 1` bytes (one more tells the engine the file is too large)."""
    try:
        with requests.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                raise HubError(f"The Hub answered {response.status_code} for {url.rsplit('/', 1)[-1]}.")
            data = bytearray()
            for chunk in response.iter_content(65536):
                data.extend(chunk)
                if len(data) > limit:
                    break
            return bytes(data[: limit + 1])
    except requests.RequestException as exc:
        raise HubError(f"The Hub could not be reached ({type(exc).__name__}).") from None
