"""scripts/lib/venv.sh installs exactly the lock, once, and fails loudly on a wrong hash, a stale lock or a missing
local wheel. Each test runs the real script on a one-package project whose lock names a wheel it builds (offline)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UV = Path(sys.executable).with_name("uv")
PYPROJECT = """[project]
name = "tiny-project"
version = "0.1.0"
requires-python = ">=3.11,<3.12"
dependencies = ["tinypkg"]

[tool.uv]
package = false

[tool.uv.sources]
tinypkg = { path = "WHEEL" }
"""


def build_wheel(folder: Path, name: str = "tinypkg", version: str = "1.0") -> Path:
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


@pytest.fixture
def project(tmp_path):
    """A locked one-package project with the real scripts/lib and the dev extra's uv as its bootstrapped uv."""
    folder = tmp_path / "project"
    (folder / "scripts").mkdir(parents=True)
    shutil.copytree(ROOT / "scripts" / "lib", folder / "scripts" / "lib")
    version = re.search(r"^uv==(\S+) ", (ROOT / "scripts/lib/uv-requirements.txt").read_text(), re.M).group(1)
    (folder / ".tools" / f"uv-{version}" / "bin").mkdir(parents=True)
    (folder / ".tools" / f"uv-{version}" / "bin" / "uv").symlink_to(UV)
    wheel = build_wheel(tmp_path)
    (folder / "pyproject.toml").write_text(PYPROJECT.replace("WHEEL", str(wheel)))
    subprocess.run(
        [str(UV), "lock", "--python", sys.executable], cwd=folder, env=_env(tmp_path), check=True, capture_output=True
    )
    return folder


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "VIRTUAL_ENV": "",
    }


def ensure_venv(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", '. scripts/lib/venv.sh && ensure_venv ""'],
        cwd=folder,
        env=_env(folder.parent),
        capture_output=True,
        text=True,
        timeout=120,
    )


def installed(folder: Path) -> str:
    return subprocess.run(
        [str(folder / ".venv/bin/python"), "-c", "import tinypkg; print(tinypkg.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_the_locked_wheel_is_installed_once(project):
    first = ensure_venv(project)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "Installing the platform's Python packages from uv.lock" in first.stdout and installed(project) == "1.0"
    again = ensure_venv(project)
    assert again.returncode == 0 and again.stdout == ""  # the stamp: nothing to do


def test_a_file_whose_hash_differs_from_the_lock_fails_the_install(project):
    lock = project / "uv.lock"
    [digest] = re.findall(r'hash = "sha256:([0-9a-f]{64})"', lock.read_text())
    lock.write_text(lock.read_text().replace(digest, digest[:-1] + ("1" if digest[-1] == "0" else "0")))
    result = ensure_venv(project)
    assert result.returncode != 0
    assert "Hash mismatch" in result.stderr and "Installing the Python packages failed" in result.stderr
    assert not (project / ".venv" / ".lagc-installed").exists()


def test_a_dependency_added_without_relocking_fails_the_install(project, tmp_path):
    other = build_wheel(tmp_path, "otherpkg")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('dependencies = ["tinypkg"]', 'dependencies = ["tinypkg", "otherpkg"]')
    pyproject.write_text(f'{text}otherpkg = {{ path = "{other}" }}\n')
    result = ensure_venv(project)
    assert result.returncode != 0 and "Installing the Python packages failed" in result.stderr
    assert "needs to be updated" in result.stderr


def test_a_missing_local_wheel_fails_the_install_and_is_named(project, tmp_path):
    (tmp_path / "tinypkg-1.0-py3-none-any.whl").unlink()
    result = ensure_venv(project)
    assert result.returncode != 0 and "tinypkg-1.0-py3-none-any.whl" in result.stderr
