"""The official full texts Debian ships in /usr/share/common-licenses (package base-files, on every Debian
machine) are identified, also re-wrapped and with copyright lines and a heading added: the platform's own
reference texts are not the only thing the matcher is checked against."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.licences.texts import identify_text

COMMON = Path("/usr/share/common-licenses")
CASES = [
    ("Apache-2.0", "apache-2.0"),
    ("GPL-3", "gpl-3.0"),
    ("LGPL-3", "lgpl-3.0"),
    ("MPL-2.0", "mpl-2.0"),
    ("BSD", "bsd-3-clause"),
]


def reformatted(text: str) -> str:
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    body = "\n\n".join(textwrap.fill(p, width=72) for p in paragraphs if p)
    return "# LICENSE\n\nCopyright (c) 2026 Aurora Labs Oy. All rights reserved.\n\n" + body


@pytest.mark.parametrize("name, licence", CASES)
def test_an_official_full_text_is_identified_as_shipped_and_reformatted(name, licence):
    path = COMMON / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine (Debian's base-files ships it)")
    text = path.read_text(encoding="utf-8")
    assert identify_text(text.encode()).licence == licence
    assert identify_text(reformatted(text).encode()).licence == licence


def test_the_gpl_2_is_not_mistaken_for_a_licence_the_policy_passes():
    path = COMMON / "GPL-2"
    if not path.exists():
        pytest.skip("no GPL-2 text on this machine")
    assert identify_text(path.read_bytes()).licence not in {"gpl-3.0", "lgpl-3.0", "agpl-3.0"}
