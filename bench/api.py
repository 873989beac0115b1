"""Web floor: requests/s and latency of a scoped API read, served by gunicorn as `make run` does.

Starts gunicorn (2 workers) on a free port against the bench database, then drives
`GET /api/v1/units/33` with a bearer token from a thread pool for a fixed number of requests.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

REQUESTS = 2000
CONCURRENCY = 16


def start_gunicorn(port: int, env: dict | None = None, timeout: float = 60) -> subprocess.Popen:
    """gunicorn (2 sync workers) as `make run` serves the web process; waits for /healthz."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "grassroots.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env or dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the web server did not start") from None
            time.sleep(0.2)


def run() -> dict:
    from django.core.management import call_command

    from grassroots.accounts.demo import load_demo
    from grassroots.accounts.models import ApiToken, User
    from grassroots.core.broker import free_port

    call_command("migrate", verbosity=0)
    load_demo()
    token = ApiToken.objects.issue(user=User.objects.get(username="admin"), name="bench")[1]
    port = free_port()
    proc = start_gunicorn(port)
    try:
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/api/v1/units/33"

        def one(_):
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            t = time.perf_counter()
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
                assert resp.status == 200
            return time.perf_counter() - t

        for _ in range(50):
            one(None)
        start = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            latencies = sorted(pool.map(one, range(REQUESTS)))
        wall = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "endpoint": "GET /api/v1/units/33 (bearer token, scoped)",
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
        "req_per_s": round(REQUESTS / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }
