"""The API fuzzed with schemathesis against the running platform: every operation of `/api/v1/openapi.json`,
as an organiser, as an entrant, as a site's agent (the demo's site) and anonymously, with generated (valid and invalid) path parameters, query
strings and bodies; no answer may be a server error.

Nothing is left out. Two things bound what the fuzz can reach, on purpose:
- the tus operations (`/api/v1/uploads...`) are described without their protocol headers (Tus-Resumable,
  Upload-Length, Upload-Offset) and the chunk body, so the fuzz reaches their version and ownership checks
  but not the byte handling; the protocol itself is tested in tests/integration/checkpoints;
- the platform is shared with the other end-to-end tests, so state-changing operations (anything but GET)
  address ids above the demo's rows (an organiser confirming or overriding a demo application would change
  what those tests see); reads address every id, the demo's rows included.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

FAR_ID = 1_000_000  # above any row the demo creates


def _fuzz_accounts(server_db, instance: str) -> dict[str, str]:
    """A fresh organiser (with an authenticator, as the API requires of organisers) and a fresh entrant,
    created through the platform's services on the running platform's database; their API tokens."""
    from app.accounts.models import Role
    from app.accounts.services import issue_token
    from app.settings import Settings
    from tests import factories

    key = Settings.from_env({**os.environ, "LAGC_INSTANCE_DIR": instance}).secret_key  # the server's own
    tokens = {}
    with server_db() as session:
        for name, role in (("organiser", Role.organiser), ("entrant", Role.entrant)):
            user = factories.user(
                session,
                f"fuzz-{name}@example.eu",
                role,
                password="fuzz-password-2026",
                name=f"Fuzz {name}",
                secret_key=key,
            )
            tokens[name] = issue_token(session, user, "schemathesis")[1]
    return tokens


@pytest.fixture(scope="module")
def fuzz_tokens(server_db, server_instance) -> dict[str, str]:
    return _fuzz_accounts(server_db, str(server_instance))


@pytest.fixture(scope="module")
def callers(fuzz_tokens) -> dict[str, dict[str, str]]:
    """Who calls, with their Authorization header (none for an anonymous visitor). Every generated case is
    sent as each of them (schemathesis's lazy schemas take no parametrised fixtures)."""
    from evaluation.sites.demo import DEMO_TOKEN

    return {
        "organiser": {"Authorization": f"Bearer {fuzz_tokens['organiser']}"},
        "entrant": {"Authorization": f"Bearer {fuzz_tokens['entrant']}"},
        "site": {"Authorization": f"Bearer {DEMO_TOKEN}"},
        "anonymous": {},
    }


@pytest.fixture(scope="module")
def api_schema(server):
    loaded = schemathesis.openapi.from_url(server + "/api/v1/openapi.json")

    @loaded.hook
    def map_path_parameters(context, path_parameters: dict[str, Any]) -> dict[str, Any]:
        if context.operation is None or context.operation.method.upper() == "GET":
            return path_parameters
        return {
            name: FAR_ID + value if isinstance(value, int) and not isinstance(value, bool) else value
            for name, value in (path_parameters or {}).items()
        }

    return loaded


def _operations() -> list[str]:
    """'METHOD /api/v1/path' of every registered API operation (read at collection, from the same registry
    the OpenAPI document is built from, so each operation is its own test and a new one joins by itself)."""
    from app.api import OPERATIONS, PARAM
    from app.features import api

    api()
    return sorted({op.method + " /api/v1" + PARAM.sub(r"{\1}", op.rule) for op in OPERATIONS})


@pytest.mark.parametrize("operation", _operations())
def test_no_api_operation_answers_with_a_server_error(api_schema, callers, operation):
    from hypothesis import given, strategies as st
    from schemathesis import GenerationMode

    method, path = operation.split(" ", 1)
    api_operation = api_schema[path][method]
    cases = st.one_of(
        api_operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        api_operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        for who, headers in callers.items():
            try:
                case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=30)
            except AssertionError as failure:
                raise AssertionError(f"as {who}: {failure}") from None

    fuzz()
