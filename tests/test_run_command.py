"""End-to-end: `grassroots run` on the embedded default (SQLite + private Mosquitto).

Runs the real commands a user runs after `make run` installs: migrate, load_demo (twice, to prove
it is idempotent), then `grassroots run` as one supervised process group, on a free port, while
another broker may already hold 1883. Ctrl-C (SIGINT) must stop every child.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, headers=None, data=None):
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MQTT_URL")}
    env["GRASSROOTS_HOME"] = str(tmp_path / "home")
    env["DJANGO_SETTINGS_MODULE"] = "grassroots.config.settings"
    return env


def grassroots(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "grassroots", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def test_run_serves_and_stops_cleanly(env):
    grassroots(env, "migrate", "--no-input", "-v0")
    first = grassroots(env, "load_demo").stdout
    second = grassroots(env, "load_demo").stdout
    assert "'created': 506" in first
    assert "'created': 0" in second and "'users': 0" in second

    port = _free_port()
    env["GRASSROOTS_PORT"] = str(port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "grassroots", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"{base}/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "not ready within 60 s"
            time.sleep(0.3)
        assert body["checks"]["broker"]["ok"] and body["checks"]["database"]["info"] == "sqlite"
        # The private broker is not the system one on 1883.
        assert not body["checks"]["broker"]["info"].endswith(":1883")
        _, token = _get(
            f"{base}/api/v1/auth/token",
            {"Content-Type": "application/json"},
            json.dumps({"username": "admin", "password": "grassroots-demo"}).encode(),
        )
        _, children = _get(
            f"{base}/api/v1/units/33/children", {"Authorization": f"Bearer {token['token']}"}
        )
        assert len(children) == 104
        with urllib.request.urlopen(f"{base}/static/vendor/bootstrap/bootstrap.min.css") as r:
            assert r.status == 200
        # The gateway logs in to the private broker (with the server's own password).
        deadline = time.monotonic() + 30
        while not any("gateway connected" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        # `grassroots simulate` with no options joins this instance (its private broker and
        # web address, found in GRASSROOTS_HOME), not whatever listens on 1883
        sim = grassroots(env, "simulate", "--devices", "3", "--duration", "6")
        assert f"and {base}" in sim.stdout and ":1883 " not in sim.stdout, sim.stdout
        assert "3/3 agents connected" in sim.stdout, sim.stdout + sim.stderr
        _, rows = _get(
            f"{base}/api/v1/devices/fleet/status", {"Authorization": f"Bearer {token['token']}"}
        )
        assert len([r for r in rows if r["name"].startswith("Cụm loa mô phỏng")]) == 3
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(10)
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/" in out and "operator2" in out
    assert "grassroots stopped." in out
    # with nothing running in GRASSROOTS_HOME, the simulator refuses to guess a broker
    refused = subprocess.run(
        [sys.executable, "-m", "grassroots", "simulate", "--devices", "1", "--duration", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "make run" in refused.stderr
