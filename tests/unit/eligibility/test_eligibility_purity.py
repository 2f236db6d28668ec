"""The eligibility core stays pure: standard library, its own modules and the platform's shared pure leaves
(app.visible, the rule for names, and app.errors, the refusal kinds; both standard library only) only, and no
clock."""

import ast
import sys
from pathlib import Path

import pytest

import app.eligibility

PACKAGE = Path(app.eligibility.__file__).parent
PURE_MODULES = ["__init__.py", "application.py", "countries.py", "rules.py"]
SHARED_PURE = {"app.visible", "app.errors"}  # in the import-linter contract of pure rules


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module)
    return roots


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_pure_core_imports_only_the_standard_library_and_itself(module):
    source = (PACKAGE / module).read_text()
    for name in imported_roots(source):
        assert (
            name.startswith("app.eligibility") or name in SHARED_PURE or name.split(".")[0] in sys.stdlib_module_names
        ), name
    assert ".now(" not in source and ".today(" not in source
