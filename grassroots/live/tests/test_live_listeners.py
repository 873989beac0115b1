"""Who Icecast lets listen when a whole area joins at once: the per-process allow-set of a
running mount answers the devices of the area without a database query, and never lets in a
device it would not have let in a moment before (docs/live.md, "Who may listen")."""

import base64
import datetime
import zoneinfo

import pytest
import time_machine

from grassroots.core import icecast
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call, device_token
from grassroots.core.testing import unit as get_unit
from grassroots.devices import provisioning
from grassroots.devices.models import Device
from grassroots.live import actions as live
from grassroots.live.models import LiveSession, LiveStatus

VN = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime.datetime(2026, 12, 1, 7, 0, tzinfo=VN)
_serial = iter(range(400_000, 499_999))


@pytest.fixture(autouse=True)
def _icecast(settings):
    settings.ICECAST_URL = settings.ICECAST_SOURCE_URL = "http://127.0.0.1:18832"


@pytest.fixture
def clock(monkeypatch):
    """The allow-set's clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(live, "_clock", lambda: now[0])
    return now


def device(code):
    return Device.objects.create(
        kind="speaker",
        unit=get_unit(code),
        name=f"Loa {code}",
        serial=f"LL-{next(_serial)}",
        technology="ip_4g",
    )


def running_session(client, user, units=(COMMUNE_A,)):
    with time_machine.travel(MORNING, tick=False):
        response = call(
            client,
            "post",
            "/api/v1/live",
            user=user,
            body={"title": "Thông báo trực tiếp", "units": list(units), "priority": "emergency"},
        )
    assert response.status_code == 201, response.content
    session = LiveSession.objects.get(pk=response.json()["id"])
    live.went_on_air(session.pk)
    return session


@pytest.mark.django_db
def test_a_whole_area_is_let_in_without_a_query_per_listener(
    client, users, clock, django_assert_num_queries
):
    inside = [device(COMMUNE_A) for _ in range(6)]
    outside = device(COMMUNE_B)
    tokens = [device_token(d) for d in inside]
    outside_token = device_token(outside)
    session = running_session(client, users["admin"])
    assert live.listener_allowed(mount=session.mount, device_token=tokens[0])
    with django_assert_num_queries(0):
        for token in tokens[1:]:
            assert live.listener_allowed(mount=session.mount, device_token=token)
    # still refused once the area's set is cached: a device elsewhere, a forged token, a
    # device of the area on a mount that is not a running session
    for _ in range(2):
        assert not live.listener_allowed(mount=session.mount, device_token=outside_token)
    assert not live.listener_allowed(mount=session.mount, device_token="gd_forged")
    assert not live.listener_allowed(mount="/live/guess.ogg", device_token=tokens[0])
    assert not live.listener_allowed(mount=session.mount)  # no token, no ticket


@pytest.mark.django_db
def test_the_hook_refuses_a_device_outside_the_area_after_the_area_joined(
    client, users, clock, settings, tmp_path
):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    inside, outside = device(COMMUNE_A), device(COMMUNE_B)
    inside_token, outside_token = device_token(inside), device_token(outside)
    session = running_session(client, users["admin"])
    password = icecast.hook_password(tmp_path)
    auth = "Basic " + base64.b64encode(f"{icecast.HOOK_USER}:{password}".encode()).decode()

    def ask(token):
        form = {
            "action": "listener_add",
            "mount": session.mount,
            f"header.{icecast.TOKEN_HEADER.lower()}": token,
        }
        return client.post("/api/v1/live/icecast/listener", form, HTTP_AUTHORIZATION=auth)

    assert ask(inside_token)["icecast-auth-user"] == "1"
    refused = ask(outside_token)
    assert refused.status_code == 200 and "icecast-auth-user" not in refused
    assert ask(inside_token)["icecast-auth-user"] == "1"


@pytest.mark.django_db
def test_a_device_enrolled_after_the_area_joined_is_let_in(client, users, clock):
    first = device(COMMUNE_A)
    session = running_session(client, users["admin"])
    assert live.listener_allowed(mount=session.mount, device_token=device_token(first))
    late = device(COMMUNE_A)  # set up while the session runs
    assert live.listener_allowed(mount=session.mount, device_token=device_token(late))


@pytest.mark.django_db
def test_a_revoked_device_is_refused_once_the_set_expires(client, users, clock):
    dev = device(COMMUNE_A)
    token = device_token(dev)
    session = running_session(client, users["admin"])
    assert live.listener_allowed(mount=session.mount, device_token=token)
    provisioning.revoke(user=users["admin"], device=dev)
    # the documented lag: another process may still hold the set for ALLOWED_TTL seconds
    clock[0] += live.ALLOWED_TTL + 0.1
    assert not live.listener_allowed(mount=session.mount, device_token=token)
    # and a forgotten set (this process ended the session or was told to) is made again
    live.forget_allowed()
    assert not live.listener_allowed(mount=session.mount, device_token=token)


@pytest.mark.django_db
def test_an_ended_session_lets_no_one_in(client, users, clock):
    dev = device(COMMUNE_A)
    token = device_token(dev)
    session = running_session(client, users["admin"])
    assert live.listener_allowed(mount=session.mount, device_token=token)
    live.stop(user=users["admin"], session_id=session.pk)
    # ended in this process: refused at once, though the set was cached a moment ago
    assert not live.listener_allowed(mount=session.mount, device_token=token)


@pytest.mark.django_db
def test_a_session_ended_by_another_process_is_refused_when_the_set_expires(client, users, clock):
    dev = device(COMMUNE_A)
    token = device_token(dev)
    session = running_session(client, users["admin"])
    assert live.listener_allowed(mount=session.mount, device_token=token)
    LiveSession.objects.filter(pk=session.pk).update(
        status=LiveStatus.ENDED
    )  # e.g. by the live relay
    clock[0] += live.ALLOWED_TTL + 0.1
    assert not live.listener_allowed(mount=session.mount, device_token=token)
