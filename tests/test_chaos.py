"""Chaos (issue 14): the embedded platform under an emergency and steady device events, while
its parts are killed and its database is locked. Bounded in time, loopback only.

`grassroots run` (SQLite, private Mosquitto, gateway, worker, web) with 200 simulated agents
(`grassroots simulate`, the real agent code) and ten devices publishing telemetry at 20 events
a second each. During an emergency to the whole province: the gateway is killed with SIGKILL
five times at random moments, the broker is restarted once, the web is killed once, then the
database is write-locked for `GRASSROOTS_CHAOS_LOCK_S` seconds (60). Afterwards every event the
broker accepted is stored, the platform answers, and `/readyz` said the truth during the lock.
The counts are printed and written to `$GRASSROOTS_HOME/chaos.json`.

It runs on the embedded default only, so the PostgreSQL pass of CI skips it (it would run the
same SQLite platform a second time).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .publisher import TelemetryPublisher

pytestmark = [
    pytest.mark.mqtt,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="runs the embedded default (SQLite) only"
    ),
]

LOCK_S = float(os.environ.get("GRASSROOTS_CHAOS_LOCK_S", "60"))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url, headers=None, data=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_chaos_nothing_accepted_is_lost(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MQTT_URL")}
    env |= {"GRASSROOTS_HOME": str(home), "DJANGO_SETTINGS_MODULE": "grassroots.config.settings"}
    port = _free_port()
    env["GRASSROOTS_PORT"] = str(port)
    env["GRASSROOTS_MQTT_PORT"] = str(_free_port())
    env["GRASSROOTS_MQTT_WS_PORT"] = str(_free_port())

    def grassroots(*args):
        return subprocess.run(
            [sys.executable, "-m", "grassroots", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )

    grassroots("migrate", "--no-input", "-v0")
    grassroots("load_demo")
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "grassroots", "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    sim = None
    publishers: list[TelemetryPublisher] = []
    rng = random.Random(14)
    report: dict = {}

    def status() -> dict:
        return json.loads((home / "run" / "processes.json").read_text())["children"]

    def kill(name: str, sig=signal.SIGKILL) -> int:
        pid = _wait(lambda: status()[name]["running"] and status()[name]["pid"], 60, name)
        os.kill(pid, sig)
        _wait(lambda: status()[name]["pid"] not in (pid, None) and status()[name]["running"],
              60, f"{name} restarted")  # fmt: skip
        return pid

    def ready():
        try:
            return _request(f"{base}/readyz")[0] == 200
        except OSError:
            return False

    try:
        _wait(ready, 90, "the platform")
        sim = subprocess.Popen(
            [sys.executable, "-m", "grassroots", "simulate", "--devices", "200"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        _wait(lambda: "agents connected" in (sim.stdout.readline() or ""), 120, "the simulator")
        creds = json.loads((home / "simulator" / "credentials.json").read_text())
        mqtt_port = int(env["GRASSROOTS_MQTT_PORT"])
        for device_id in sorted(creds, key=int)[:10]:
            publishers.append(
                TelemetryPublisher(device_id, creds[device_id]["password"], mqtt_port, 0.05)
            )
        for p in publishers:
            p.start()
        login = json.dumps({"username": "admin", "password": "grassroots-demo"}).encode()
        headers = {"Content-Type": "application/json"}
        token = _request(f"{base}/api/v1/auth/token", headers, login)[1]["token"]
        bearer = {**headers, "Authorization": f"Bearer {token}"}
        body = {"units": ["33"], "title": "Diễn tập", "text": "Diễn tập cảnh báo lũ.", "repeat": 1}
        status_code, emergency = _request(
            f"{base}/api/v1/emergencies", bearer, json.dumps(body).encode()
        )
        assert status_code == 201, emergency

        # the gateway killed five times at random moments, the broker restarted, the web killed
        marks: list[tuple[float, str]] = []
        for _ in range(5):
            time.sleep(rng.uniform(0.5, 3.0))
            marks.append((time.monotonic(), "gateway"))
            kill("gateway")
        time.sleep(rng.uniform(0.5, 2.0))
        marks.append((time.monotonic(), "broker"))
        kill("mosquitto", signal.SIGTERM)
        marks.append((time.monotonic(), "broker back"))
        time.sleep(rng.uniform(0.5, 2.0))
        marks.append((time.monotonic(), "web"))
        kill("web")
        _wait(ready, 60, "the platform after the kills")

        # the database write-locked (as a long import, a backup or a migration would)
        lock = sqlite3.connect(home / "grassroots.sqlite3", timeout=30)
        lock.isolation_level = None
        lock.execute("BEGIN IMMEDIATE")
        locked_at = time.monotonic()
        marks.append((locked_at, "lock"))
        probes: list[tuple[int, list]] = []
        try:
            while time.monotonic() - locked_at < LOCK_S:
                try:
                    code, answer = _request(f"{base}/readyz", timeout=15)
                    probes.append((code, (answer or {}).get("not_ready", [])))
                except OSError as exc:
                    probes.append((0, [str(exc)]))
                time.sleep(1)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        marks.append((time.monotonic(), "unlock"))
        _wait(ready, 60, "the platform after the lock")

        time.sleep(2)
        for p in publishers:
            p.finish()
        accepted = set().union(*(p.accepted for p in publishers))

        def stored() -> set[str]:
            db = sqlite3.connect(f"file:{home / 'grassroots.sqlite3'}?mode=ro", uri=True)
            try:
                rows = db.execute(
                    "SELECT event_id FROM devices_deviceevent WHERE type = 'telemetry'"
                ).fetchall()
            finally:
                db.close()
            return {r[0] for r in rows}

        deadline = time.monotonic() + 90
        found = stored()
        while not accepted <= found and time.monotonic() < deadline:
            time.sleep(1)
            found = stored()
        _, detail = _request(f"{base}/api/v1/emergencies/{emergency['id']}", bearer)
        report = {
            "events_accepted_by_broker": len(accepted),
            "events_stored": len(found & accepted),
            "events_lost": len(accepted - found),
            "gateway_kills": 5,
            "broker_restarts": 1,
            "web_kills": 1,
            "lock_s": LOCK_S,
            "readyz_probes_during_lock": len(probes),
            "readyz_503_naming_database": sum(
                1 for code, nr in probes if code == 503 and "database" in nr
            ),
            "emergency_acked": detail.get("acked"),
            "emergency_expected": detail.get("expected"),
        }
        when = {k: v for p in publishers for k, v in p.when.items()}
        lost_at = sorted(when[e] for e in accepted - found)
        report["lost_after"] = {
            label: sum(1 for t in lost_at if at <= t < nxt)
            for (at, label), nxt in zip(marks, [m[0] for m in marks[1:]] + [1e18], strict=True)
        }
        if lost_at:
            report["lost_span_s"] = [
                round(lost_at[0] - marks[0][0], 2),
                round(lost_at[-1] - marks[0][0], 2),
            ]
            report["marks_s"] = [(label, round(at - marks[0][0], 2)) for at, label in marks]
        (home / "chaos.json").write_text(json.dumps(report, indent=2))
        print("chaos:", json.dumps(report))
        assert accepted, "no event was accepted"
        assert not accepted - found, report
        assert probes and all(code == 503 and "database" in nr for code, nr in probes), probes
        assert ready()
    finally:
        for p in publishers:
            p.halt.set()
        for proc in (sim, run):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        print(Path(tmp_path / "run.log").read_text(errors="replace")[-3000:])
