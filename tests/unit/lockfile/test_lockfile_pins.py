"""uv.lock pins every package of every extra with hashes, agrees with pyproject.toml, and is what installs use.

Offline: uv reads only the lock, pyproject.toml and the machine's torch wheel, never a registry."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from evaluation.environment import locked_packages, uv_bootstrap_requirement

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "uv.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LINUX_X86_64 = "platform_machine == 'x86_64' and sys_platform == 'linux'"


def uv(*args: str, cwd: Path = ROOT, cache: Path) -> subprocess.CompletedProcess:
    """The locked uv (the dev extra), offline, with a cache of its own."""
    binary = Path(sys.executable).with_name("uv")
    assert binary.exists(), "uv comes with the dev extra: install with scripts/lib/venv.sh (ensure_venv eval,dev)"
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
    return subprocess.run([str(binary), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_lock_agrees_with_pyproject(tmp_path):
    local = [Path(p["source"]["path"]) for p in locked_packages(LOCK) if "path" in p["source"]]
    assert all(path.exists() for path in local), f"uv reads {local} to check the lock; this machine lacks one"
    result = uv("lock", "--check", "--python", sys.executable, cache=tmp_path)
    assert result.returncode == 0, f"uv.lock does not match pyproject.toml: run scripts/lock.sh\n{result.stderr}"


def test_a_requirement_changed_without_relocking_is_caught(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("uv.lock", "README.md"):
        shutil.copy(ROOT / name, project / name)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (project / "pyproject.toml").write_text(text.replace('"orjson>=3.10"', '"orjson>=99"'), encoding="utf-8")
    result = uv("lock", "--check", "--python", sys.executable, cwd=project, cache=tmp_path / "cache")
    assert result.returncode != 0


def test_the_lock_is_for_python_3_11_on_linux_x86_64():
    lock = tomllib.loads(LOCK.read_text(encoding="utf-8"))
    assert lock["requires-python"] == "==3.11.*"
    assert lock["supported-markers"] == [LINUX_X86_64]


def test_every_locked_file_has_a_sha256():
    unhashed = []
    for package in locked_packages(LOCK):
        if package["source"].get("editable") == ".":
            continue  # the project itself, from this checkout
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        if not files or any(not re.fullmatch(r"sha256:[0-9a-f]{64}", f.get("hash", "")) for f in files):
            unhashed.append(package["name"])
    assert unhashed == []


def test_torch_is_the_cpu_wheel_that_lies_on_the_machine_with_its_hash():
    [torch] = [p for p in locked_packages(LOCK) if p["name"] == "torch"]
    assert torch["version"].endswith("+cpu")
    assert torch["source"]["path"].startswith("/opt/wheels/torch-") and "+cpu-cp311" in torch["source"]["path"]
    assert [w["hash"][:7] for w in torch["wheels"]] == ["sha256:"]


@pytest.mark.parametrize("extras", [(), *[(name,) for name in PYPROJECT["project"]["optional-dependencies"]]])
def test_each_extra_installs_alone_from_exact_hashed_pins(extras, tmp_path):
    flags = [arg for name in extras for arg in ("--extra", name)]
    result = uv("export", "--frozen", "--no-emit-project", "--format", "requirements-txt", *flags, cache=tmp_path)
    assert result.returncode == 0, result.stderr
    requirements = [line for line in result.stdout.splitlines() if line and not line.startswith((" ", "#"))]
    assert requirements and all(re.match(r"[\w.-]+==[\w.+]+ ;|file:///opt/wheels/", r) for r in requirements)
    assert result.stdout.count("--hash=sha256:") >= len(requirements)
    if "eval" in extras:
        assert "file:///opt/wheels/torch-2.13.0+cpu-" in result.stdout
    if not extras:  # the web platform alone needs no torch, so no wheel of the machine's
        assert "torch" not in result.stdout


def test_the_uv_that_bootstraps_every_install_is_the_locked_one():
    lines = (ROOT / "scripts/lib/uv-requirements.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if not line.startswith("#")] == [uv_bootstrap_requirement(LOCK)]
