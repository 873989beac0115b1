"""The broker config the platform writes, against a real Mosquitto: logins, ACL, reload."""

import subprocess
import time

import paho.mqtt.client as mqtt
import pytest

from grassroots.core import broker

pytestmark = pytest.mark.mqtt


@pytest.fixture
def auth_broker(tmp_path):
    port = broker.free_port()
    conf = broker.write_config(tmp_path, port, auth=True)
    proc = subprocess.Popen([broker.mosquitto_binary(), "-c", str(conf)])
    time.sleep(0.5)
    yield tmp_path, port
    proc.terminate()
    proc.wait(5)


def connect(port, username, password):
    result = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    client.on_connect = lambda c, u, f, rc, p: result.setdefault("rc", rc)
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while "rc" not in result and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, result.get("rc")


def device_account(device_id, password, units):
    return broker.Account(
        f"dev-{device_id}",
        broker.password_hash(password),
        read=[f"grassroots/v1/dev/{device_id}/cmd"]
        + [f"grassroots/v1/unit/{u}/cmd" for u in units],
        write=[f"grassroots/v1/dev/{device_id}/state", f"grassroots/v1/dev/{device_id}/events"],
    )


def test_device_may_not_publish_commands(auth_broker):
    home, port = auth_broker
    conf_dir = home / "mosquitto"
    broker.write_auth(
        conf_dir, [broker.server_account(home), device_account(7, "dev-secret", ["33", "11953"])]
    )
    assert broker.reload(conf_dir)
    time.sleep(0.3)

    server, rc = connect(port, broker.SERVER_USER, broker.server_password(home))
    assert not rc.is_failure
    got = []
    server.on_message = lambda c, u, m: got.append(m.topic)
    server.subscribe("grassroots/v1/#", qos=1)

    device, rc = connect(port, "dev-7", "dev-secret")
    assert not rc.is_failure
    dev_got = []
    device.on_message = lambda c, u, m: dev_got.append(m.topic)
    device.subscribe(
        [
            ("grassroots/v1/dev/7/cmd", 1),
            ("grassroots/v1/unit/11953/cmd", 1),
            ("grassroots/v1/unit/99999/cmd", 1),
        ]
    )
    time.sleep(0.3)
    device.publish("grassroots/v1/dev/7/events", b"{}", qos=1).wait_for_publish(2)
    device.publish("grassroots/v1/dev/8/cmd", b"forged", qos=1)
    device.publish("grassroots/v1/unit/33/cmd", b"forged", qos=1)
    server.publish("grassroots/v1/unit/11953/cmd", b"real", qos=1)
    server.publish("grassroots/v1/unit/99999/cmd", b"not yours", qos=1)
    time.sleep(0.8)
    assert "grassroots/v1/dev/7/events" in got
    assert "grassroots/v1/dev/8/cmd" not in got and got.count("grassroots/v1/unit/33/cmd") == 0
    assert dev_got == ["grassroots/v1/unit/11953/cmd"]
    for c in (server, device):
        c.loop_stop()


def test_wrong_password_and_revocation(auth_broker):
    home, port = auth_broker
    conf_dir = home / "mosquitto"
    broker.write_auth(conf_dir, [broker.server_account(home), device_account(9, "pw-9", ["33"])])
    broker.reload(conf_dir)
    time.sleep(0.3)
    _, rc = connect(port, "dev-9", "wrong")
    assert rc is not None and rc.is_failure
    _, rc = connect(port, "dev-9", "pw-9")
    assert not rc.is_failure
    # Revoke: the account disappears from the files and the broker reloads them.
    broker.write_auth(conf_dir, [broker.server_account(home)])
    broker.reload(conf_dir)
    time.sleep(0.3)
    _, rc = connect(port, "dev-9", "pw-9")
    assert rc is not None and rc.is_failure
