"""The software a run used: uv.lock, its sha256, and whether this Python's installed packages are the locked ones.

uv.lock (written by ``scripts/lock.sh``) pins every package of every extra with its hashes, and the install
scripts install exactly it. Its sha256 therefore names an environment: two evaluations whose provenance
records the same lock hash ran with the same version of every package. The hash is recorded only when the
packages installed in this Python are versions the lock pins (``environment_lock_sha256``); an environment
that drifted from its lock (a package installed or upgraded by hand) records none rather than a false name.

Reading only: no web, database or process code, so a site's agent can report the same for its environment.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Mapping

log = logging.getLogger("lagc.environment")

# A virtual environment's own installers: one made by `python -m venv` has them, in its own versions, whatever
# the lock says; uv leaves them be. They take no part in a run, so they are not compared.
SEED_PACKAGES = frozenset({"pip", "setuptools", "wheel"})
UV_WHEEL_PLATFORM = "manylinux_2_17_x86_64"  # the machines' platform (pyproject.toml, [tool.uv] environments)


def normalise(name: str) -> str:
    """A distribution name as the lock writes it (PEP 503: lower case, runs of -_. as one -)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_sha256(lock_file: Path) -> str:
    """The sha256 (hex) of the lock file's bytes."""
    return hashlib.sha256(Path(lock_file).read_bytes()).hexdigest()


def locked_packages(lock_file: Path) -> list[dict]:
    """The lock's ``[[package]]`` tables (name, version, source, wheels with their hashes, ...)."""
    return tomllib.loads(Path(lock_file).read_text(encoding="utf-8")).get("package", [])


def locked_versions(lock_file: Path) -> dict[str, frozenset[str]]:
    """Every package the lock pins, with the version(s) it pins (several only where markers fork it)."""
    versions: dict[str, set[str]] = {}
    for package in locked_packages(lock_file):
        versions.setdefault(normalise(package["name"]), set()).add(package["version"])
    return {name: frozenset(found) for name, found in versions.items()}


def locked_version(lock_file: Path, name: str) -> str:
    """The one version the lock pins for a package (ValueError when it pins none or several)."""
    found = locked_versions(lock_file).get(normalise(name), frozenset())
    if len(found) != 1:
        raise ValueError(f"{lock_file} pins {len(found)} versions of {name}, not one")
    return next(iter(found))


def installed_versions() -> dict[str, str]:
    """The distributions this Python imports from, name to version (the first on sys.path wins, as for import)."""
    installed: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            installed.setdefault(normalise(name), dist.version)
    return installed


def differences(locked: Mapping[str, frozenset[str]], installed: Mapping[str, str]) -> list[str]:
    """Why the installed packages are not versions the lock pins (empty when they are). Packages of extras that
    are not installed do not count: an environment may hold any subset of the lock."""
    found = []
    for name, version in sorted(installed.items()):
        if name in SEED_PACKAGES:
            continue
        if name not in locked:
            found.append(f"{name} {version} is installed, the lock has no such package")
        elif version not in locked[name]:
            found.append(f"{name} {version} is installed, the lock pins {', '.join(sorted(locked[name]))}")
    return found


def lock_differences(lock_file: Path) -> list[str]:
    """How this Python's installed packages differ from what ``lock_file`` pins (empty when they are pinned
    versions); a lock that cannot be read is one difference."""
    try:
        return differences(locked_versions(lock_file), installed_versions())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError) as exc:
        return [f"the lock {lock_file} cannot be read ({exc})"]


def environment_lock_sha256(lock_file: Path) -> str | None:
    """The sha256 of ``lock_file`` when every package installed in this Python is a version it pins, else None
    (no readable lock, or an environment that drifted from it: logged as a warning with the differences)."""
    drift = lock_differences(lock_file)
    if drift:
        log.warning(
            "this environment is not the one %s pins, so it has no lock hash: %s",
            lock_file,
            "; ".join(drift[:5]) + ("; ..." if len(drift) > 5 else ""),
        )
        return None
    return lock_sha256(lock_file)


def uv_bootstrap_requirement(lock_file: Path) -> str:
    """The pip requirement that bootstraps the locked uv on the machines: its version and its wheel's hash."""
    wheels = [
        (p["version"], w)
        for p in locked_packages(lock_file)
        if p["name"] == "uv"
        for w in p.get("wheels", [])
        if UV_WHEEL_PLATFORM in w.get("url", "")
    ]
    if len(wheels) != 1:
        raise ValueError(
            f"{lock_file} pins {len(wheels)} uv wheels for {UV_WHEEL_PLATFORM}, not one "
            "(uv belongs in the dev extra of pyproject.toml)"
        )
    version, wheel = wheels[0]
    return f"uv=={version} --hash={wheel['hash']}"


def extra_requirements(lock_file: Path, project: str, extra: str) -> list[str]:
    """The pip requirements, each ``name==version`` with every locked file's hash, of one extra of the project
    and everything it needs, from the lock: what ``pip install --no-deps --require-hashes -r`` installs for that
    extra alone (the project's base dependencies not included). ValueError for an unknown extra."""
    packages: dict[str, list[dict]] = {}
    for package in locked_packages(lock_file):
        packages.setdefault(normalise(package["name"]), []).append(package)
    [root] = packages[normalise(project)]
    if extra not in root.get("optional-dependencies", {}):
        raise ValueError(f"{project} has no extra {extra!r} in {lock_file}")
    markers: dict[str, set[str | None]] = {}
    todo = [(d, None) for d in root["optional-dependencies"][extra]]
    while todo:
        dependency, inherited = todo.pop()
        name, marker = normalise(dependency["name"]), dependency.get("marker") or inherited
        if name not in packages or marker in markers.get(name, set()):
            continue  # a package the lock's environments never install, or one already taken this way
        markers.setdefault(name, set()).add(marker)
        for package in packages[name]:
            todo += [(d, marker) for d in package.get("dependencies", [])]
            for wanted in dependency.get("extra", []):
                todo += [(d, marker) for d in package.get("optional-dependencies", {}).get(wanted, [])]
    return [_requirement(name, packages[name], markers[name]) for name in sorted(markers)]


def _requirement(name: str, packages: list[dict], markers: set[str | None]) -> str:
    if len(packages) != 1:
        raise ValueError(f"the lock pins {len(packages)} versions of {name}: write its requirement by hand")
    package = packages[0]
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    condition = "" if None in markers else " ; " + " or ".join(f"({m})" for m in sorted(markers))
    hashes = "".join(f" \\\n    --hash={f['hash']}" for f in files if "hash" in f)
    return f"{name}=={package['version']}{condition}{hashes}"
