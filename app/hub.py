"""The Hugging Face Hub, the platform's one outside service: every call goes through `huggingface_hub`, at the
endpoint `Settings.hub_endpoint` (`HF_ENDPOINT`). Intake (`app.checkpoints.hub`) pins revisions and downloads
checkpoints; the release check (`app.licences.hub`) reads a released model's licence files.

huggingface_hub reads HF_HUB_OFFLINE once, at import, into `huggingface_hub.constants.HF_HUB_OFFLINE`, and
refuses every request while it is true. The platform's own calls must reach the Hub even where offline mode
protects the evaluation (lm-eval, transformers), so `hub_online()` clears that flag for the duration of our
calls only (the scheduler and gunicorn's sync workers run one call at a time).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def hub_online() -> Iterator[None]:
    """Let huggingface_hub make requests even when HF_HUB_OFFLINE=1 was set for the rest of the process."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


def model_info(endpoint: str, repo: str, revision: str, token: str | None = None, files_metadata: bool = False):
    """The Hub's description of model `repo` at `revision` (its commit, files, privacy); huggingface_hub's
    errors propagate for the caller to put in its own words."""
    from huggingface_hub import HfApi

    with hub_online():
        return HfApi(endpoint=endpoint).model_info(
            repo, revision=revision, token=token or False, files_metadata=files_metadata
        )


def read_head(endpoint: str, repo: str, commit: str, filename: str, limit: int, timeout: float) -> bytes:
    """At most `limit` bytes from the start of a file of `repo` at `commit` (a ranged read: a huge file costs
    no more than its head). huggingface_hub's HTTP client, URL and error types; no retries."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff

    url = hf_hub_url(repo, filename, revision=commit, endpoint=endpoint)
    headers = {**build_hf_headers(token=False), "Range": f"bytes=0-{limit - 1}"}
    data = bytearray()
    with (
        hub_online(),
        http_stream_backoff(
            "GET", url, max_retries=0, headers=headers, timeout=timeout, follow_redirects=True
        ) as response,
    ):
        hf_raise_for_status(response)
        for chunk in response.iter_bytes():
            data.extend(chunk)
            if len(data) >= limit:
                break
    return bytes(data[:limit])
