"""Styles come from stylesheets only, so the Content-Security-Policy needs no 'unsafe-inline': no template,
script or server-rendered chart writes a style attribute or a <style> block."""

from __future__ import annotations

import re
from pathlib import Path

from leaderboard import charts

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("app", "evaluation", "leaderboard", "scoring")
STYLE_ATTRIBUTE = re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=""")
STYLE_BLOCK = re.compile(r"<style\b", re.IGNORECASE)
# A script may set CSS custom properties through the CSSOM (`el.style.setProperty('--x', ...)`), which the policy
# does not govern; a style attribute written as text (setAttribute, cssText, markup in a string) it blocks.
SCRIPT_STYLE_TEXT = re.compile(r"""setAttribute\(\s*["']style["']|\.cssText\b|style\s*=\s*\\?["']""")


def _files(pattern: str) -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).glob(pattern))


def test_no_template_has_a_style_attribute_or_a_style_block():
    templates = _files("**/templates/**/*.html")
    assert len(templates) > 40
    offending = [
        str(path.relative_to(ROOT))
        for path in templates
        if STYLE_ATTRIBUTE.search(path.read_text()) or STYLE_BLOCK.search(path.read_text())
    ]
    assert offending == []


def test_no_script_writes_a_style_attribute():
    scripts = _files("**/static/**/*.js")
    assert scripts
    assert [str(path.relative_to(ROOT)) for path in scripts if SCRIPT_STYLE_TEXT.search(path.read_text())] == []


def test_no_python_module_renders_a_style_attribute():
    modules = _files("**/*.py")
    offending = [
        str(path.relative_to(ROOT))
        for path in modules
        if STYLE_ATTRIBUTE.search(path.read_text()) or STYLE_BLOCK.search(path.read_text())
    ]
    assert offending == []


def test_the_charts_draw_with_classes_only():
    svg = (
        charts.task_profile(["arc_easy", "hellaswag"], [0.5, None], [0.02, None], [0.4, 0.3], "Aurora")
        + charts.distribution(["arc_easy"], [{"min": 0.1, "q1": 0.2, "median": 0.3, "q3": 0.4, "max": 0.9, "n": 5}])
        + charts.timeline([{"at": "2026-01-02T10:00", "best": 0.5, "median": 0.4, "best_so_far": 0.5, "n": 3}])
    )
    assert "style" not in svg
    assert 'class="bar"' in svg and 'class="box"' in svg and 'class="dot"' in svg


def test_the_stylesheet_checker_would_catch_an_inline_style():
    assert STYLE_ATTRIBUTE.search('<rect x="0" style="fill:red"/>')
    assert STYLE_BLOCK.search("<STYLE>p{}</STYLE>")
    assert SCRIPT_STYLE_TEXT.search('box.setAttribute("style", "color: red")')
    assert SCRIPT_STYLE_TEXT.search("el.innerHTML = '<b style=\"x\">'")
    assert not SCRIPT_STYLE_TEXT.search("el.style.setProperty('--done', '40%')")
