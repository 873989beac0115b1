"""A private, real Icecast for tests: the configuration `grassroots run` writes, on a free port."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from grassroots.core import broker, icecast


def start_icecast(home: Path, auth_url: str) -> tuple[subprocess.Popen, int]:
    """Start Icecast with listener authentication at `auth_url`; returns (process, port) once
    it answers HTTP (within 10 s, or AssertionError). The caller terminates the process."""
    port = broker.free_port()
    conf = icecast.write_config(home, port, auth_url)
    proc = subprocess.Popen(
        [icecast.icecast_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.5)  # noqa: S310
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            assert time.monotonic() < deadline, "icecast did not start"
            time.sleep(0.1)
    return proc, port
