"""The site reached from a gateway host over SSH: the ``Transport`` of ``python -m evaluation.agent --ssh HOST``.

Some sites let no process on a login node open an outbound connection, so the agent cannot pull work from
there. It runs on a gateway host instead, which reaches the login node by SSH; only the transport differs:

- every command (``sbatch``, ``squeue``, ``scancel``, ``scontrol`` and the few file operations below) goes over
  **one multiplexed OpenSSH connection** (``ControlMaster=auto``, its socket in a private folder of the agent's
  work folder, ``ControlPersist`` keeping it between commands), so a poll costs a session, not a handshake;
- the connection is never interactive and never trusts blindly: ``BatchMode=yes`` (no password or passphrase
  prompt), public keys (or SSH certificates) only, and the host key checked against the ``known_hosts`` file
  the operator gives (``StrictHostKeyChecking=yes``; a changed or unknown key is refused);
- folders travel with ``rsync`` over that same connection: staged checkpoints and suites to the site
  (``--partial-dir``: an interrupted transfer resumes; rsync checks every file it moves against a whole-file
  checksum), job folders back (``--checksum``: a file is fetched again whenever its content differs);
- a lost connection is re-established by the next command (the master comes back with it), after a short
  backoff; when the site stays unreachable the call raises ``SiteUnreachable`` and the agent backs off as a
  whole. Jobs are Slurm's: they keep running while the gateway is cut off.

The argument lists are built by pure functions (``ssh_command``, ``rsync_command``) so they are tested exactly.
"""

from __future__ import annotations

import random
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

SSH_FAILED = 255  # ssh's own exit status when the connection failed (a remote command's 255 looks the same)
MISSING = 66  # what the file commands below exit with for a missing file (sysexits' EX_NOINPUT)
CONTROL_PATH_MAX = 90  # sun_path holds 107 characters on Linux; ssh binds "<path>.<16 random characters>" first


class SiteUnreachable(Exception):
    """The site could not be reached over SSH (after the retries): try again later, nothing is known."""


@dataclass(frozen=True)
class SshTarget:
    """Where and how the gateway logs in to the site's login node."""

    host: str  # [user@]host, as ssh takes it
    known_hosts: Path  # the site's host key(s), given by the operator
    control_dir: Path  # a private folder (0700) for the master connection's socket
    port: int | None = None
    identity: Path | None = None  # the private key (an SSH certificate next to it, KEY-cert.pub, is used too)
    persist_seconds: int = 600
    connect_timeout: int = 20

    @property
    def control_path(self) -> str:
        # One agent, one site: a fixed short name (ssh's %C would add 40 characters to a limited socket path).
        return str(self.control_dir / "cm")


def ssh_options(target: SshTarget) -> list[str]:
    """The options of every ssh (and rsync's ssh) call: multiplexed, batch, key-only, host key checked."""
    options = [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={target.known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "PreferredAuthentications=publickey",
        "-o",
        "PasswordAuthentication=no",
        "-o",
        "KbdInteractiveAuthentication=no",
        "-o",
        "ControlMaster=auto",
        "-o",
        f"ControlPath={target.control_path}",
        "-o",
        f"ControlPersist={target.persist_seconds}",
        "-o",
        f"ConnectTimeout={target.connect_timeout}",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=3",
        "-o",
        "ForwardAgent=no",
        "-o",
        "ForwardX11=no",
        "-o",
        "RequestTTY=no",
    ]
    if target.identity is not None:
        options += ["-o", "IdentitiesOnly=yes", "-i", str(target.identity)]
    if target.port is not None:
        options += ["-p", str(target.port)]
    return options


def ssh_command(target: SshTarget, remote: str) -> list[str]:
    """``ssh`` running one shell command line on the site (``remote``, already quoted)."""
    return ["ssh", *ssh_options(target), target.host, "--", remote]


def control_command(target: SshTarget, operation: str) -> list[str]:
    """``ssh -O check|exit``: ask the master connection whether it is up, or close it."""
    return ["ssh", *ssh_options(target), "-O", operation, target.host]


def rsync_command(target: SshTarget, source: str, destination: str, fetch: bool) -> list[str]:
    """``rsync`` over the master connection: this machine's folder ``source`` to the site's ``destination``,
    or (``fetch``) the site's ``source`` to this machine's ``destination``. The contents of the folder, not
    the folder itself (trailing slashes)."""
    remote_shell = shlex.join(["ssh", *ssh_options(target)])
    src = f"{target.host}:{_slash(source)}" if fetch else _slash(source)
    dst = _slash(destination) if fetch else f"{target.host}:{_slash(destination)}"
    checking = ["--checksum"] if fetch else []
    return [
        "rsync",
        "--archive",
        "--protect-args",
        "--partial-dir=.rsync-partial",
        *checking,
        "--timeout=120",
        "-e",
        remote_shell,
        src,
        dst,
    ]


def _slash(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def _q(path: str | Path) -> str:
    return shlex.quote(str(path))


@dataclass
class SshTransport:
    """The site's commands and files over SSH (see the module docstring)."""

    target: SshTarget
    retries: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 15.0
    execute: Callable[..., subprocess.CompletedProcess] = subprocess.run
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    kind: str = field(default="ssh", init=False)

    def __post_init__(self) -> None:
        if len(self.target.control_path) > CONTROL_PATH_MAX:
            raise ValueError(
                f"the SSH control socket {self.target.control_path} is too long for a socket path "
                f"({CONTROL_PATH_MAX} characters at most): use a shorter --workdir"
            )
        self.target.control_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.target.control_dir.chmod(0o700)  # the socket opens a logged-in session: nobody else may reach it

    # -- commands ---------------------------------------------------------------------------------------------

    def run(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return self.shell(shlex.join(argv), timeout=timeout)

    def shell(
        self, remote: str, data: bytes | None = None, timeout: float = 60, text: bool = True
    ) -> subprocess.CompletedProcess:
        """Run a command line on the site; SiteUnreachable when no connection could be made, after retries
        with exponential backoff and full jitter (each retry builds a new master connection)."""
        for attempt in range(self.retries + 1):
            proc = self._execute(ssh_command(self.target, remote), data, timeout, text)
            if proc.returncode != SSH_FAILED or self.connected():
                return proc  # the command's own answer (a remote 255 with the connection up is the command's)
            if attempt == self.retries:
                raise SiteUnreachable(
                    f"{self.target.host} cannot be reached over SSH: {_text(proc.stderr).strip()[-300:]}"
                )
            self.sleep(min(self.backoff_cap, self.backoff_base * 2**attempt) * self.rng())
        raise AssertionError("unreachable")

    def connected(self) -> bool:
        """Whether the master connection is up."""
        return self._execute(control_command(self.target, "check"), None, 15, True).returncode == 0

    def close(self) -> None:
        """Close the master connection (the next command would open a new one)."""
        try:
            self._execute(control_command(self.target, "exit"), None, 15, True)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def _execute(self, argv: list[str], data: bytes | None, timeout: float, text: bool) -> subprocess.CompletedProcess:
        if data is not None:
            return self.execute(argv, input=data, capture_output=True, timeout=timeout)
        # stdin from /dev/null: ssh must never wait for (or eat) the agent's own input
        return self.execute(argv, stdin=subprocess.DEVNULL, capture_output=True, text=text, timeout=timeout)

    # -- files ------------------------------------------------------------------------------------------------

    def read_bytes(self, path: str | Path, tail: int | None = None) -> bytes:
        reader = f"tail -c {int(tail)} -- {_q(path)}" if tail is not None else f"cat -- {_q(path)}"
        proc = self.shell(f"test -f {_q(path)} || exit {MISSING}; {reader}", timeout=120, text=False)
        return self._checked(proc, path)

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        target = PurePosixPath(path)
        temporary = target.with_name(f".{target.name}.gateway.tmp")
        proc = self.shell(
            f"mkdir -p -- {_q(target.parent)} && cat > {_q(temporary)} && mv -f -- {_q(temporary)} {_q(target)}",
            data=data,
            timeout=120,
        )
        self._checked(proc, path)

    def remove(self, path: str | Path) -> None:
        self._checked(self.shell(f"rm -f -- {_q(path)}"), path)

    def exists(self, path: str | Path) -> bool:
        proc = self.shell(f"test -e {_q(path)}")
        if proc.returncode not in (0, 1):
            raise OSError(f"cannot check {path} on {self.target.host}: {_text(proc.stderr).strip()}")
        return proc.returncode == 0

    def put_folder(self, local: str | Path, remote: str | Path) -> None:
        self._checked(self.shell(f"mkdir -p -- {_q(remote)}"), remote)
        self._rsync(rsync_command(self.target, str(local), str(remote), fetch=False))

    def fetch_folder(self, remote: str | Path, local: str | Path) -> Path:
        Path(local).mkdir(parents=True, exist_ok=True)
        self._rsync(rsync_command(self.target, str(remote), str(local), fetch=True))
        return Path(local)

    def _rsync(self, argv: list[str]) -> None:
        """rsync, retried like a command: its ssh exits 255 (rsync then says 12 or 255) on a lost connection."""
        for attempt in range(self.retries + 1):
            proc = self.execute(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=None)
            if proc.returncode == 0:
                return
            if self.connected():
                raise OSError(f"rsync failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
            if attempt == self.retries:
                raise SiteUnreachable(f"{self.target.host} cannot be reached for rsync: {proc.stderr.strip()[-300:]}")
            self.sleep(min(self.backoff_cap, self.backoff_base * 2**attempt) * self.rng())

    def _checked(self, proc: subprocess.CompletedProcess, path: str | Path) -> bytes:
        if proc.returncode == MISSING:
            raise FileNotFoundError(f"{path} is not on the site")
        if proc.returncode != 0:
            raise OSError(f"{path} on {self.target.host}: {_text(proc.stderr).strip()[-300:]}")
        return proc.stdout if isinstance(proc.stdout, bytes) else proc.stdout.encode()


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
