"""Reading a released model from the Hugging Face Hub: resolve a revision to a commit, fetch its licence files.

The one network edge of the licence feature, through `app.hub` (huggingface_hub, `Settings.hub_endpoint`):
the model's description at the revision gives the commit sha and the file list, then the README, LICENSE
and config are read at that commit, each only up to one byte past the licence engine's limit. Tests point
the endpoint at a local fake Hub.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from app.hub import model_info, read_head
from app.licences.modelcard import MAX_README_BYTES
from app.licences.texts import MAX_LICENSE_BYTES
from app.licences.verify import CONFIG_NAMES, LICENSE_NAMES, MAX_CONFIG_BYTES, README_NAMES

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
    with _hub_errors(repo, revision):
        info = model_info(endpoint, repo, revision)
    commit = info.sha
    if not isinstance(commit, str) or not SHA.match(commit):
        raise HubError("The Hub did not say which commit this revision is.")
    if info.private or info.gated:
        raise HubError(f"{repo} is private or gated: the release must be public.")
    files = {}
    for sibling in info.siblings or ():
        limit = _limit(sibling.rfilename)
        if limit is not None:
            with _hub_errors(repo, revision, sibling.rfilename):
                files[sibling.rfilename] = read_head(endpoint, repo, commit, sibling.rfilename, limit + 1, timeout)
    return HubRelease(repo=repo, commit=commit, files=files)


@contextmanager
def _hub_errors(repo: str, revision: str, filename: str | None = None) -> Iterator[None]:
    """huggingface_hub's exceptions in words an entrant can act on."""
    from huggingface_hub import errors

    try:
        yield
    except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError, errors.GatedRepoError):
        raise HubError(f"{repo} at {revision} is not a public model on the Hub.") from None
    except errors.HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "an error"
        raise HubError(f"The Hub answered {status} for {filename or repo}.") from None
    except ValueError:  # an answer that is not the JSON of a model description
        raise HubError("The Hub's answer was not a model description.") from None
    except Exception as error:  # the transport's errors (connection refused, timeout, ...)
        if isinstance(error, OSError) or type(error).__module__.split(".")[0].startswith("httpx"):
            raise HubError(f"The Hub could not be reached ({type(error).__name__}).") from None
        raise


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
