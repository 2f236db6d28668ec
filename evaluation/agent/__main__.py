"""``python -m evaluation.agent``: run the site agent (see ``--help``)."""

from __future__ import annotations

import logging
import sys
from typing import Sequence

from evaluation.agent.settings import AgentSettings, AgentSettingsError, from_args
from evaluation.agent.state import AgentBusy
from evaluation.runners.ssh import SshTarget, SshTransport
from evaluation.runners.transport import LocalTransport, Transport


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = from_args(argv)
    except AgentSettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from evaluation.agent.work import Agent  # after --help and the checks: the runners load only to work
    from evaluation.environment import environment_lock_sha256

    hub_fetch = None
    if settings.hub:
        from evaluation.agent.hub import hub_fetcher  # huggingface_hub, only where the site reaches the Hub

        hub_fetch = hub_fetcher(settings.hub_endpoint)
    try:
        transport = site_transport(settings)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        lock = environment_lock_sha256(settings.lock_file) if settings.lock_file else None
        return Agent(settings, transport=transport, lock_sha256=lock, hub_fetch=hub_fetch).run()
    except AgentBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if isinstance(transport, SshTransport):
            transport.close()


def site_transport(settings: AgentSettings) -> Transport:
    """How the agent reaches its site: this machine, or (``--ssh``) the login node over SSH, the master
    connection's socket in a private folder of the work folder."""
    if not settings.ssh:
        return LocalTransport()
    return SshTransport(
        SshTarget(
            host=settings.ssh,
            port=settings.ssh_port,
            identity=settings.ssh_key,
            known_hosts=settings.known_hosts,
            control_dir=settings.workdir / "ssh",
        )
    )


if __name__ == "__main__":
    sys.exit(main())
