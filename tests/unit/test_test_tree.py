"""The test tree's own rules: no module imports a conftest module (pytest imports each conftest file under a
name of its own, so an imported copy is a second module with its own globals; shared builders live in
`tests/factories.py`, shared helpers in `tests/helpers.py`, and fixtures reach tests by name)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def conftest_imports(source: str) -> list[str]:
    """Each `import ... conftest` or `from ... conftest import ...` in the source, as 'line: statement'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] + [f"{node.module or ''}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        if any("conftest" in module.split(".") for module in modules):
            found.append(f"{node.lineno}: {ast.get_source_segment(source, node)}")
    return found


def test_no_module_of_the_tests_or_benchmarks_imports_a_conftest_module():
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (found := conftest_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "use a fixture, tests/factories.py or tests/helpers.py instead"


def test_the_check_sees_every_way_of_importing_a_conftest_module():
    source = (
        "from tests.integration.conftest import sign_in\nfrom .conftest import World\n"
        "from .. import conftest\nimport tests.e2e.conftest as c\nfrom tests.helpers import sign_in\n"
    )
    assert [line.split(":")[0] for line in conftest_imports(source)] == ["1", "2", "3", "4"]
