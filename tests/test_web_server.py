"""The embedded web server as `grassroots run` starts it (real gunicorn, real sockets).

Finding 7: slow clients must not stop it, and a stalled upload ends in a Vietnamese error, not
gunicorn's English 500 page. Finding 12: each instance has its own control socket.
"""

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from grassroots.core.broker import free_port
from grassroots.core.management.commands.run import web_argv

# These run the embedded default (SQLite, private Mosquitto) whatever DATABASE_URL says, so the
# PostgreSQL pass of CI would only run them a second time.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs the embedded default (SQLite) only"
)


def start_web(home):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MQTT_URL")}
    env["GRASSROOTS_HOME"] = str(home)
    env["DJANGO_SETTINGS_MODULE"] = "grassroots.config.settings"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "web.log", "wb") as log:  # read by `web_log` when an assertion fails
        proc = subprocess.Popen(
            web_argv(home, "127.0.0.1", port, 2),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return proc, port
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "web did not start"
            time.sleep(0.2)


@pytest.fixture
def web(tmp_path):
    started = []

    def start(name="home"):
        proc, port = start_web(tmp_path / name)
        started.append(proc)
        return port

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def healthz_ms(port):
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        assert r.status == 200
    return (time.monotonic() - start) * 1000


def read_response(sock, timeout):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(body) >= length[0]:
                    break
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def slow_sender(port, head, body_bytes, per_second, results, key, stop):
    """Send `head` at once, then the body one byte at a time; keep what the server answers."""
    sock = socket.create_connection(("127.0.0.1", port))
    start = time.monotonic()
    sock.sendall(head)
    try:
        for i in range(body_bytes):
            if stop.is_set():
                break
            sock.sendall(b"x")
            time.sleep(1 / per_second)
            sock.settimeout(0.001)
            try:
                peek = sock.recv(65536, socket.MSG_PEEK)
            except (BlockingIOError, TimeoutError):
                peek = b""
            finally:
                sock.settimeout(None)
            if peek:
                break
    except OSError:
        pass  # the server closed our side: it has answered
    results[key] = (read_response(sock, 5), time.monotonic() - start)
    sock.close()


def web_log(home, lines=60):
    """The last lines gunicorn and the platform wrote (for an assertion's message)."""
    text = (home / "web.log").read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def test_slow_bodies_do_not_stop_the_server_and_end_in_a_vietnamese_408(web, tmp_path):
    """Four clients send a body one byte a second (two more than the old sync workers) and two
    more their request head: health checks keep answering at once, and each slow body ends in
    ~5 s with a 408."""
    port = web()
    head = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    results, stop = {}, threading.Event()
    senders = [
        threading.Thread(target=slow_sender, args=(port, head, 1000, 1, results, i, stop))
        for i in range(4)
    ]
    for s in senders:
        s.start()
    # and two classic slowloris connections: the request head itself one byte a second
    loris = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]

    def trickle_heads():
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: " + b"a" * 60:
            if stop.is_set():
                return
            for sock in loris:
                with contextlib.suppress(OSError):
                    sock.send(bytes([byte]))
            time.sleep(1)

    threading.Thread(target=trickle_heads, daemon=True).start()
    try:
        time.sleep(1)
        probes = []
        for _ in range(8):
            probes.append(healthz_ms(port))
            time.sleep(0.5)
        assert max(probes) < 1000, probes
    finally:
        for s in senders:
            s.join(20)
        stop.set()
        for sock in loris:
            sock.close()
    assert len(results) == 4
    for answer, took in results.values():
        head_part, _, body = answer.partition(b"\r\n\r\n")
        assert head_part.startswith(b"HTTP/1.1 408"), (answer, web_log(tmp_path / "home"))
        assert b"application/problem+json" in head_part
        problem = json.loads(body)
        assert problem["title"] == "Gửi dữ liệu quá chậm" and "gửi lại" in problem["detail"]
        assert took < 12


def test_a_stalled_huge_upload_is_cut_off_in_vietnamese(web):
    """An upload that claims 5 GB and stalls after a few bytes (a form POST, with a CSRF
    cookie so that Django reads the body)."""
    port = web()
    sock = socket.create_connection(("127.0.0.1", port))
    token = "a" * 32
    start = time.monotonic()
    sock.sendall(
        b"POST /dang-nhap/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=XyZ\r\n"
        b"Cookie: csrftoken=" + token.encode() + b"\r\n"
        b"Content-Length: 5000000000\r\n\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n' + b"x" * 5000
    )
    assert healthz_ms(port) < 1000
    answer = read_response(sock, 30)
    took = time.monotonic() - start
    sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.1 408", b"HTTP/1.1 413")), answer[:300]
    assert b"Internal Server Error" not in answer
    assert "Gửi dữ liệu quá chậm".encode() in body or "quá lớn".encode() in body, body[:300]
    assert took < 20, took


def test_each_instance_has_its_own_control_socket(web, tmp_path):
    """gunicorn's default control socket is one per user on the host (`~/.gunicorn/...`): a
    second instance took it over. Each instance now has its own in GRASSROOTS_HOME."""
    from gunicorn.ctl.client import ControlClient

    ports = {name: web(name) for name in ("a", "b")}
    for name, port in ports.items():
        path = tmp_path / name / "run" / f"gunicorn-{port}.ctl"
        assert path.exists()
        with ControlClient(str(path), timeout=5) as ctl:
            listeners = ctl.send_command("show listeners")
        assert f":{port}" in json.dumps(listeners), listeners
