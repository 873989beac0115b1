"""Two real instances of the platform exchange over HTTP: the central system and Hưng Yên.

Each has its own home, database and web process (gunicorn, as `grassroots run` starts it); the
outbox is pushed and pulled with `grassroots exchange push|pull|statistics` in the instance's
own environment (what the worker's periodic jobs call). The story:

1. keys exchanged out of band, each declares the other as a peer;
2. the centre writes, approves and publishes a bulletin and sends it down: it reaches Hưng Yên's
   approval queue as a national bulletin; Hưng Yên approves and publishes it to its communes;
3. Hưng Yên's statistics go up: the centre sees the bulletin received, approved, shared;
4. Hưng Yên's web is stopped; the centre sends two more bulletins (the pushes fail and wait);
   after the restart Hưng Yên pulls and catches up: every bulletin once, none lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from grassroots.core.broker import free_port
from grassroots.core.management.commands.run import web_argv

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs the embedded default (SQLite) only"
)

PASSWORD = "grassroots-demo"


class Instance:
    def __init__(self, home: Path, level: str, exchange_id: str):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MQTT_URL")}
        self.env.update(
            GRASSROOTS_HOME=str(home),
            GRASSROOTS_LEVEL=level,
            GRASSROOTS_EXCHANGE_ID=exchange_id,
            GRASSROOTS_DEMO_PASSWORD=PASSWORD,
            DJANGO_SETTINGS_MODULE="grassroots.config.settings",
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}

    def start_command(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "grassroots", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def command(self, *args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "grassroots", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start_web(self) -> None:
        log = open(self.home / "web.log", "ab")  # noqa: SIM115 - kept open for the process
        self.proc = subprocess.Popen(
            web_argv(self.home, "127.0.0.1", self.port, 1),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, "web down"
                time.sleep(0.2)

    def stop_web(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def api(self, method: str, path: str, body=None, *, user: str = "admin"):
        if user not in self.tokens:
            self.tokens[user] = self._call(
                "POST", "/auth/token", {"username": user, "password": PASSWORD}, None
            )["token"]
        return self._call(method, path, body, self.tokens[user])

    def _call(self, method: str, path: str, body, token: str | None):
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None


def publish(central: Instance, title: str) -> int:
    """The centre writes, approves and publishes a bulletin for Hưng Yên (unit 33)."""
    b = central.api(
        "POST",
        "/bulletins",
        {"unit_code": "VN", "title": title, "body": f"<p>{title}: nội dung.</p>",
         "priority": "priority", "targets": ["33"]},
        user="editor",
    )  # fmt: skip
    central.api("POST", f"/bulletins/{b['id']}/submit", {}, user="editor")
    central.api("POST", f"/bulletins/{b['id']}/approve", {}, user="approver")
    central.api("POST", f"/bulletins/{b['id']}/publish", {}, user="approver")
    sent = central.api("POST", f"/exchange/bulletins/{b['id']}/send", {"peers": ["province-33"]})
    assert [s["status"] for s in sent] == ["pending"]
    return b["id"]


def national(province: Instance) -> list[dict]:
    """Hưng Yên's bulletins from the centre (their title says so; the province wrote none)."""
    rows = province.api("GET", "/bulletins?limit=200", user="approver")
    return [b for b in rows if b["title"].startswith("Tin trung ương")]


@pytest.fixture
def pair(tmp_path):
    central = Instance(tmp_path / "central", "central", "central")
    province = Instance(tmp_path / "hung-yen", "province", "province-33")
    try:
        yield central, province
    finally:
        central.stop_web()
        province.stop_web()


def test_central_and_province_exchange_and_catch_up(pair):
    central, province = pair
    for step in (("migrate", "-v0"), ("load_demo",)):
        procs = [i.start_command(*step) for i in (central, province)]
        for p in procs:
            out, _ = p.communicate(timeout=600)
            assert p.returncode == 0, out.decode(errors="replace")[-2000:]

    # 1. keys exchanged out of band, each declares the other
    ckey, pkey = central.command("exchange", "key"), province.command("exchange", "key")
    assert ckey["source"] == "central" and pkey["source"] == "province-33"
    central.command(
        "exchange", "add-peer", "--code", "province-33", "--name", "Tỉnh Hưng Yên",
        "--url", province.url, "--unit", "33", "--public-key", pkey["public_key"],
        "--kinds-in", "statistics", "--kinds-out", "bulletin,withdrawal",
    )  # fmt: skip
    province.command(
        "exchange", "add-peer", "--code", "central", "--name", "Hệ thống trung ương",
        "--url", central.url, "--unit", "33", "--public-key", ckey["public_key"],
        "--kinds-in", "bulletin,withdrawal,citizen_report", "--kinds-out", "statistics",
    )  # fmt: skip
    central.start_web()
    province.start_web()

    # 2. a central bulletin reaches Hưng Yên's approval queue, is approved and published
    first = publish(central, "Tin trung ương số 1")
    assert central.command("exchange", "push") == {"sent": 1}
    [received] = national(province)
    assert received["title"] == "Tin trung ương số 1" and received["status"] == "submitted"
    province.api("POST", f"/bulletins/{received['id']}/approve", {}, user="approver")
    province.api("POST", f"/bulletins/{received['id']}/publish", {}, user="approver")
    shares = province.api("GET", f"/bulletins/{received['id']}/shares", user="approver")
    assert len(shares) > 50  # every commune of the province

    # 3. statistics go up: the centre sees what became of its bulletin
    assert province.command("exchange", "statistics")["queued"] == 1
    assert province.command("exchange", "push") == {"sent": 1}
    [fate] = central.api("GET", f"/exchange/fates?message_id=central:bulletin:{first}")
    assert fate["received"] and fate["approved"] and fate["communes"] == len(shares)

    # 4. Hưng Yên is down: pushes fail and wait for their back-off
    province.stop_web()
    later = [publish(central, f"Tin trung ương số {n}") for n in (2, 3)]
    assert central.command("exchange", "push") == {"sent": 0}
    pending = central.api("GET", "/exchange/outbox?status=pending")
    # the first failure stops the round for this peer: the next message waits its turn
    assert len(pending) == 2
    assert [(p["attempts"], "không kết nối được" in p["last_error"]) for p in pending] == [
        (0, False),
        (1, True),
    ]

    # … it comes back and catches up by pulling: nothing lost, nothing twice
    province.start_web()
    pulled = province.command("exchange", "pull")["central"]
    assert pulled == {"applied": 2, "duplicate": 1, "refused": 0}
    assert province.command("exchange", "pull")["central"]["applied"] == 0
    titles = sorted(b["title"] for b in national(province))
    assert titles == ["Tin trung ương số 1", "Tin trung ương số 2", "Tin trung ương số 3"]
    outbox = central.api("GET", "/exchange/outbox")
    assert {o["status"] for o in outbox} == {"delivered"}
    assert sorted(o["delivered_via"] for o in outbox) == ["pull", "pull", "push"]
    assert {f"central:bulletin:{n}" for n in later} <= {o["message_id"] for o in outbox}
