"""Provisioning, broker accounts, gateway ingest and remote commands (real DB, real broker)."""

import json
import subprocess
import time
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone

from grassroots.core import broker
from grassroots.core.gateway import discover, dispatch
from grassroots.core.models import OutboxMessage
from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    EndpointContract,
    assert_problem,
    call,
    unit,
)
from grassroots.devices import broker_accounts
from grassroots.devices.models import Device
from grassroots.devices.models_fleet import DeviceConnectivity, DeviceEvent, DeviceStatus

_serial = iter(range(10_000, 99_999))
discover()  # register the apps' gateway handlers, as the gateway process does


def device(code=COMMUNE_A, kind="speaker", **kw):
    return Device.objects.create(
        kind=kind,
        unit=unit(code),
        name=f"Cụm loa {code}",
        serial=f"SN-{next(_serial)}",
        technology="ip_4g",
        **kw,
    )


def enrol(client, users, dev):
    code = call(client, "post", f"/api/v1/devices/{dev.pk}/authorise", user=users["admin"])
    assert code.status_code == 200, code.content
    response = client.post(
        "/api/v1/devices/enrol",
        data=json.dumps({"code": code.json()["enrolment_code"].lower().replace("-", "")}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_authorise_enrol_revoke(client, users):
    dev = device()
    config = enrol(client, users, dev)
    assert config["mqtt_username"] == f"dev-{dev.pk}" and config["units"] == ["33", COMMUNE_A]
    assert config["trusted_keys"] and "@" not in config["mqtt_url"]
    # The code is one-time.
    again = client.post(
        "/api/v1/devices/enrol",
        data=json.dumps({"code": "AAAA-BBBB"}),
        content_type="application/json",
    )
    assert_problem(again, 404)
    # The device token reads its own manifest endpoint family; accounts list it with its ACL.
    (account,) = [a for a in broker_accounts.accounts() if a.username == f"dev-{dev.pk}"]
    assert f"grassroots/v1/unit/{COMMUNE_A}/cmd" in account.read
    assert account.write == [
        f"grassroots/v1/dev/{dev.pk}/state",
        f"grassroots/v1/dev/{dev.pk}/events",
    ]
    from grassroots.devices.provisioning import authenticate_token

    assert authenticate_token(config["token"]) == dev
    assert (
        call(client, "post", f"/api/v1/devices/{dev.pk}/revoke", user=users["admin"]).status_code
        == 204
    )
    assert authenticate_token(config["token"]) is None
    assert not [a for a in broker_accounts.accounts() if a.username == f"dev-{dev.pk}"]


@pytest.mark.django_db
def test_operator_cannot_authorise_devices(client, users):
    dev = device()
    assert_problem(
        call(client, "post", f"/api/v1/devices/{dev.pk}/authorise", user=users["operator"]), 403
    )


class TestCommandContract(EndpointContract):
    method = "post"
    permission = "devices.control"
    audited = True

    def in_scope_url(self):
        return f"/api/v1/devices/{device(COMMUNE_A).pk}/commands"

    def out_of_scope_url(self):
        return f"/api/v1/devices/{device(COMMUNE_B).pk}/commands"

    def body(self):
        return {"type": "volume.set", "volume": 35}


@pytest.mark.django_db
def test_commands_are_signed_into_the_outbox(client, users):
    dev = device()
    response = call(
        client,
        "post",
        f"/api/v1/devices/{dev.pk}/commands",
        user=users["operator"],
        body={"type": "power.set", "power": "off"},
    )
    assert response.status_code == 200
    row = OutboxMessage.objects.get(topic=f"grassroots/v1/dev/{dev.pk}/cmd")
    envelope = json.loads(row.payload)
    assert envelope["payload"]["type"] == "power.set" and envelope["payload"]["power"] == "off"
    bad = call(
        client,
        "post",
        f"/api/v1/devices/{dev.pk}/commands",
        user=users["operator"],
        body={"type": "volume.set"},
    )
    assert "âm lượng" in assert_problem(bad, 422)["detail"]
    bad = call(
        client,
        "post",
        f"/api/v1/devices/{dev.pk}/commands",
        user=users["operator"],
        body={"type": "self.destruct"},
    )
    assert_problem(bad, 422)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["portable", "orm_fallback"])
def test_state_and_events_ingest_idempotently(users, path, monkeypatch):
    if path == "orm_fallback":  # what a database other than SQLite or PostgreSQL would take
        from grassroots.core import bulk

        monkeypatch.setattr(bulk, "PORTABLE_VENDORS", set())
    dev = device()
    state = f"grassroots/v1/dev/{dev.pk}/state"
    events = f"grassroots/v1/dev/{dev.pk}/events"
    playing = b'{"item_id": "item-1", "kind": "media", "origin": "schedule"}'
    dispatch([(state, b'{"online": true, "playing": ' + playing + b', "volume": 70}')])
    dispatch([(state, b'{"online": false}')])
    dispatch(
        [
            (state, b'{"online": true}'),
            ("grassroots/v1/dev/999999/state", b"{}"),
            (state, b"not json"),
        ]
    )
    status = DeviceStatus.objects.get(device=dev)
    assert status.online is True
    # stored as a JSON object (queryable by key on both databases), not as a JSON string
    assert status.state == {"online": True}
    assert status.last_seen is not None
    assert DeviceStatus.objects.filter(device=dev, state__online=True).exists()
    assert list(
        DeviceConnectivity.objects.filter(device=dev)
        .order_by("at", "id")
        .values_list("online", flat=True)
    ) == [True, False, True]
    fault = json.dumps(
        {"id": "evt-1", "type": "fault", "code": "cmd.bad_signature", "reason": "bad signature"}
    ).encode()
    dispatch([(events, fault), (events, fault)])
    dispatch([(events, fault)])
    assert DeviceEvent.objects.filter(device=dev, type="fault").count() == 1
    stored = DeviceEvent.objects.get(event_id="evt-1")
    assert stored.payload["reason"] == "bad signature"
    assert DeviceEvent.objects.filter(payload__reason="bad signature").count() == 1
    assert stored.received_at is not None
    assert abs((timezone.now() - stored.received_at).total_seconds()) < 60


@pytest.mark.django_db
def test_fleet_status_is_scoped(client, users):
    mine, other = device(COMMUNE_A), device(COMMUNE_B)
    state = {
        "online": True,
        "playing": {
            "item_id": "s1-x",
            "kind": "media",
            "origin": "schedule",
            "title": "Bản tin sáng",
            "priority": "priority",
            "since": "2026-12-01T00:00:00Z",
        },
        "clock": {"offset_s": 10800.4, "source": "http"},
    }
    dispatch([(f"grassroots/v1/dev/{mine.pk}/state", json.dumps(state).encode())])
    rows = call(client, "get", "/api/v1/devices/fleet/status", user=users["operator"]).json()
    assert [r["id"] for r in rows] == [mine.pk] and rows[0]["online"]
    assert (rows[0]["playing"], rows[0]["playing_priority"]) == ("Bản tin sáng", "Ưu tiên")
    assert rows[0]["clock_note"] == "Đồng hồ thiết bị chậm 3 giờ 0 phút"
    ids = {
        r["id"]
        for r in call(client, "get", "/api/v1/devices/fleet/status", user=users["viewer"]).json()
    }
    assert {mine.pk, other.pk} <= ids


def test_a_live_session_on_the_fleet_page_is_shown_by_its_title(client, users):
    """The agent's state names a live session by its live_id only ("live-7"): the page says
    the session's title; a title the device reported is kept."""
    from grassroots.live.models import LiveSession

    session = LiveSession.objects.create(
        unit=unit(COMMUNE_A), title="Thông báo lịch tiêm chủng", speaker=users["operator"],
        mount="/live/fleet.ogg", until=timezone.now() + timedelta(minutes=10),
    )  # fmt: skip
    mine = device(COMMUNE_A)
    playing = {"item_id": session.live_id, "kind": "live", "origin": "live"}
    dispatch([(f"grassroots/v1/dev/{mine.pk}/state",
               json.dumps({"online": True, "playing": playing}).encode())])  # fmt: skip
    rows = call(client, "get", "/api/v1/devices/fleet/status", user=users["operator"]).json()
    assert [r["playing"] for r in rows if r["id"] == mine.pk] == ["Thông báo lịch tiêm chủng"]
    client.force_login(users["operator"])
    page = client.get("/thiet-bi/giam-sat/")
    assert "Thông báo lịch tiêm chủng" in page.content.decode()
    assert session.live_id not in page.content.decode()


@pytest.mark.mqtt
@pytest.mark.django_db
def test_enrolled_device_logs_in_and_revoked_is_cut_off(client, users, tmp_path, settings):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    port = broker.free_port()
    conf = broker.write_config(tmp_path, port, auth=True)
    proc = subprocess.Popen([broker.mosquitto_binary(), "-c", str(conf)])
    try:
        time.sleep(0.4)
        dev = device()
        config = enrol(client, users, dev)
        assert broker.sync(tmp_path)
        time.sleep(0.3)

        def login(password):
            rc = {}
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            c.username_pw_set(config["mqtt_username"], password)
            c.on_connect = lambda *a: rc.setdefault("rc", a[3])
            c.connect("127.0.0.1", port)
            c.loop_start()
            deadline = time.monotonic() + 5
            while "rc" not in rc and time.monotonic() < deadline:
                time.sleep(0.02)
            c.loop_stop()
            c.disconnect()
            return rc["rc"]

        assert not login(config["mqtt_password"]).is_failure
        assert login("guess").is_failure
        call(client, "post", f"/api/v1/devices/{dev.pk}/revoke", user=users["admin"])
        assert broker.sync(tmp_path)
        time.sleep(0.3)
        assert login(config["mqtt_password"]).is_failure
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.django_db
def test_emqx_hooks_apply_the_same_acl(client, users, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_MQTT_HOOK_SECRET", "hook-secret")
    dev = device()
    config = enrol(client, users, dev)
    user = config["mqtt_username"]

    def hook(path, body, secret="hook-secret"):
        return client.post(
            f"/api/v1/mqtt/{path}",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_GRASSROOTS_HOOK_SECRET=secret,
        )

    assert assert_problem(hook("auth", {"username": user, "password": "x"}, secret="no"), 403)
    assert (
        hook("auth", {"username": user, "password": config["mqtt_password"]}).json()["result"]
        == "allow"
    )
    assert hook("auth", {"username": user, "password": "wrong"}).json()["result"] == "deny"
    ok = {"username": user, "action": "publish", "topic": f"grassroots/v1/dev/{dev.pk}/events"}
    assert hook("acl", ok).json()["result"] == "allow"
    forged = {**ok, "topic": f"grassroots/v1/unit/{COMMUNE_A}/cmd"}
    assert hook("acl", forged).json()["result"] == "deny"
    sub = {**forged, "action": "subscribe"}
    assert hook("acl", sub).json()["result"] == "allow"


@pytest.mark.django_db
def test_console_commands_use_the_same_action(client, users):
    dev, other = device(COMMUNE_A), device(COMMUNE_B)
    client.force_login(users["operator"])
    client.post(f"/thiet-bi/giam-sat/{dev.pk}/", {"action": "volume.set", "volume": "42"})
    dev.refresh_from_db()
    assert dev.volume == 42  # kept on record, as through the API
    assert OutboxMessage.objects.filter(topic=f"grassroots/v1/dev/{dev.pk}/cmd").exists()
    page = client.post(f"/thiet-bi/giam-sat/{other.pk}/", {"action": "stop"}, follow=True)
    assert not OutboxMessage.objects.filter(topic=f"grassroots/v1/dev/{other.pk}/cmd").exists()
    assert page.status_code == 404


@pytest.mark.django_db
def test_simulated_fleet_logins_match_the_database_even_after_a_reset(users, settings, tmp_path):
    """The simulator keeps its devices' secrets in a file that outlives the database (another
    DATABASE_URL, a reset): a secret is reused only for the credential it was made for."""
    from grassroots.devices import simulation
    from grassroots.devices.models import DeviceCredential

    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}

    def logins_work(specs):
        hashes = dict(
            DeviceCredential.objects.filter(
                device_id__in=[int(s["id"]) for s in specs]
            ).values_list("device_id", "mqtt_password_hash")
        )
        return all(broker.check_password(s["password"], hashes[int(s["id"])]) for s in specs)

    first = simulation.ensure_fleet(3)
    assert len(first) == 3 and logins_work(first)
    # each simulated cluster belongs to its commune's station (timeline, airplay, plan)
    from grassroots.devices.models import Device

    for d in Device.objects.filter(pk__in=[int(s["id"]) for s in first]).select_related("unit"):
        assert d.station is not None and d.station.unit_id == d.unit_id
    assert simulation.ensure_fleet(3) == first  # stable while the database is the same
    # the database now holds other credentials for the same device ids (as after a reset)
    DeviceCredential.objects.filter(device_id=int(first[0]["id"])).update(
        mqtt_password_hash=broker.password_hash("something else")
    )
    again = simulation.ensure_fleet(3)
    assert logins_work(again)
    assert again[0]["password"] != first[0]["password"] and again[1:] == first[1:]


@pytest.mark.django_db(transaction=True)
def test_events_of_a_device_deleted_meanwhile_are_set_aside_and_the_rest_stored(demo):
    """The handlers remember known device ids for a minute; a device deleted in that minute
    fails its batch on the foreign key, and the gateway then stores it message by message."""
    from grassroots.core.gateway import dead_letters, store

    discover()
    kept, gone = device(), device()

    def event(pk, event_id):
        body = json.dumps({"id": event_id, "type": "fault", "code": "x"}).encode()
        return (f"grassroots/v1/dev/{pk}/events", body)

    assert store([event(kept.pk, "e1"), event(gone.pk, "e2")]) == 2
    gone_pk = gone.pk
    gone.delete()
    assert store([event(kept.pk, "e3"), event(gone_pk, "e4"), event(kept.pk, "e5")]) == 2
    assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {"e1", "e3", "e5"}
    assert dead_letters[-1] == event(gone_pk, "e4")
