"""Property-based run of the whole API from its OpenAPI document (schemathesis): no input, as
an operator or a province admin, may cause a server error (finding 14.9).

Bounded so it stays well under three minutes on two cores: a few examples per operation and a
wall-clock budget. Runs in-process on the throw-away test database (each test rolls back).
"""

from __future__ import annotations

import contextlib
import os
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from grassroots.accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db

# 20 examples per operation find the old 2^63 crashes (6 did not); past the budget each
# remaining operation still gets 2, so every operation is always tried.
EXAMPLES = int(os.environ.get("GRASSROOTS_SCHEMATHESIS_EXAMPLES", "20"))
BUDGET_SECONDS = float(os.environ.get("GRASSROOTS_SCHEMATHESIS_SECONDS", "60"))


@pytest.fixture
def wsgi_app():
    """Django's WSGI app that keeps the test's connection (as django.test.Client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_input_causes_a_server_error(wsgi_app, users):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    actors = [User.objects.get(username=n) for n in ("operator", "admin")]
    errors: list[tuple[str, str, int, str]] = []
    calls = 0
    started = time.monotonic()
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 100, "the OpenAPI document lists the API's operations"
    covered = 0

    for operation in operations:
        over_budget = time.monotonic() - started > BUDGET_SECONDS
        covered += 1

        @settings(
            max_examples=2 if over_budget else EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal calls
            for actor in actors:
                # A fresh token per call: a generated DELETE /auth/tokens/{id} may revoke one.
                token = ApiToken.objects.issue(user=actor, name="schemathesis")[1]
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                calls += 1
                if response.status_code >= 500:
                    errors.append(
                        (
                            case.method,
                            case.formatted_path,
                            response.status_code,
                            f"{actor.username}: {case.path_parameters} {case.query} "
                            f"{str(case.body)[:200]}",
                        )
                    )

        with contextlib.suppress(Unsatisfiable):  # an operation with no valid input at all
            run()
    elapsed = time.monotonic() - started
    print(
        f"schemathesis: {covered}/{len(operations)} operations, {calls} calls, "
        f"{len(errors)} server errors, {elapsed:.1f}s"
    )
    assert not errors, errors[:20]
