"""Finding 14.4 and its kind: every write route × every demo role, device and board token.

A viewer stored as-run entries and ordered board screenshots; the matrix below would have
caught both. Routes come from the OpenAPI document, so new write routes join automatically.
"""

import pytest

from grassroots.core.testing import matrix

pytestmark = pytest.mark.django_db
ROUTES = matrix.write_routes()
DENIED = {401, 403, 404}


def test_every_write_route_says_who_may_call_it():
    keys = {r.key for r in ROUTES}
    missing = sorted(keys - set(matrix.RULES))
    assert not missing, f"add these write routes to matrix.RULES: {missing}"
    stale = sorted(set(matrix.RULES) - keys)
    assert not stale, f"routes in matrix.RULES that no longer exist: {stale}"


def test_device_and_board_routes_accept_only_their_token():
    for route in ROUTES:
        rule = matrix.RULES.get(route.key)
        if rule is None:
            continue
        if rule.kind == matrix.DEVICE:
            assert route.security == ("DeviceTokenAuth",), route
        elif rule.kind == matrix.BOARD:
            assert route.security == ("BoardAuth",), route
        elif rule.kind == matrix.PUBLIC:
            assert route.security == (), route
        else:  # officers only: never a device or board token
            assert "DeviceTokenAuth" not in route.security, route
            assert "BoardAuth" not in route.security, route


@pytest.fixture
def world(users, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    # live sessions need an Icecast address (a request only records; nothing is sent to it)
    settings.ICECAST_URL = settings.ICECAST_SOURCE_URL = "http://127.0.0.1:9"
    return matrix.World(users)


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if matrix.RULES.get(r.key, matrix.Rule()).kind != matrix.PUBLIC],
    ids=lambda r: r.key,
)
def test_write_matrix(client, world, route):
    rule = matrix.RULES[route.key]
    problems = []
    for caller in matrix.CALLERS:
        expected = matrix.expectation(rule, caller)
        response, changed = matrix.send(client, route, world, caller)
        status = response.status_code
        if status >= 500:
            problems.append(f"{caller}: {status} server error")
        elif expected == "deny":
            if status not in DENIED or changed:
                problems.append(f"{caller} must be refused: got {status}, changed {changed}")
        elif status in (401, 403):
            problems.append(f"{caller} holds the right but got {status}: {response.content[:200]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("caller", ["viewer", "operator2", "device", "board"])
def test_console_posts_never_write_for_those_without_the_right(client, world, caller):
    """Every console page receives a POST with every form field the templates use, from a
    read-only viewer, an operator of another commune, and device and board tokens: no row
    changes anywhere (COMMUNE_A's objects are out of operator2's scope)."""
    from django.db import transaction

    urls = matrix.console_urls(world)
    assert len(urls) > 30
    data = matrix.console_form_data(world)
    problems = []
    for url in urls:
        with transaction.atomic():
            client.logout()
            headers = {}
            if caller in ("device", "board"):
                headers = matrix.headers_for(caller, world)
            else:
                client.force_login(world.users[caller])
            before = matrix.fingerprint()
            response = client.post(url, data, **headers)
            changed = sorted(k for k, v in matrix.fingerprint().items() if before.get(k) != v)
            transaction.set_rollback(True)
        if response.status_code >= 500 or changed:
            problems.append(f"{url}: {response.status_code}, changed {changed}")
    assert not problems, "\n".join(problems)
