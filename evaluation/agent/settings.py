"""The agent's settings: its command line and, for the token only, the environment (``LAGC_SITE_TOKEN``) or a
file. The one place the agent reads its environment (the platform's counterpart is ``app.settings``).

The token never comes from the command line, where ``ps`` and the shell history would show it.
"""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

TOKEN_ENV = "LAGC_SITE_TOKEN"


class AgentSettingsError(ValueError):
    """The agent cannot start as asked (the message says what to change)."""


@dataclass(frozen=True)
class AgentSettings:
    """Everything the agent needs to know (``python -m evaluation.agent --help`` describes each)."""

    platform: str
    site: str
    workdir: Path
    token: str
    once: bool = False
    poll_seconds: float = 5.0
    idle_exit_seconds: float = 30.0
    site_dir: Path | None = None  # where job folders and staged files live for the compute nodes
    datasets_cache: str | None = None
    clusters_file: Path | None = None
    hub: bool = False
    hub_endpoint: str = "https://huggingface.co"
    keep_hours: float = 24.0
    max_backoff: float = 300.0
    lock_file: Path | None = None
    ssh: str | None = None  # [user@]host of the site's login node: the gateway mode
    ssh_port: int | None = None
    ssh_key: Path | None = None
    known_hosts: Path | None = None
    host: str = field(default_factory=socket.gethostname)

    @property
    def site_root(self) -> Path:
        """The agent's folder as the compute nodes see it: job folders and the staged files put there."""
        return self.site_dir or self.workdir

    @property
    def jobs_root(self) -> Path:
        """Where the job folders are made (on the filesystem the compute nodes share)."""
        return self.site_root / "jobs"


def parser() -> argparse.ArgumentParser:
    """The agent's command line."""
    p = argparse.ArgumentParser(
        prog="python -m evaluation.agent",
        description="The site agent of the Large AI Grand Challenge platform: it leases evaluations from the "
        "platform over HTTPS, stages their files, runs them on this site's Slurm and reports back. "
        f"Its token comes from ${TOKEN_ENV} or --token-file, never from the command line.",
    )
    p.add_argument("--platform", required=True, help="The platform's base URL, e.g. https://lagc.example.eu")
    p.add_argument("--site", required=True, help="This site's name, as registered with `flask sites add`.")
    p.add_argument(
        "--workdir",
        required=True,
        type=Path,
        help="The agent's folder: its state, staged files "
        "and (unless --site-dir) the job folders. On a cluster: the project's shared filesystem.",
    )
    p.add_argument("--token-file", type=Path, help=f"A file holding the site token (instead of ${TOKEN_ENV}).")
    # Not an option: named so that `--token SECRET` is refused with a reason (argparse would otherwise take it
    # as an abbreviation of --token-file and read the secret as a file name).
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument(
        "--once",
        action="store_true",
        help="Work until nothing is left (nothing held and no new "
        "lease for --idle-exit seconds), then exit: for scrontab or cron.",
    )
    p.add_argument("--poll", type=float, default=5.0, help="Seconds between two polls of the platform (default 5).")
    p.add_argument(
        "--idle-exit",
        type=float,
        default=30.0,
        help="With --once: seconds without any lease before exiting (default 30).",
    )
    p.add_argument(
        "--site-dir",
        type=Path,
        help="Where job folders live, if not under --workdir (with --ssh: the agent's folder on the site, required).",
    )
    p.add_argument(
        "--datasets-cache",
        help="The site's dataset cache for the jobs (HF_DATASETS_CACHE), filled "
        "once with `python -m evaluation.staging` (see the README).",
    )
    p.add_argument(
        "--clusters-file",
        type=Path,
        help="A TOML of [clusters.NAME] sections overriding the "
        "profile the platform sends (this site's account, modules, container).",
    )
    p.add_argument(
        "--hub",
        action="store_true",
        help="This site reaches the Hugging Face Hub: download Hub "
        "submissions from it at their pinned commit (else, and if that fails, from the platform).",
    )
    p.add_argument("--hub-endpoint", default="https://huggingface.co", help="The Hub to download from.")
    p.add_argument(
        "--keep-hours", type=float, default=24.0, help="Staged files unused for this long are deleted (default 24)."
    )
    p.add_argument(
        "--max-backoff",
        type=float,
        default=300.0,
        help="While the platform cannot be reached, the "
        "longest wait between two tries (exponential backoff with jitter; default 300 s).",
    )
    p.add_argument(
        "--lock-file",
        type=Path,
        help="The uv.lock this environment was installed from (its sha256 "
        "goes into the provenance when the installed packages match it).",
    )
    gateway = p.add_argument_group(
        "gateway mode",
        "Run on a gateway host that reaches the site's login node by "
        "SSH: Slurm commands over one multiplexed connection, files with rsync.",
    )
    gateway.add_argument("--ssh", metavar="[USER@]HOST", help="The site's login node.")
    gateway.add_argument("--ssh-port", type=int, help="Its SSH port (default: ssh's, 22 or ~/.ssh/config).")
    gateway.add_argument(
        "--ssh-key",
        type=Path,
        help="The private key to log in with (an SSH certificate next "
        "to it, KEY-cert.pub, is offered too); no passphrase prompt is possible (BatchMode).",
    )
    gateway.add_argument(
        "--known-hosts",
        type=Path,
        help="A known_hosts file holding the site's host key "
        "(required with --ssh: an unknown or changed host key is refused, never accepted).",
    )
    return p


def from_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> AgentSettings:
    """The settings of this run; AgentSettingsError for a missing token or a bad value."""
    args = parser().parse_args(argv)
    env = os.environ if environ is None else environ
    if args.token is not None:
        raise AgentSettingsError(
            f"the token never goes on the command line (ps and the shell history show it): "
            f"set ${TOKEN_ENV} or pass --token-file FILE"
        )
    token = _token(args.token_file, env)
    if not args.platform.startswith(("https://", "http://")):
        raise AgentSettingsError("--platform must be an http(s):// URL")
    if args.poll <= 0 or args.idle_exit < 0 or args.keep_hours <= 0 or args.max_backoff <= 0:
        raise AgentSettingsError("--poll, --keep-hours and --max-backoff must be above 0, --idle-exit at least 0")
    _check_gateway(args)
    site_dir = args.site_dir if args.ssh else args.site_dir.resolve() if args.site_dir else None  # the site's path
    return AgentSettings(
        platform=args.platform.rstrip("/"),
        site=args.site,
        workdir=args.workdir.resolve(),
        token=token,
        once=args.once,
        poll_seconds=args.poll,
        idle_exit_seconds=args.idle_exit,
        site_dir=site_dir,
        datasets_cache=args.datasets_cache,
        clusters_file=args.clusters_file,
        hub=args.hub,
        hub_endpoint=args.hub_endpoint,
        keep_hours=args.keep_hours,
        max_backoff=args.max_backoff,
        lock_file=args.lock_file or _default_lock(),
        ssh=args.ssh,
        ssh_port=args.ssh_port,
        ssh_key=args.ssh_key.resolve() if args.ssh_key else None,
        known_hosts=args.known_hosts.resolve() if args.known_hosts else None,
    )


def _check_gateway(args: argparse.Namespace) -> None:
    """The gateway mode's options belong together; a site reached by SSH names its own folder."""
    if not args.ssh:
        if args.ssh_port or args.ssh_key or args.known_hosts:
            raise AgentSettingsError("--ssh-port, --ssh-key and --known-hosts go with --ssh HOST")
        return
    if args.ssh.startswith("-") or any(c.isspace() for c in args.ssh):
        raise AgentSettingsError("--ssh takes [USER@]HOST")
    if args.known_hosts is None or not args.known_hosts.is_file():
        raise AgentSettingsError(
            "--ssh needs --known-hosts FILE holding the site's host key (it is checked, never accepted blindly)"
        )
    if args.ssh_key is not None and not args.ssh_key.is_file():
        raise AgentSettingsError(f"the --ssh-key file {args.ssh_key} does not exist")
    if args.site_dir is None or not args.site_dir.is_absolute():
        raise AgentSettingsError(
            "--ssh needs --site-dir DIR: the agent's folder on the site (an absolute path on its shared filesystem)"
        )
    if args.ssh_port is not None and not 0 < args.ssh_port < 65536:
        raise AgentSettingsError("--ssh-port must be a TCP port")


def _token(token_file: Path | None, env: Mapping[str, str]) -> str:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AgentSettingsError(f"the token file cannot be read: {exc}") from None
    else:
        token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise AgentSettingsError(
            f"no site token: set ${TOKEN_ENV} or pass --token-file FILE (the token printed "
            "by `flask --app app sites add`)"
        )
    return token


def _default_lock() -> Path | None:
    """The uv.lock of a source checkout this package runs from, if there is one."""
    candidate = Path(__file__).resolve().parents[2] / "uv.lock"
    return candidate if candidate.is_file() else None
