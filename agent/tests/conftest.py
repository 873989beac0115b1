"""Fixtures for the agent tests: a private Mosquitto, a tiny manifest/media/as-run HTTP server,
a signing key, a monitoring MQTT client and an agent factory."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from grassroots_agent.clock import iso
from grassroots_agent.config import AgentConfig, MqttSettings
from grassroots_agent.signing import canonical, public_key_b64, sign

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
DEVICE = "dev-1"
UNITS = ["33.01.00001", "33.01", "33"]


def pytest_configure(config):
    config.addinivalue_line("markers", "mqtt: talks to a real Mosquitto broker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02):
    """Poll until predicate() is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)


# -- broker ------------------------------------------------------------------------------------
class Broker:
    """A private Mosquitto on a free port; stop() and start() again on the same port."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.root = root
        self.conf = root / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\n"
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.root / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(up, 10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def broker(tmp_path):
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: run `make test` (it installs it)")
    root = tmp_path / "broker"
    root.mkdir()
    b = Broker(root)
    b.start()
    yield b
    b.stop()


class Monitor:
    """An MQTT client that records every message under grassroots/v1/# and publishes commands."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        c.on_connect = lambda *a: c.subscribe("grassroots/v1/#", qos=1)
        c.on_subscribe = lambda *a: self.subscribed.set()
        c.on_message = self._message
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.client = c
        assert self.subscribed.wait(5)

    def _message(self, client, userdata, msg):
        try:
            body = json.loads(msg.payload)
        except ValueError:
            body = msg.payload
        with self.lock:
            self.messages.append((msg.topic, body))

    def events(self, type_: str | None = None) -> list[dict]:
        with self.lock:
            return [
                b
                for t, b in self.messages
                if t.endswith("/events") and (type_ is None or b.get("type") == type_)
            ]

    def states(self) -> list[dict]:
        with self.lock:
            return [b for t, b in self.messages if t.endswith("/state")]

    def publish(self, topic: str, envelope: Any) -> None:
        raw = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
        self.client.publish(topic, raw, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def monitor(broker):
    m = Monitor(broker.port)
    yield m
    m.close()


# -- signing -----------------------------------------------------------------------------------
class Signer:
    """The server's side of the contract: signs commands and manifests with a fresh key."""

    def __init__(self, kid: str = "k1") -> None:
        self.kid = kid
        self.key = Ed25519PrivateKey.generate()
        self.seq = 0

    @property
    def public(self) -> str:
        return public_key_b64(self.key)

    def command(self, type_: str, *, target=None, seq=None, valid=(-60, 300), **params) -> dict:
        now = datetime.now(UTC)
        if seq is None:
            self.seq += 1
            seq = self.seq
        params.setdefault("id", uuid.uuid4().hex)
        if type_ == "play.now":
            params.setdefault("priority", "priority")
        payload = {
            "type": type_,
            "target": target if target is not None else {"device": DEVICE},
            "seq": seq,
            "issued_at": iso(now),
            "not_before": iso(now + timedelta(seconds=valid[0])),
            "expires_at": iso(now + timedelta(seconds=valid[1])),
            **params,
        }
        return sign(payload, self.key, self.kid)

    def manifest(
        self, items: list[dict], device: str = DEVICE, generated_at=None, valid_until=None
    ) -> dict:
        now = datetime.now(UTC)
        payload = {
            "type": "manifest",
            "device": device,
            "unit": UNITS[0],
            "generated_at": iso(generated_at or now),
            "valid_until": iso(valid_until or now + timedelta(hours=48)),
            "items": items,
        }
        return sign(payload, self.key, self.kid)


@pytest.fixture
def signer():
    return Signer()


# -- HTTP server -------------------------------------------------------------------------------
class FakeServer:
    """Manifest (ETag/304), media (Range, optional cut connection) and as-run upload endpoints."""

    def __init__(self) -> None:
        self.port = free_port()
        self.manifest: dict | None = None
        self.media: dict[str, bytes] = {}
        self.cut_after: dict[str, int] = {}  # path -> bytes to send before cutting (once)
        self.asrun: list[dict] = []
        self.requests: list[tuple[str, str, dict]] = []
        self.httpd: ThreadingHTTPServer | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_media(self, name: str, data: bytes, duration: float | None = None) -> dict:
        self.media[f"/media/{name}"] = data
        ref = {"url": f"/media/{name}", "sha256": hashlib.sha256(data).hexdigest()}
        ref["size"] = len(data)
        if duration is not None:
            ref["duration"] = duration
        return ref

    def etag(self) -> str:
        return '"' + hashlib.sha256(canonical(self.manifest)).hexdigest()[:16] + '"'

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self):
                with server.lock:
                    server.requests.append((self.command, self.path, dict(self.headers)))

            def _send(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._record()
                if re.fullmatch(r"/api/v1/devices/[^/]+/manifest", self.path):
                    if self.headers.get("Authorization") != "Bearer tok":
                        return self._send(401)
                    if server.manifest is None:
                        return self._send(404)
                    etag = server.etag()
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        return self.end_headers()
                    body = json.dumps(server.manifest).encode()
                    return self._send(200, body, {"ETag": etag, "Content-Type": "application/json"})
                data = server.media.get(self.path)
                if data is None:
                    return self._send(404)
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if m:
                    start = int(m.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                cut = server.cut_after.pop(self.path, None)
                if cut is not None:
                    self.wfile.write(data[start : start + cut])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(data[start:])

            def do_POST(self):
                self._record()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not re.fullmatch(r"/api/v1/devices/[^/]+/asrun", self.path):
                    return self._send(404)
                entries = json.loads(body)["entries"]
                with server.lock:
                    server.asrun.extend(entries)
                out = json.dumps({"accepted": [e["id"] for e in entries]}).encode()
                return self._send(200, out, {"Content-Type": "application/json"})

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def hits(self, path_part: str) -> list[tuple[str, str, dict]]:
        with self.lock:
            return [r for r in self.requests if path_part in r[1]]


@pytest.fixture
def server():
    s = FakeServer()
    s.start()
    yield s
    s.stop()


# -- agents ------------------------------------------------------------------------------------
def agent_config(root: Path, *, broker_url: str, server_url: str | None, keys: dict, **kw):
    mqtt = MqttSettings.from_url(broker_url, backoff_min=0.2, backoff_max=1.0, keepalive=5)
    cfg = AgentConfig(
        device_id=DEVICE,
        units=list(UNITS),
        mqtt=mqtt,
        server_url=server_url,
        token="tok",
        keys=keys,
        state_dir=root / "state",
        timeline=root / "timeline.jsonl",
        asrun_retry_min=0.2,
        asrun_retry_max=1.0,
        http_timeout=2.0,
    )
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


@pytest.fixture
def make_agent(tmp_path, signer):
    from grassroots_agent.agent import Agent

    started: list[Agent] = []

    def factory(broker, server, **kw) -> Agent:
        cfg = agent_config(
            tmp_path,
            broker_url=broker.url if broker else "mqtt://127.0.0.1:1",
            server_url=server.url if server else None,
            keys={signer.kid: signer.public},
            **kw,
        )
        agent = Agent(cfg, max_sleep=0.2).start()
        started.append(agent)
        if broker is not None:
            wait_for(lambda: agent.link.subscribed, 10)
        return agent

    yield factory
    for agent in started:
        agent.stop()


def timeline(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
