"""The README's first command on a fresh machine: from `git clone` to the first page answering.

    python3 bench/fresh_start.py [--ref BRANCH] [--repo PATH] [--runs cold,warm] [--timeout 900]

Each run clones the repository (``--ref``, default: the checked-out branch) into a new temporary folder,
starts ``./scripts/start.sh`` there with a free ``PORT`` and times, from before the clone, until ``GET /``
answers 200; then it stops the platform (SIGINT to its process group, as Ctrl-C does) and deletes the folder.

Caches: ``cold`` points every installer and download cache (``XDG_CACHE_HOME``, ``PIP_CACHE_DIR``,
``UV_CACHE_DIR``) at a new empty folder, as on a fresh machine; ``warm`` runs again in a new clone with the
caches the cold run before it filled (``--runs warm`` alone fills them first in a run it does not report): the
usual second clone on a developer's machine, or CI with a kept cache. Nothing of
the user's own caches is read or written. Prints one line per run and, with ``--verbose``, the platform's
output with the second at which each line appeared (where the time goes: install, migrations, demo).

Needs only the standard library (run it with any Python 3.11). The machine's load changes the numbers: say
whether it was shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE_VARIABLES = ("XDG_CACHE_HOME", "PIP_CACHE_DIR", "UV_CACHE_DIR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def current_branch(repo: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Output:
    """The platform's output lines, each with the second (since the start of the run) it appeared."""

    def __init__(self, stream, started: float):
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(stream, started), daemon=True)
        self._thread.start()

    def _read(self, stream, started: float) -> None:
        for line in iter(stream.readline, ""):
            self.lines.append((time.monotonic() - started, line.rstrip()))

    def text(self, lines: list[tuple[float, str]]) -> str:
        return "\n".join(f"{t:7.1f}s  {line}" for t, line in lines)


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C for the launcher (start.sh execs it; it stops gunicorn and the scheduler), then the whole
    process group (any lm-eval run the scheduler started), harder each time."""
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


def one_run(
    repo: Path, ref: str, caches: Path, timeout: float, verbose: bool, extra_env: dict[str, str | None]
) -> float:
    """Seconds from the clone to GET / answering 200 (SystemExit with the output when it never does)."""
    with tempfile.TemporaryDirectory(prefix="lagc-fresh-start-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", *CACHE_VARIABLES)}
        port = free_port()
        env.update(
            PORT=str(port),
            XDG_CACHE_HOME=str(caches),
            PIP_CACHE_DIR=str(caches / "pip"),
            UV_CACHE_DIR=str(caches / "uv"),
        )
        env.update({key: value for key, value in extra_env.items() if value is not None})
        for key in [key for key, value in extra_env.items() if value is None]:
            env.pop(key, None)
        started = time.monotonic()
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "--quiet", "--branch", ref, str(repo), str(clone)], check=True)
        process = subprocess.Popen(
            ["./scripts/start.sh"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        output = Output(process.stdout, started)
        try:
            while not answers(f"http://127.0.0.1:{port}/"):
                if process.poll() is not None or time.monotonic() - started > timeout:
                    raise SystemExit(
                        f"./scripts/start.sh never answered (exit {process.poll()}):\n{output.text(output.lines[-40:])}"
                    )
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            lines = len(output.lines)
        finally:
            stop(process)
        if verbose:  # the output up to the first answer: where the time went
            print(output.text(output.lines[:lines]))
        return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="repository to clone (default: this one)")
    parser.add_argument("--ref", help="branch to clone (default: the checked-out one)")
    parser.add_argument("--runs", default="cold,warm", help="cold, warm or both, comma-separated, in order")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the first page")
    parser.add_argument("--verbose", action="store_true", help="print the platform's output with timings")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variable for start.sh (KEY= alone unsets it), e.g. UV_COMPILE_BYTECODE=1",
    )
    args = parser.parse_args(argv)
    ref = args.ref or current_branch(args.repo)
    extra_env = {k: (v or None) for k, _, v in (item.partition("=") for item in args.env)}
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    if not set(runs) <= {"cold", "warm"} or not runs:
        parser.error("--runs takes cold and/or warm")
    caches = Path(tempfile.mkdtemp(prefix="lagc-fresh-caches-"))
    try:
        if runs[0] == "warm":
            one_run(args.repo, ref, caches, args.timeout, False, extra_env)
        for kind in runs:
            if kind == "cold":
                shutil.rmtree(caches, ignore_errors=True)
                caches.mkdir()
            seconds = one_run(args.repo, ref, caches, args.timeout, args.verbose, extra_env)
            label = " ".join([ref, *args.env])
            print(f"{label}: {kind} cache: {seconds:.1f} s from clone to GET / answering 200", flush=True)
    finally:
        shutil.rmtree(caches, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
