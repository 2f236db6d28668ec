"""pyproject.toml says the truth: every distribution the platform's code imports is declared, as a runtime
dependency or in the evaluation extra (`test_web_only_install.py` runs the web-only install itself)."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "evaluation", "leaderboard", "scoring")


def declared(*groups: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"]) + [t for g in groups for t in project["optional-dependencies"][g]]
    return {canonicalize_name(Requirement(text).name) for text in texts}


def imported_modules() -> dict[str, str]:
    """Top-level third-party module -> the first file that imports it."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module]
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    else []
                )
                for name in names:
                    top = name.split(".")[0]
                    if top not in PACKAGES and top not in sys.stdlib_module_names:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_distribution_is_declared_in_pyproject():
    owners = importlib.metadata.packages_distributions()
    allowed = declared("eval")
    undeclared = {
        module: where
        for module, where in imported_modules().items()
        if not {canonicalize_name(d) for d in owners.get(module, [module])} & allowed
    }
    assert undeclared == {}, "import a declared distribution, or declare it (with a comment saying why)"
