"""Wake the worker when a task is enqueued, instead of waiting for its next poll.

The web process (or any process sharing GRASSROOTS_HOME) rings a Unix datagram socket the
worker listens on; the worker then looks for ready tasks at once. Ringing never blocks and never
fails the caller: without a listening worker (another machine, not started, a path too long for
a Unix socket) the datagram is dropped and the worker's polling interval still picks the task
up. An emergency read by TTS gains up to that interval (0.5 s) on its way to the air.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
from pathlib import Path

from django.conf import settings

log = logging.getLogger("grassroots.worker")

MAX_PATH = 100  # sun_path is 108 bytes on Linux


def path() -> Path:
    return Path(settings.GRASSROOTS["HOME"]) / "worker.bell"


def ring() -> None:
    """Tell the worker there is work (best effort, non-blocking)."""
    target = str(path())
    if len(target) > MAX_PATH or not hasattr(socket, "AF_UNIX"):
        return
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        s.sendto(b"1", target)


def on_task_enqueued(sender, **kwargs) -> None:
    """django-tasks `task_enqueued` receiver: ring once the enqueueing transaction commits
    (before that the worker could not see the task)."""
    from django.db import transaction

    transaction.on_commit(ring)


class Listener:
    """The worker's side: `wait(timeout)` returns True when rung, False on timeout."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        target = path()
        if len(str(target)) > MAX_PATH or not hasattr(socket, "AF_UNIX"):
            log.info("worker doorbell off (socket path too long); polling only")
            return
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(target))
        os.chmod(target, 0o600)
        sock.setblocking(False)
        self.sock = sock

    def wait(self, timeout: float) -> bool:
        if self.sock is None:
            select.select([], [], [], timeout)
            return False
        ready, _, _ = select.select([self.sock], [], [], timeout)
        rung = False
        while ready:
            try:
                self.sock.recv(64)  # drain every ring that came meanwhile
                rung = True
            except BlockingIOError:
                break
        return rung

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            with contextlib.suppress(OSError):
                path().unlink()
            self.sock = None
