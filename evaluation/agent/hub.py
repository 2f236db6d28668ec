"""Downloading a file of a Hub submission at the site, at its pinned commit (``--hub``): through
``huggingface_hub``, the one Hub client the platform uses too. Imported only when the site reaches the Hub."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import constants, hf_hub_download


def hub_fetcher(endpoint: str):
    """A ``fetch(repo, commit, name, into) -> path`` for this Hub endpoint (no token: public repositories; a
    private one fails here and is fetched from the platform instead)."""

    def fetch(repo: str, commit: str, name: str, into: Path) -> Path:
        saved = constants.HF_HUB_OFFLINE  # the jobs run offline; this one download must not
        constants.HF_HUB_OFFLINE = False
        try:
            return Path(
                hf_hub_download(
                    repo,
                    name,
                    revision=commit,
                    endpoint=endpoint,
                    token=False,
                    local_dir=into / commit,
                    cache_dir=into / ".cache",
                )
            )
        finally:
            constants.HF_HUB_OFFLINE = saved

    return fetch
