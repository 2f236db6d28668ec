"""A real SMTP server on a free localhost port (aiosmtpd) that keeps what arrives, and a team to notify."""

from __future__ import annotations

import time

import pytest

from tests import factories
from tests.helpers import free_port


class Inbox:
    """aiosmtpd handler: every message that arrives, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, seconds: float = 5.0) -> list:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server():
    """(host, port, inbox) of a running SMTP server."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.hostname, controller.port, inbox
    controller.stop()


@pytest.fixture
def team(db, make_user, challenge):
    """A team of two entrants (ann, bob) in the challenge; returns (team id, challenge id, [user ids])."""
    ann, bob = make_user("ann@example.org"), make_user("bob@example.org")
    with db() as session:
        created = factories.registered_team(session, ann, challenge, "Acme Models", members=[bob])
        return created.id, created.challenge_id, [ann, bob]
