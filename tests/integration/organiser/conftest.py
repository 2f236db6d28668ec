"""Organiser console fixtures: a signed-in organiser and helpers for the configuration editor."""
from __future__ import annotations

import re
from html import unescape

import pytest

from app.accounts.models import Role
from tests.integration.conftest import csrf_token, sign_in

SHA = re.compile(r'id="previewed_sha256" name="previewed_sha256" type="hidden" value="([0-9a-f]*)"')


@pytest.fixture
def organiser(client, make_user):
    """The test client, signed in as an organiser (with the second factor)."""
    make_user("olga@lagc.eu", Role.organiser)
    sign_in(client, "olga@lagc.eu")
    return client


def previewed_sha(html: str) -> str:
    match = SHA.search(html)
    return match.group(1) if match else ""


def post_config(client, url: str, text: str, action: str = "preview", sha: str | None = None):
    """Send the editor's form: preview, or save with the sha256 of the previewed text."""
    html = client.get(url).get_data(as_text=True)
    data = {"text": text, "action": action, "csrf_token": csrf_token(html)}
    if sha is not None:
        data["previewed_sha256"] = sha
    return client.post(url, data=data)


def preview_then_save(client, url: str, text: str):
    """Preview, then save what was previewed; returns (preview response, save response)."""
    preview = post_config(client, url, text)
    return preview, post_config(client, url, text, "save", previewed_sha(preview.get_data(as_text=True)))


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))
