"""Checks every page the browser tests load: axe-core's WCAG 2.0/2.1 A and AA rules, unique ids, one label
per field, no sideways scrolling, at desktop and at phone width; and no Content-Security-Policy violation.

axe-core is fetched by `scripts/services/axe.sh fetch` (pinned version and integrity hash) and injected with
`page.evaluate`, which runs through the DevTools protocol: the platform's CSP stays as strict as it is.
The `page` fixture (tests/e2e/conftest.py) attaches a `PageChecker` to each page.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDTHS = (DESKTOP, PHONE)
CSP_MARK = "CSP violation:"

# Reports a CSP violation on the console, where the checker hears it (an init script: the DevTools protocol
# runs it before the page's own scripts, whatever the page's CSP says).
CSP_LISTENER = (
    """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('%s ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + e.sourceFile
                + ':' + e.lineNumber + ' ' + (e.sample || ''));
});
"""
    % CSP_MARK
)

# axe plus the project's own checks; returns one plain object per problem.
CHECK = """
async (tags) => {
  const problems = [];
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  for (const v of result.violations) {
    problems.push({rule: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.slice(0, 6).map((n) => n.target.join(' '))});
  }
  const counts = new Map();
  for (const el of document.querySelectorAll('[id]')) counts.set(el.id, (counts.get(el.id) || 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([id, n]) => `#${id} (${n} times)`);
  if (repeated.length) problems.push({rule: 'duplicate-id', impact: 'serious', help: 'Every id is unique on the page',
                                      targets: repeated});
  const fields = [...document.querySelectorAll('input, select, textarea')].filter((el) => el.type !== 'hidden');
  const several = fields.filter((el) => el.labels && el.labels.length > 1);
  if (several.length) problems.push({rule: 'one-label-per-field', impact: 'serious',
                                     help: 'Every field has exactly one label', targets: several.map((el) => el.id || el.name)});
  const wide = document.documentElement.scrollWidth;
  if (wide > window.innerWidth) problems.push({rule: 'no-sideways-scroll', impact: 'serious',
                                               help: `The page is ${wide} px wide in a ${window.innerWidth} px window`,
                                               targets: widest()});
  return problems;

  function widest() {
    return [...document.body.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
      .slice(0, 6).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''));
  }
}
"""

WHO = "() => (document.querySelector('header.site button.link .muted') || {}).textContent || 'the public'"


def axe_source() -> str:
    """The axe-core script: `LAGC_AXE_JS`, else the copy `scripts/services/axe.sh fetch` left in the services
    folder (checked against the pinned hash again, no network). Raises FileNotFoundError with what to run."""
    path = os.environ.get("LAGC_AXE_JS")
    if not path:
        found = subprocess.run(["bash", str(ROOT / "scripts/services/axe.sh"), "path"], capture_output=True, text=True)
        if found.returncode != 0:
            raise FileNotFoundError(
                "axe-core is not fetched: run `bash scripts/services/axe.sh fetch` "
                f"(scripts/test.sh does)\n{found.stderr.strip()}"
            )
        path = found.stdout.strip()
    return Path(path).read_text(encoding="utf-8")


@dataclass
class PageChecker:
    """Audits each document a page loads, once per signed-in person, method, URL and width; keeps the
    problems found and the CSP violations reported, for the test to fail on at its end."""

    page: object
    axe: str
    audited: set = field(default_factory=set)  # shared by every test of the session
    problems: list = field(default_factory=list)
    csp: list = field(default_factory=list)
    pending: str | None = None
    method: str = "GET"
    busy: bool = False

    def attach(self) -> "PageChecker":
        """Listen to the page: a loaded document waits for its audit, CSP reports are kept."""
        CHECKERS[id(self.page._impl_obj)] = self
        self.page.add_init_script(CSP_LISTENER)
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("load", self._loaded)
        return self

    def _console(self, message) -> None:
        if CSP_MARK in message.text or "Content Security Policy" in message.text:
            self.csp.append(f"{self.page.url}: {message.text}")

    def _response(self, response) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self.method = response.request.method

    def _loaded(self, _page=None) -> None:
        self.pending = self.page.url

    def flush(self) -> None:
        """Audit the document loaded since the last audit, if any (called before each action of the test)."""
        if self.busy or self.pending is None or self.page.is_closed():
            return
        url, self.pending = self.pending, None
        if urlsplit(url).scheme not in ("http", "https"):
            return
        from playwright.sync_api import Error

        self.busy = True
        try:
            self._audit(url)
        except Error as error:  # the document went away mid-audit (a navigation): audit its successor later
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
            self.pending = self.page.url
        finally:
            self.busy = False

    def _audit(self, url: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        url = page.url
        who = page.evaluate(WHO)
        keys = [(who, self.method, _path(url), size["width"]) for size in WIDTHS]
        if all(key in self.audited for key in keys):
            return
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe)
        original = page.viewport_size
        try:
            for key, size in zip(keys, WIDTHS):
                if key in self.audited:
                    continue
                page.set_viewport_size(size)
                found = page.evaluate(CHECK, AXE_TAGS)
                self.audited.add(key)
                self.problems += [_describe(problem, _path(url), who, size) for problem in found]
        finally:
            page.set_viewport_size(original)

    def detach(self) -> None:
        """Audit the last document, then stop listening."""
        self.flush()
        CHECKERS.pop(id(self.page._impl_obj), None)

    def report(self) -> str:
        """Every problem and CSP violation found, one per line (empty when none)."""
        return "\n".join(self.problems + self.csp)


# Page and Locator methods before which a newly loaded document is audited: the test's next step, while the
# document it reached is still there (a listener cannot audit safely: it runs beside the test's own steps).
PAGE_STEPS = (
    "goto",
    "reload",
    "go_back",
    "go_forward",
    "click",
    "dblclick",
    "fill",
    "press",
    "type",
    "check",
    "uncheck",
    "select_option",
    "set_input_files",
    "hover",
    "focus",
    "tap",
    "content",
    "screenshot",
    "inner_text",
    "text_content",
    "get_attribute",
    "evaluate",
    "close",
)
LOCATOR_STEPS = (
    "click",
    "dblclick",
    "fill",
    "press",
    "press_sequentially",
    "type",
    "check",
    "uncheck",
    "set_checked",
    "select_option",
    "set_input_files",
    "hover",
    "focus",
    "tap",
    "inner_text",
    "inner_html",
    "text_content",
    "all_inner_texts",
    "all_text_contents",
    "count",
    "is_visible",
    "is_hidden",
    "is_checked",
    "is_enabled",
    "get_attribute",
    "input_value",
    "screenshot",
    "evaluate",
    "wait_for",
    "bounding_box",
)
CHECKERS: dict[int, PageChecker] = {}


def install_step_hooks() -> None:
    """Wrap the Page and Locator steps above so that each first audits what its page loaded (idempotent)."""
    from playwright.sync_api import Locator, Page

    for cls, names, page_of in ((Page, PAGE_STEPS, lambda obj: obj), (Locator, LOCATOR_STEPS, lambda obj: obj.page)):
        for name in names:
            method = getattr(cls, name)
            if getattr(method, "_audits_first", False):
                continue
            setattr(cls, name, _auditing(method, page_of))


def _auditing(method, page_of):
    def step(self, *args, **kwargs):
        checker = CHECKERS.get(id(page_of(self)._impl_obj))
        if checker is not None:
            checker.flush()
        return method(self, *args, **kwargs)

    step._audits_first = True
    step.__name__, step.__doc__ = method.__name__, method.__doc__
    return step


def audit_now(page, axe: str, sizes=WIDTHS) -> list[str]:
    """Audit the document `page` shows now, at each size; returns the problems (used by the page walk)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe)
    found, who = [], page.evaluate(WHO)
    original = page.viewport_size
    try:
        for size in sizes:
            page.set_viewport_size(size)
            found += [_describe(problem, _path(page.url), who, size) for problem in page.evaluate(CHECK, AXE_TAGS)]
    finally:
        page.set_viewport_size(original)
    return found


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _describe(problem: dict, path: str, who: str, size: dict) -> str:
    targets = ", ".join(problem["targets"])
    return (
        f"{path} as {who} at {size['width']}x{size['height']}: {problem['rule']} ({problem['impact']}): "
        f"{problem['help']}: {targets}"
    )
