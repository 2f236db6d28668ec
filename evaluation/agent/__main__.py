"""``python -m evaluation.agent``: run the site agent (see ``--help``)."""
from __future__ import annotations

import logging
import sys
from typing import Sequence

from evaluation.agent.settings import AgentSettingsError, from_args
from evaluation.agent.state import AgentBusy


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
        lock = environment_lock_sha256(settings.lock_file) if settings.lock_file else None
        return Agent(settings, lock_sha256=lock, hub_fetch=hub_fetch).run()
    except AgentBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
