"""Submissions by reference to a Hugging Face Hub model repository.

At submission time (in the web request: metadata only) the revision is resolved to a commit sha, so the
model cannot change afterwards, and the accepted file names are chosen. The download runs in the
scheduler (`jobs.py`), of exactly those files at exactly that commit (`allow_patterns`). A token for a
private or gated repository is stored Fernet-encrypted (key derived from SECRET_KEY) and erased once the
download ends, whatever its outcome. The Hub is `Settings.hub_endpoint` (`HF_ENDPOINT`), reached through
`app.hub` like every Hub call, so tests point it at a fake server.
"""

from __future__ import annotations

import base64
import glob
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from app.checkpoints.filenames import check_filename
from app.errors import DomainError, Kind
from app.hub import hub_online, model_info
from app.settings import Settings

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
MAX_SKIPPED_SHOWN = 20


class HubError(DomainError, ValueError):
    """The Hub refused the reference (invalid) or could not answer (unavailable)."""

    def __init__(self, kind: Kind, message: str):
        super().__init__(message, kind=kind)


@dataclass(frozen=True)
class HubSnapshot:
    """A resolved revision: its commit, the files we will download (name, bytes), what we skip and why."""

    commit: str
    files: tuple[tuple[str, int], ...]
    skipped: tuple[str, ...]


def check_reference(repo: str, revision: str) -> list[tuple[str, str]]:
    """(field, message) for a malformed repository id or revision; empty when both look right."""
    problems = []
    if not REPO_ID.match(repo or "") or ".." in repo:
        problems.append(("hub_repo", "Give the repository as organisation/name, e.g. aurora-labs/aurora-30b."))
    if not REVISION.match(revision or "") or ".." in revision:
        problems.append(("hub_revision", "Give a branch, tag or commit, e.g. main or v1.0."))
    return problems


def resolve(repo: str, revision: str, token: str | None, endpoint: str) -> HubSnapshot:
    """Pin `revision` of model `repo` to its commit and choose the files to download (names only)."""
    with _hub_errors(repo, revision):
        info = model_info(endpoint, repo, revision, token, files_metadata=True)
    files, skipped = [], []
    for sibling in info.siblings or ():
        problem = check_filename(sibling.rfilename)
        if problem is None:
            files.append((sibling.rfilename, int(sibling.size or 0)))
        elif not sibling.rfilename.startswith("."):
            skipped.append(f"not downloaded: {problem}")
    if not info.sha or not re.fullmatch(r"[0-9a-f]{40}", info.sha):
        raise HubError(Kind.unavailable, "The Hub did not say which commit this revision is.")
    return HubSnapshot(info.sha, tuple(sorted(files)), tuple(skipped[:MAX_SKIPPED_SHOWN]))


def download(repo: str, commit: str, names: list[str], token: str | None, endpoint: str, into: Path) -> Path:
    """Download exactly `names` of `repo` at `commit` into `into`/files; returns that folder."""
    from huggingface_hub import snapshot_download

    with hub_online(), _hub_errors(repo, commit):
        folder = snapshot_download(
            repo,
            revision=commit,
            allow_patterns=[glob.escape(n) for n in names],
            local_dir=into / "files",
            cache_dir=into / "cache",
            token=token or False,
            endpoint=endpoint,
            max_workers=2,
        )
    return Path(folder)


@contextmanager
def _hub_errors(repo: str, revision: str) -> Iterator[None]:
    """Turn huggingface_hub's exceptions into messages an entrant can act on."""
    from huggingface_hub import errors

    try:
        yield
    except errors.GatedRepoError:
        raise HubError(
            Kind.invalid, f"{repo} is gated: accept its conditions on the Hub and give a token that may read it."
        ) from None
    except errors.RevisionNotFoundError:
        raise HubError(Kind.invalid, f"{repo} has no revision {revision!r}.") from None
    except errors.RepositoryNotFoundError:
        raise HubError(
            Kind.invalid, f"{repo} was not found, or it is private and no token that may read it was given."
        ) from None
    except errors.HfHubHTTPError as error:
        raise HubError(
            Kind.unavailable, f"The Hub answered with an error: {str(error).splitlines()[0][:200]}"
        ) from None
    except OSError as error:
        raise HubError(Kind.unavailable, f"The Hub could not be reached: {str(error)[:200]}") from None
    except Exception as error:  # httpx's transport errors are not OSErrors
        if type(error).__module__.split(".")[0].startswith("httpx"):
            raise HubError(Kind.unavailable, f"The Hub could not be reached: {str(error)[:200]}") from None
        raise


def _fernet(settings: Settings):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lagc hub token encryption").derive(
        settings.secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_token(settings: Settings, token: str) -> str:
    """The token, encrypted for storage until the download."""
    return _fernet(settings).encrypt(token.encode("utf-8")).decode("ascii")


def decrypt_token(settings: Settings, stored: str | None) -> str | None:
    """The stored token in clear, or None when there is none (or SECRET_KEY changed since)."""
    from cryptography.fernet import InvalidToken

    if not stored:
        return None
    try:
        return _fernet(settings).decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return None
