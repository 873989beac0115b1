"""Signed manifests: verification with only `cryptography` and the JSON, ETag/304, incremental."""

import base64
import json
import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from grassroots.broadcast import manifests
from grassroots.broadcast.models import AsRunEntry, RelaySource
from grassroots.broadcast.tests.factories import schedule_body, station, store_media, vn
from grassroots.core.testing import (
    COMMUNE_A,
    COMMUNE_B,
    EndpointContract,
    call,
    device_token,
    unit,
)
from grassroots.devices.models import Device

from .factories import DeviceFactory

pytestmark = pytest.mark.django_db
NOW = vn(1, 5)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def ip_device(code: str, **kw) -> Device:
    st = station(code)
    return DeviceFactory(unit=st.unit, station=st, **kw)


class TestManifestContract(EndpointContract):
    permission = "devices.view"

    def in_scope_url(self):
        return f"/api/v1/devices/{ip_device(COMMUNE_A).pk}/manifest"

    def out_of_scope_url(self):
        return f"/api/v1/devices/{ip_device(COMMUNE_B).pk}/manifest"


class TestDeviceDetailContract(EndpointContract):
    permission = "devices.view"

    def in_scope_url(self):
        return f"/api/v1/devices/{ip_device(COMMUNE_A).pk}"

    def out_of_scope_url(self):
        return f"/api/v1/devices/{ip_device(COMMUNE_B).pk}"


class TestDeviceUpdateContract(EndpointContract):
    method = "patch"
    permission = "devices.control"
    audited = True

    def in_scope_url(self):
        return f"/api/v1/devices/{ip_device(COMMUNE_A).pk}"

    def out_of_scope_url(self):
        return f"/api/v1/devices/{ip_device(COMMUNE_B).pk}"

    def body(self):
        return {"volume": 60}


def test_asrun_accepts_device_tokens_only(client, users):
    """Finding 14.4: a viewer's token stored as-run entries (forged proof of play)."""
    dev, other = ip_device(COMMUNE_A), ip_device(COMMUNE_B)
    entry = {
        "id": str(uuid.uuid4()),
        "item": "s1-20261201T0700",
        "started_at": "2026-12-01T07:00:00+07:00",
        "status": "played",
    }
    url = f"/api/v1/devices/{dev.pk}/asrun"
    for name in ("viewer", "operator", "admin"):
        res = call(client, "post", url, user=users[name], body={"entries": [entry]})
        assert res.status_code == 401, (name, res.status_code)
    client.force_login(users["admin"])
    assert client.post(url, {"entries": []}, content_type="application/json").status_code == 401
    client.logout()
    assert not AsRunEntry.objects.exists()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {device_token(other)}"}
    assert call(client, "post", url, body={"entries": [entry]}, **auth).status_code == 404
    auth = {"HTTP_AUTHORIZATION": f"Bearer {device_token(dev)}"}
    res = call(client, "post", url, body={"entries": [entry]}, **auth)
    assert res.status_code == 200 and res.json()["accepted"] == [entry["id"]]


def verify(envelope: dict, keys: list[dict]) -> bool:
    """What a device does: only `cryptography` and the JSON, no project code."""
    key = next(k for k in keys if k["kid"] == envelope["kid"])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    signed = json.dumps(
        envelope["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    try:
        public.verify(base64.b64decode(envelope["sig"]), signed)
    except Exception:
        return False
    return True


def test_manifest_verifies_with_published_key(client, users):
    dev = ip_device(COMMUNE_A, volume=70)
    RelaySource.objects.create(unit=unit("33"), name="VOV1", url="https://stream.example/vov1.ogg")
    relay = schedule_body(
        COMMUNE_A,
        title="Tiếp sóng",
        kind="relay",
        starts_at="2026-12-01T06:00:00+07:00",
        duration_seconds=1800,
        rrule="FREQ=DAILY",
        media=[],
        relay={"type": "stream", "url": "https://stream.example/vov1.ogg"},
    )
    for body in (relay, schedule_body(COMMUNE_A, starts_at="2026-12-01T07:00:00+07:00", volume=95)):
        assert (
            call(client, "post", "/api/v1/schedules", user=users["operator"], body=body).status_code
            == 201
        )
    response = call(client, "get", f"/api/v1/devices/{dev.pk}/manifest", user=users["operator"])
    assert response.status_code == 200 and response["ETag"]
    envelope = json.loads(response.content)
    keys = client.get("/api/v1/keys").json()  # public, no login
    assert verify(envelope, keys)
    payload = envelope["payload"]
    assert payload["device"] == str(dev.pk)  # device ids are strings on the wire
    horizon = datetime.fromisoformat(payload["valid_until"]) - datetime.fromisoformat(
        payload["generated_at"]
    )
    assert horizon >= timedelta(hours=48)
    relays = [i for i in payload["items"] if i["kind"] == "relay"]
    assert len(relays) == 3  # 06:00 on each of the three days ahead
    assert relays[0]["relay"] == {"type": "stream", "url": "https://stream.example/vov1.ogg"}
    assert relays[0]["volume"] == 70
    (media,) = [i for i in payload["items"] if i["kind"] == "media"]
    assert media["media"][0]["sha256"] == store_media(COMMUNE_A)[0]["sha256"]
    assert media["volume"] == 95
    assert {"id", "start", "end", "priority", "kind", "volume"} <= set(media)
    # A forged payload fails.
    envelope["payload"]["items"][0]["volume"] = 100
    assert not verify(envelope, keys)


def test_etag_and_304(client, users):
    dev = ip_device(COMMUNE_A)
    url = f"/api/v1/devices/{dev.pk}/manifest"
    first = call(client, "get", url, user=users["operator"])
    etag = first["ETag"]
    again = call(client, "get", url, user=users["operator"], HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    body = schedule_body(COMMUNE_A, starts_at="2026-12-01T08:00:00+07:00")
    call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
    changed = call(client, "get", url, user=users["operator"], HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_board_or_wired_device_has_no_manifest(client, users):
    dev = ip_device(COMMUNE_A, technology="wired")
    response = call(client, "get", f"/api/v1/devices/{dev.pk}/manifest", user=users["operator"])
    assert response.status_code == 409


def test_incremental_compile_touches_only_changed_devices(client, users):
    a = [ip_device(COMMUNE_A) for _ in range(3)]
    b = [ip_device(COMMUNE_B) for _ in range(2)]
    first = manifests.compile_dirty()
    assert first["compiled"] == 5
    etags = dict(Device.objects.values_list("pk", "manifest_etag"))
    assert manifests.compile_dirty()["devices"] == 0  # nothing dirty, nothing done
    body = schedule_body(COMMUNE_A, starts_at="2026-12-01T09:00:00+07:00")
    call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
    assert set(Device.objects.filter(manifest_dirty=True).values_list("pk", flat=True)) == {
        d.pk for d in a
    }
    second = manifests.compile_dirty()
    assert second == {"devices": 3, "compiled": 3, "unchanged": 0}
    now = dict(Device.objects.values_list("pk", "manifest_etag"))
    assert all(now[d.pk] != etags[d.pk] for d in a)
    assert all(now[d.pk] == etags[d.pk] for d in b)
    # A policy change that does not alter the future keeps the stored manifest and ETag.
    put = call(
        client,
        "put",
        f"/api/v1/usage-policies/{COMMUNE_B}",
        user=users["operator2"],
        body={"max_sessions_per_day": 5},
    )
    assert put.status_code == 200
    assert manifests.compile_dirty() == {"devices": 2, "compiled": 0, "unchanged": 2}


def test_expiring_manifests_are_refreshed(users):
    dev = ip_device(COMMUNE_A)
    manifests.compile_dirty()
    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        assert manifests.mark_expiring() == 1
        assert manifests.compile_dirty()["compiled"] == 1
    dev.refresh_from_db()
    assert dev.compiled_at == NOW + timedelta(hours=25)


def test_asrun_is_idempotent_and_reported(client, users):
    a1, a2 = ip_device(COMMUNE_A), ip_device(COMMUNE_A)
    b1 = ip_device(COMMUNE_B)
    body = schedule_body("33", title="Tỉnh: tiêm chủng", priority="priority")
    item = call(client, "post", "/api/v1/schedules", user=users["admin"], body=body).json()
    placed = {}
    for user in ("operator", "operator2"):
        (p,) = call(client, "get", "/api/v1/proposals", user=users[user]).json()
        placed[user] = call(
            client, "post", f"/api/v1/proposals/{p['id']}/place", user=users[user], body={}
        ).json()
    entries = []
    for dev, user in ((a1, "operator"), (a2, "operator"), (b1, "operator2")):
        entry = {
            "id": str(uuid.uuid4()),
            "item": f"s{placed[user]['id']}-20261201T0700",
            "started_at": "2026-12-01T07:00:02+07:00",
            "ended_at": "2026-12-01T07:10:00+07:00",
            "status": "played",
        }
        entries.append(entry)
        url = f"/api/v1/devices/{dev.pk}/asrun"
        auth = {"HTTP_AUTHORIZATION": f"Bearer {device_token(dev)}"}
        for _ in range(2):  # the device retries after a lost answer
            res = call(client, "post", url, body={"entries": [entry]}, **auth)
            assert res.status_code == 200 and res.json()["accepted"] == [entry["id"]]
    assert AsRunEntry.objects.count() == 3
    stored = AsRunEntry.objects.get(pk=entries[0]["id"])
    assert (stored.device_id, stored.status) == (a1.pk, "played")
    assert stored.item_id == placed["operator"]["id"] and stored.station_id == a1.station_id
    assert stored.started_at == datetime.fromisoformat(entries[0]["started_at"])
    assert stored.ended_at == datetime.fromisoformat(entries[0]["ended_at"])
    bad = {"entries": [{"id": "nope", "started_at": "x", "status": "played"}]}
    a1_auth = {"HTTP_AUTHORIZATION": f"Bearer {device_token(a1)}"}
    res = call(client, "post", f"/api/v1/devices/{a1.pk}/asrun", body=bad, **a1_auth)
    assert res.json()["accepted"] == [] and res.json()["rejected"][0]["id"] == "nope"
    # Another device cannot claim an entry id already stored for a1.
    stolen = {"entries": [entries[0]]}
    b1_auth = {"HTTP_AUTHORIZATION": f"Bearer {device_token(b1)}"}
    res = call(client, "post", f"/api/v1/devices/{b1.pk}/asrun", body=stolen, **b1_auth)
    assert res.json()["accepted"] == []
    report = call(
        client, "get", f"/api/v1/asrun/report?item={item['id']}", user=users["viewer"]
    ).json()
    assert report["communes"] == 2 and report["clusters"] == 3
    by_code = {r["unit_code"]: r for r in report["rows"]}
    assert by_code[COMMUNE_A]["clusters"] == 2 and by_code[COMMUNE_B]["clusters"] == 1
    # A commune operator sees only its own commune in the report.
    mine = call(
        client,
        "get",
        f"/api/v1/asrun/report?item={placed['operator']['id']}",
        user=users["operator"],
    ).json()
    assert mine["communes"] == 1


def test_spliced_payload_is_the_canonical_json():
    from grassroots.core.signing import canonical

    items = [{"id": "s1-20261201T0600", "b": [1, "ạ"], "a": None}]
    fields = {"type": "manifest", "device": 7, "valid_until": "x", "volume": 80, "unit": "1"}
    spliced = manifests.payload_bytes(fields, canonical(items))
    assert spliced == canonical({**fields, "items": items})


def test_device_token_reads_only_its_own_manifest(client, users):
    from grassroots.devices import provisioning

    dev, other = ip_device(COMMUNE_A), ip_device(COMMUNE_A)
    _cred, code = provisioning.authorise(user=users["admin"], device=dev)
    token = provisioning.enrol(code=code)["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.get(f"/api/v1/devices/{dev.pk}/manifest", **auth)
    assert response.status_code == 200
    assert json.loads(response.content)["payload"]["device"] == str(dev.pk)
    assert client.get(f"/api/v1/devices/{other.pk}/manifest", **auth).status_code == 404
    entry = {
        "id": str(uuid.uuid4()),
        "item": "s1-20261201T0700",
        "started_at": "2026-12-01T07:00:00+07:00",
        "status": "failed",
    }
    posted = client.post(
        f"/api/v1/devices/{dev.pk}/asrun",
        data=json.dumps({"entries": [entry]}),
        content_type="application/json",
        **auth,
    )
    assert posted.status_code == 200 and posted.json()["accepted"] == [entry["id"]]


def test_compile_announces_per_commune_through_the_outbox(client, users):
    from grassroots.core.models import OutboxMessage

    a1, a2, _b1 = ip_device(COMMUNE_A), ip_device(COMMUNE_A), ip_device(COMMUNE_B)
    before = OutboxMessage.objects.count()
    manifests.compile_dirty()
    sent = list(OutboxMessage.objects.order_by("pk")[before:])
    assert sorted(m.topic for m in sent) == sorted(
        [f"grassroots/v1/unit/{COMMUNE_A}/cmd", f"grassroots/v1/unit/{COMMUNE_B}/cmd"]
    )
    keys = client.get("/api/v1/keys").json()
    for m in sent:
        envelope = json.loads(m.payload)
        assert verify(envelope, keys) and envelope["payload"]["type"] == "manifest.updated"
    (mine,) = [json.loads(m.payload)["payload"] for m in sent if COMMUNE_A in m.topic]
    a1.refresh_from_db()
    assert set(mine["etags"]) == {str(a1.pk), str(a2.pk)}
    assert mine["etags"][str(a1.pk)] == a1.manifest_etag
    # Nothing changed: nothing announced.
    Device.objects.update(manifest_dirty=True)
    count = OutboxMessage.objects.count()
    manifests.compile_dirty()
    assert OutboxMessage.objects.count() == count
