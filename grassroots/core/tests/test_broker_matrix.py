"""Broker ACLs as a matrix: every client kind x every topic form x publish and subscribe.

The same expectations are checked against a real Mosquitto (with the files the platform writes)
and against the EMQX HTTP hooks. The expected rights are written out here by hand, not derived
from the rule table (core.mqtt_acl.RULES), so a wrong rule fails.
"""

import json
import subprocess
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone

from grassroots.core import broker, mqtt_acl

pytestmark = pytest.mark.mqtt

DEV, BOARD_DEV, OTHER = 7, 8, 9
DEV_UNITS, BOARD_UNITS = ["33", "11953"], ["33", "11977"]
R = "grassroots/v1"

# What each client may receive (read) and send (write), by hand from architecture.md.
READABLE = {
    "server": "everything",
    "device": {f"{R}/dev/{DEV}/cmd", f"{R}/unit/33/cmd", f"{R}/unit/11953/cmd"},
    "board": {f"{R}/dev/{BOARD_DEV}/cmd", f"{R}/unit/33/cmd", f"{R}/unit/11977/cmd"},
    "anonymous": set(),
}
WRITABLE = {
    "server": "everything",
    "device": {f"{R}/dev/{DEV}/state", f"{R}/dev/{DEV}/events"},
    "board": {f"{R}/dev/{BOARD_DEV}/state", f"{R}/dev/{BOARD_DEV}/events"},
    "anonymous": set(),
}
OWN = {"server": DEV, "device": DEV, "board": BOARD_DEV, "anonymous": DEV}

# Topics the server publishes as probes for subscriptions (and a client tries to publish).
PROBES = [
    f"{R}/dev/{DEV}/cmd",
    f"{R}/dev/{BOARD_DEV}/cmd",
    f"{R}/dev/{OTHER}/cmd",
    f"{R}/dev/{OTHER}/events",
    f"{R}/dev/{OTHER}/state",
    f"{R}/unit/33/cmd",
    f"{R}/unit/11953/cmd",
    f"{R}/unit/11977/cmd",
    f"{R}/unit/99999/cmd",
    "probe",
]


def subscribe_forms(kind):
    own = OWN[kind]
    unit = {"device": "11953", "board": "11977"}.get(kind, "11953")
    return {
        "own cmd": f"{R}/dev/{own}/cmd",
        "other cmd": f"{R}/dev/{OTHER}/cmd",
        "own unit": f"{R}/unit/{unit}/cmd",
        "province unit": f"{R}/unit/33/cmd",
        "other unit": f"{R}/unit/99999/cmd",
        "other events": f"{R}/dev/{OTHER}/events",
        "every events (+)": f"{R}/dev/+/events",
        "$share old group": f"$share/grassroots/{R}/dev/+/events",
        "$SYS": "$SYS/#",
        "#": "#",
        "+": "+",
    }


def publish_forms(kind):
    own = OWN[kind]
    return {
        "own state": f"{R}/dev/{own}/state",
        "own events": f"{R}/dev/{own}/events",
        "own cmd": f"{R}/dev/{own}/cmd",
        "other events": f"{R}/dev/{OTHER}/events",
        "other state": f"{R}/dev/{OTHER}/state",
        "other cmd": f"{R}/dev/{OTHER}/cmd",
        "unit cmd": f"{R}/unit/33/cmd",
    }


def may_read(kind, topic):
    readable = READABLE[kind]
    if readable == "everything":
        return True
    return topic in readable


def may_write(kind, topic):
    writable = WRITABLE[kind]
    return writable == "everything" or topic in writable


@pytest.fixture
def mosquitto(tmp_path):
    port = broker.free_port()
    conf = broker.write_config(tmp_path, port, auth=True)
    with conf.open("a") as f:
        f.write("sys_interval 1\n")  # $SYS messages every second, to test who reads them
    secrets = {"device": "pw-device", "board": "pw-board"}
    accounts = [
        broker.server_account(tmp_path),
        broker.Account.for_client(
            mqtt_acl.DEVICE,
            f"dev-{DEV}",
            broker.password_hash(secrets["device"]),
            device_id=DEV,
            units=DEV_UNITS,
        ),
        broker.Account.for_client(
            mqtt_acl.BOARD,
            f"board-{BOARD_DEV}",
            broker.password_hash(secrets["board"]),
            device_id=BOARD_DEV,
            units=BOARD_UNITS,
        ),
        # another device, the victim of the shared-subscription hijack
        broker.Account.for_client(
            mqtt_acl.DEVICE,
            f"dev-{OTHER}",
            broker.password_hash("pw-other"),
            device_id=OTHER,
            units=["33"],
        ),
    ]
    broker.write_auth(tmp_path / "mosquitto", accounts)
    proc = subprocess.Popen(
        [broker.mosquitto_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    logins = {
        "server": (broker.SERVER_USER, broker.server_password(tmp_path)),
        "device": (f"dev-{DEV}", secrets["device"]),
        "board": (f"board-{BOARD_DEV}", secrets["board"]),
        "anonymous": (None, None),
        "other": (f"dev-{OTHER}", "pw-other"),
    }
    clients = []

    def connect(kind):
        username, password = logins[kind]
        result = {}
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{kind}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if username:
            client.username_pw_set(username, password)
        client.on_connect = lambda c, u, f, rc, p: result.setdefault("rc", rc)
        client.connect("127.0.0.1", port)
        client.loop_start()
        clients.append(client)
        deadline = time.monotonic() + 5
        while "rc" not in result and time.monotonic() < deadline:
            time.sleep(0.02)
        rc = result.get("rc")
        return client, (rc is not None and not rc.is_failure)

    yield connect, tmp_path
    proc.terminate()  # first: the clients' loops then stop at once instead of saying goodbye
    for client in clients:
        client.disconnect()
        client.loop_stop()
    proc.wait(5)


def test_anonymous_cannot_connect(mosquitto):
    connect, _ = mosquitto
    _, ok = connect("anonymous")
    assert not ok


@pytest.mark.parametrize("kind", ["device", "board", "server"])
def test_mosquitto_subscribe_matrix(mosquitto, kind):
    """Each subscription form receives exactly the probes its login may read."""
    connect, _ = mosquitto
    forms = subscribe_forms(kind)
    got = {name: set() for name in forms}
    for name, topic_filter in forms.items():
        client, ok = connect(kind)
        assert ok
        client.on_message = lambda c, u, m, name=name: got[name].add(m.topic)
        client.subscribe(topic_filter, qos=1)
    server, ok = connect("server")
    assert ok
    time.sleep(0.4)
    for topic in PROBES:
        server.publish(topic, b"probe", qos=1).wait_for_publish(2)
    time.sleep(1.5)  # also lets the broker publish its $SYS topics once (sys_interval 1)
    wrong = {}
    for name, topic_filter in forms.items():
        # a `$share/<group>/` subscription matches the topics of the filter after it
        plain = topic_filter
        if plain.startswith("$share/"):
            plain = plain.split("/", 2)[2]
        expected = {t for t in PROBES if mqtt.topic_matches_sub(plain, t) and may_read(kind, t)}
        received = {t for t in got[name] if not t.startswith("$SYS/")}
        sys_topics = {t for t in got[name] if t.startswith("$SYS/")}
        if received != expected:
            wrong[name] = {"expected": sorted(expected), "received": sorted(received)}
        if name == "$SYS" and bool(sys_topics) != (kind == "server"):
            wrong[name] = {"$SYS received": len(sys_topics)}
    assert not wrong, wrong


@pytest.mark.parametrize("kind", ["device", "board", "server"])
def test_mosquitto_publish_matrix(mosquitto, kind):
    """Each login's publishes reach the broker's readers only on the topics it may write."""
    connect, _ = mosquitto
    spy, ok = connect("server")
    assert ok
    seen = set()
    spy.on_message = lambda c, u, m: seen.add(m.topic)
    spy.subscribe("#", qos=1)
    client, ok = connect(kind)
    assert ok
    time.sleep(0.3)
    forms = publish_forms(kind)
    for topic in forms.values():
        client.publish(topic, b"x", qos=1).wait_for_publish(2)
    time.sleep(0.6)
    wrong = {
        name: topic for name, topic in forms.items() if (topic in seen) != may_write(kind, topic)
    }
    assert not wrong, wrong


def test_a_device_cannot_take_the_gateways_shared_subscription(mosquitto):
    """Finding 1: a device joins `$share/<gateway group>/...`; every event must still reach the
    gateway. Mosquitto's acl_file does not check SUBSCRIBE, so with a public group name (the old
    `grassroots`) the device takes every other message and the ACL drops them."""
    connect, home = mosquitto
    old_group = "grassroots"
    group = mqtt_acl.share_group(broker.server_password(home))
    assert group != old_group

    received = {old_group: [], group: []}
    for g in (old_group, group):
        gateway, ok = connect("server")
        assert ok
        gateway.on_message = lambda c, u, m, g=g: received[g].append(m.payload)
        gateway.subscribe(f"$share/{g}/{R}/dev/+/events", qos=1)
    thief, ok = connect("device")
    assert ok
    stolen = []
    thief.on_message = lambda c, u, m: stolen.append(m.payload)
    thief.subscribe(
        [(f"$share/{old_group}/{R}/dev/+/events", 1), (f"$share/{old_group}/{R}/dev/+/state", 1)]
    )
    victim, ok = connect("other")
    assert ok
    time.sleep(0.4)
    for i in range(20):
        victim.publish(f"{R}/dev/{OTHER}/events", json.dumps({"n": i}), qos=1).wait_for_publish(2)
    time.sleep(1.0)
    assert stolen == []  # the ACL kept the payloads from the thief...
    assert len(received[old_group]) < 20  # ...but a public group lost its share of them
    assert len(received[group]) == 20  # the platform's group lost nothing


def test_the_acl_file_comes_from_the_rule_table(tmp_path):
    account = broker.Account.for_client(
        mqtt_acl.DEVICE, "dev-5", broker.password_hash("x"), device_id=5, units=["33", "11953"]
    )
    broker.write_auth(tmp_path, [broker.server_account(tmp_path), account])
    acl = (tmp_path / "acl").read_text()
    device_part = acl.split("user dev-5\n")[1].strip().splitlines()
    assert sorted(device_part) == sorted(
        [
            f"topic read {R}/dev/5/cmd",
            f"topic read {R}/unit/33/cmd",
            f"topic read {R}/unit/11953/cmd",
            f"topic write {R}/dev/5/state",
            f"topic write {R}/dev/5/events",
        ]
    )
    assert "$share" not in acl


# --- the same matrix against the EMQX hooks -------------------------------------------------

EMQX_SUBSCRIBE_EXTRA = {
    # forms a broker with SUBSCRIBE checks refuses outright (Mosquitto's acl_file cannot)
    "$share of the gateway": lambda group: f"$share/{group}/{R}/dev/+/events",
}


def expected_subscribe(kind, topic_filter, group):
    """EMQX asks at SUBSCRIBE: allowed only when everything the filter matches is readable."""
    if kind == "anonymous":
        return False
    if kind == "server":
        if topic_filter.startswith("$share/"):
            return topic_filter.startswith(f"$share/{group}/")
        return True
    return topic_filter in READABLE[kind]


@pytest.mark.django_db
def test_emqx_hook_matrix(client, demo, monkeypatch, settings, tmp_path):
    from grassroots.devices.models import Device
    from grassroots.devices.models_fleet import DeviceCredential
    from grassroots.signage.models import Board
    from grassroots.units.models import Unit

    monkeypatch.setenv("GRASSROOTS_MQTT_HOOK_SECRET", "hook-secret")
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    group = mqtt_acl.share_group(broker.server_password(tmp_path))

    def make_device(pk, code, kind):
        unit = Unit.objects.get(code=code, valid_to__isnull=True)
        return Device.objects.create(
            pk=pk, kind=kind, unit=unit, name=f"T{pk}", serial=f"M-{pk}", technology="ip_4g"
        )

    dev = make_device(DEV, "11953", "speaker")
    DeviceCredential.objects.create(
        device=dev, enrolled_at=timezone.now(), mqtt_password_hash=broker.password_hash("pw-d")
    )
    board_dev = make_device(BOARD_DEV, "11977", "board")
    Board.objects.create(
        device=board_dev, token_hash="b" * 64, mqtt_password_hash=broker.password_hash("pw-b")
    )
    # the demo tree: both communes hang directly under the province
    assert dev.unit.parent.code == board_dev.unit.parent.code == "33"
    names = {
        "server": broker.SERVER_USER,
        "device": f"dev-{DEV}",
        "board": f"board-{BOARD_DEV}",
        "anonymous": "",
    }
    passwords = {
        "server": broker.server_password(tmp_path),
        "device": "pw-d",
        "board": "pw-b",
        "anonymous": "",
    }

    def hook(path, body):
        response = client.post(
            f"/api/v1/mqtt/{path}",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_GRASSROOTS_HOOK_SECRET="hook-secret",
        )
        assert response.status_code == 200, response.content
        return response.json()

    wrong = {}
    for kind, username in names.items():
        auth = hook("auth", {"username": username, "password": passwords[kind]})
        if (auth["result"] == "allow") != (kind != "anonymous") or auth["is_superuser"]:
            wrong[(kind, "auth")] = auth
        subscribe = dict(subscribe_forms(kind))
        subscribe.update({k: f(group) for k, f in EMQX_SUBSCRIBE_EXTRA.items()})
        for form, topic_filter in subscribe.items():
            body = {"username": username, "topic": topic_filter, "action": "subscribe"}
            got = hook("acl", body)["result"] == "allow"
            expected = expected_subscribe(kind, topic_filter, group)
            if got != expected:
                wrong[(kind, "subscribe", form)] = got
        publish = dict(publish_forms(kind))
        publish.update({"#": "#", "+": "+", "$SYS": "$SYS/x", "$share": f"$share/{group}/x"})
        for form, topic in publish.items():
            body = {"username": username, "topic": topic, "action": "publish"}
            got = hook("acl", body)["result"] == "allow"
            expected = kind != "anonymous" and may_write(kind, topic)
            if topic.startswith("$") or topic in ("#", "+"):
                expected = False
            if got != expected:
                wrong[(kind, "publish", form)] = got
    assert not wrong, wrong


def test_one_gateway_subscribes_plainly_several_share_an_unguessable_group(settings):
    """A plain subscription survives a broker restart (Mosquitto does not restore `$share`), and
    no device can take a turn of it; `$share/` only when several gateways split the load."""
    from grassroots.core.gateway import device_topics

    settings.GRASSROOTS = {**settings.GRASSROOTS, "GATEWAY_SHARED": False}
    assert device_topics("secret") == [f"{R}/dev/+/state", f"{R}/dev/+/events"]
    settings.GRASSROOTS = {**settings.GRASSROOTS, "GATEWAY_SHARED": True}
    group = mqtt_acl.share_group("secret")
    assert device_topics("secret") == [
        f"$share/{group}/{R}/dev/+/state",
        f"$share/{group}/{R}/dev/+/events",
    ]
