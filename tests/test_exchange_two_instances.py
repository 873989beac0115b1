"""The national chain, end to end, with two real instances of the platform: the central system
and Hưng Yên, each with its own home, database and processes.

The centre runs its web process (gunicorn, as `grassroots run` starts it) and its exchange
rounds by hand (`grassroots exchange push|pull`, what its worker's periodic jobs call), so that
each delivery can be counted. Hưng Yên runs the whole platform as a province does,
`grassroots run`: web, worker (which pushes, pulls and sends statistics on its own), the MQTT
gateway and a private Mosquitto; its loudspeakers are the project's device simulator
(`grassroots simulate`: real agents, null audio). The story:

1. keys exchanged out of band, each declares the other as a peer;
2. the centre writes, approves and publishes a bulletin and sends it down: it reaches Hưng Yên's
   approval queue as a national bulletin; Hưng Yên approves and publishes it to its communes;
3. the commune's operator places it on the station's schedule, a simulated loudspeaker of the
   commune plays it and its as-run entry comes back through Mosquitto and the gateway;
4. Hưng Yên's statistics go up: the centre's console shows the bulletin received, approved,
   placed and aired in Hưng Yên, and the month's national figures count the play;
5. the whole of Hưng Yên is stopped; the centre sends two more bulletins (the pushes fail and
   wait); after the restart Hưng Yên's worker pulls and catches up: every bulletin once, none
   lost.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from grassroots.core.broker import free_port
from grassroots.core.management.commands.run import web_argv

pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="runs the embedded default (SQLite) only"
    ),
    pytest.mark.browser,
    pytest.mark.mqtt,
]

PASSWORD = "grassroots-demo"
COMMUNE = "11953"  # Phường Phố Hiến: the demo `operator`'s commune, the simulator's first


def wait_for(cond, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out ({timeout:.0f} s) waiting for {what}"
        time.sleep(interval)


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

    def start_run(self) -> None:
        """The whole platform, `grassroots run` (no Icecast: no live audio here), on this
        instance's port; ready when the web answers and the gateway is on the broker."""
        self.run_log = self.home / f"run-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grassroots", "run", "--no-icecast", "--workers", "1",
             "--port", str(self.port)],
            env=self.env,
            stdout=self.run_log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

        def ready() -> bool:
            assert self.proc.poll() is None, self.run_log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2):
                    pass
            except OSError:
                return False
            return "gateway connected" in self.run_log.read_text(errors="replace")

        wait_for(ready, 90, f"{self.home.name} running")

    def stop_run(self) -> None:
        """Ctrl-C to the whole group (web, worker, gateway, broker), as an operator does."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
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
            detail = exc.read().decode(errors="replace")[:800]
            raise AssertionError(f"{method} {path}: {exc.code} {detail}") from None


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
        province.stop_run()


@contextlib.contextmanager
def simulated_loudspeaker(province: Instance):
    """`grassroots simulate --devices 1`: one real agent (null audio) in the province's first
    commune, on its private broker, until the block ends."""
    log = province.home / "simulate.log"
    sim = subprocess.Popen(
        [sys.executable, "-m", "grassroots", "simulate", "--devices", "1", "--duration", "600"],
        env=province.env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def connected() -> bool:
            assert sim.poll() is None, log.read_text()
            return "1/1 agents connected" in log.read_text(errors="replace")

        wait_for(connected, 60, "the simulated loudspeaker on the province's broker")
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sim.pid, signal.SIGINT)
        try:
            sim.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(sim.pid, signal.SIGKILL)
            sim.wait()


def test_the_national_chain_airs_reports_back_and_catches_up(pair, browser):
    from grassroots.core.testing.browser import login, open_nav, shoot

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
        "--url", province.url, "--unit", "33", "--public-key", json.dumps(pkey),
        "--kinds-in", "statistics", "--kinds-out", "bulletin,withdrawal",
    )  # fmt: skip
    province.command(
        "exchange", "add-peer", "--code", "central", "--name", "Hệ thống trung ương",
        "--url", central.url, "--unit", "33", "--public-key", json.dumps(ckey),
        "--kinds-in", "bulletin,withdrawal,citizen_report", "--kinds-out", "statistics",
    )  # fmt: skip
    central.start_web()
    province.start_run()

    with simulated_loudspeaker(province):
        # 2. a central bulletin reaches Hưng Yên's approval queue, is approved and published
        first = publish(central, "Tin trung ương số 1")
        assert central.command("exchange", "push") == {"sent": 1}
        [received] = national(province)
        assert received["title"] == "Tin trung ương số 1" and received["status"] == "submitted"
        province.api("POST", f"/bulletins/{received['id']}/approve", {}, user="approver")
        province.api("POST", f"/bulletins/{received['id']}/publish", {}, user="approver")
        shares = province.api("GET", f"/bulletins/{received['id']}/shares", user="approver")
        assert len(shares) > 50  # every commune of the province
        # sent down again unchanged (a second click): nothing new goes, nothing changes there
        again = central.api("POST", f"/exchange/bulletins/{first}/send", {"peers": ["province-33"]})
        assert [(s["version"], s["sent"]) for s in again] == [(1, False)]
        assert central.command("exchange", "push") == {"sent": 0}
        again = province.api("GET", f"/bulletins/{received['id']}", user="approver")
        assert again["status"] == "published"
        assert again["body"] == "Tin trung ương số 1: nội dung."  # plain text, no <p>

        # 3. the commune places the province's proposal; the loudspeaker plays it
        proposal = wait_for(
            lambda: [
                p
                for p in province.api("GET", "/proposals", user="operator")
                if p["title"] == "Tin trung ương số 1"
            ],
            60,
            "the proposal in the commune's inbox",
        )[0]
        assert proposal["unit_code"] == COMMUNE

        def place() -> dict | None:
            """Place it 20 s ahead once its voice (TTS, the worker's task after approval) is
            ready; until then the platform refuses with what is missing."""
            slot = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=20)
            try:
                return province.api(
                    "POST",
                    f"/proposals/{proposal['id']}/place",
                    {"starts_at": slot.replace(microsecond=0).isoformat()},
                    user="operator",
                )
            except AssertionError as exc:
                assert "chưa có tệp âm thanh" in str(exc), exc
                return None

        wait_for(place, 90, "the bulletin's voice, to place it", interval=2)
        report = wait_for(
            lambda: (
                (
                    r := province.api(
                        "GET", f"/asrun/report?bulletin={received['id']}", user="admin"
                    )
                )["communes"]
                and r
            ),
            120,
            "the as-run entry of the commune's loudspeaker",
        )
    [row] = report["rows"]
    assert row["unit_code"] == COMMUNE and row["plays"] >= 1 and row["clusters"] == 1

    # 4. statistics go up (the worker pushes them): the centre sees what became of its bulletin
    assert province.command("exchange", "statistics")["queued"] == 1

    def fate() -> dict | None:
        rows = central.api("GET", f"/exchange/fates?message_id=central:bulletin:{first}")
        return rows[0] if rows and rows[0]["aired_communes"] else None

    aired = wait_for(fate, 60, "the aired statistics at the centre")
    assert aired["received"] and aired["approved"] and aired["communes"] == len(shares)
    assert (aired["placed"], aired["aired_communes"]) == (1, 1) and aired["plays"] >= 1
    figures = central.api("GET", "/exchange/national")
    [hy] = figures["provinces"]
    assert hy["name"] == "Tỉnh Hưng Yên" and hy["communes"] == len(shares)
    assert hy["plays"] >= 1 and figures["country"]["plays"] == hy["plays"]
    # the bulletin Hưng Yên published is the province's own fact, counted once
    assert hy["indicators"]["bulletins"] == 1 == figures["country"]["indicators"]["bulletins"]
    # … and its console says so, in a real browser
    page = login(browser, central.url, "admin")
    open_nav(page, "Quản trị", "Gửi xuống, số liệu toàn quốc")
    sent_row = page.locator(f"#sent-table tr[data-message='central:bulletin:{first}']")
    assert sent_row.locator("[data-count=aired]").inner_text() == "1"
    assert "Tỉnh Hưng Yên" in page.inner_text("#national-table")
    assert page.locator("#national-indicators [data-indicator=on_time_play]").count() == 1
    shoot(page, "exchange", "central-national")
    sent_row.locator("a").click()
    hy_row = page.locator("#receiver-list tr[data-peer=province-33]")
    assert hy_row.get_attribute("data-state") == "aired"
    assert "Đã phát" in hy_row.inner_text()
    assert hy_row.locator("[data-field=aired_communes]").inner_text() == "1"
    assert "1 đã nhận, 1 đã xếp lịch phát, 1 đã phát" in page.inner_text("#sent-summary")
    shoot(page, "exchange", "central-sent-bulletin")

    # 5. the whole of Hưng Yên is down: pushes fail and wait for their back-off
    province.stop_run()
    later = [publish(central, f"Tin trung ương số {n}") for n in (2, 3)]
    assert central.command("exchange", "push") == {"sent": 0}
    pending = central.api("GET", "/exchange/outbox?status=pending")
    # both went in one batch (protocol 1.1): both failed once, both wait for their back-off
    assert len(pending) == 2
    assert [(p["attempts"], "không kết nối được" in p["last_error"]) for p in pending] == [
        (1, True),
        (1, True),
    ]
    page.reload()
    assert page.locator("#receiver-list tr[data-peer=province-33]").get_attribute(
        "data-state"
    ) == "aired"  # fmt: skip

    # … it comes back; its worker pulls at once and catches up: nothing lost, nothing twice
    province.start_run()
    wait_for(lambda: len(national(province)) == 3, 60, "the catch-up pull of the worker")
    assert province.command("exchange", "pull")["central"]["applied"] == 0
    titles = sorted(b["title"] for b in national(province))
    assert titles == ["Tin trung ương số 1", "Tin trung ương số 2", "Tin trung ương số 3"]
    outbox = central.api("GET", "/exchange/outbox")
    assert {o["status"] for o in outbox} == {"delivered"}
    assert sorted(o["delivered_via"] for o in outbox) == ["pull", "pull", "push"]
    assert {f"central:bulletin:{n}" for n in later} <= {o["message_id"] for o in outbox}
    # the two caught up are in Hưng Yên's approval queue, the first stays published
    statuses = {b["title"]: b["status"] for b in national(province)}
    assert statuses == {
        "Tin trung ương số 1": "published",
        "Tin trung ương số 2": "submitted",
        "Tin trung ương số 3": "submitted",
    }
