"""Slow-client protection for the embedded web server (gunicorn, threaded workers).

gunicorn's `gthread` workers park a connection whose headers are slow in their poller, but a
request body is read by the application, in a worker thread, for as long as the client takes:
two clients sending one byte a second (or an upload that claims 5 GB and stalls) held both sync
workers and `/healthz` stopped answering. This WSGI wrapper gives every read of the body a
deadline (a grace period plus what the bytes asked for take at a minimum rate); a watchdog
thread shuts the socket's reading side when a read overruns it, so the blocked `recv` returns,
and the request ends with a Vietnamese 408 instead of holding a thread. In production put nginx
in front as well (docs/operations.md): it buffers whole requests before they reach gunicorn.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import logging
import socket
import threading
import time

log = logging.getLogger("grassroots.slowclient")

GRACE_S = 5.0  # every read may take this long before the rate applies
MIN_RATE = 2048  # bytes per second: a very slow mobile link still passes
CHUNK = 16 * 1024  # the largest read handed to the server at once (bounds one read's deadline)

TITLE = "Gửi dữ liệu quá chậm"
DETAIL = (
    "Máy chủ đã chờ quá lâu mà dữ liệu gửi lên chưa đến đủ nên đã dừng yêu cầu này. "
    "Hãy kiểm tra kết nối mạng rồi gửi lại."
)


class SlowClientError(Exception):
    """The client did not send its request body fast enough (answered 408)."""


class _Watchdog:
    """One thread per process: shuts the reading side of sockets whose read overran."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, socket.socket, dict]] = []
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, sock: socket.socket, state: dict) -> int:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="slowclient")
                self._thread.start()
            key = next(self._ids)
            heapq.heappush(self._heap, (deadline, key, sock, state))
            state["watch"] = key
        self._wake.set()
        return key

    def unwatch(self, state: dict) -> None:
        state["watch"] = None  # the entry stays in the heap and is skipped when it comes up

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._heap and (
                    self._heap[0][0] <= now or self._heap[0][3].get("watch") != self._heap[0][1]
                ):
                    deadline, key, sock, state = heapq.heappop(self._heap)
                    if state.get("watch") == key and deadline <= now:
                        state["cut"] = True
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RD)
                wait = self._heap[0][0] - now if self._heap else 60.0
            self._wake.wait(max(0.05, wait))
            self._wake.clear()


_watchdog = _Watchdog()


class _GuardedInput:
    """`wsgi.input` whose reads each have a deadline; overrunning one raises SlowClientError."""

    def __init__(self, stream, sock, remaining: int | None):
        self._stream = stream
        self._sock = sock
        self._remaining = remaining  # Content-Length still to come; None when chunked
        self._state: dict = {"cut": False, "watch": None}

    @property
    def cut(self) -> bool:
        """Was a read of this body cut off for being too slow?"""
        return self._state["cut"]

    def _read_once(self, size: int, method: str = "read") -> bytes:
        size = min(size, CHUNK)
        _watchdog.watch(time.monotonic() + GRACE_S + size / MIN_RATE, self._sock, self._state)
        try:
            data = getattr(self._stream, method)(size)
        except (OSError, ValueError) as exc:
            if self._state["cut"]:
                raise SlowClientError("request body too slow") from exc
            raise
        finally:
            _watchdog.unwatch(self._state)
        if self._state["cut"]:
            raise SlowClientError("request body too slow")
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._read_all(size)
        return self._read_all(None)

    def _read_all(self, size: int | None) -> bytes:
        parts, got = [], 0
        while size is None or got < size:
            want = CHUNK if size is None else min(CHUNK, size - got)
            if self._remaining is not None:
                want = min(want, self._remaining)
            if want <= 0:
                break
            data = self._read_once(want)
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        limit = size if size is not None and size >= 0 else CHUNK
        return self._read_once(limit, "readline")

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines, total = [], 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def is_slow_client(exc: BaseException | None) -> bool:
    """Is `exc`, or what caused it (Django wraps body errors), a too-slow request body?"""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, SlowClientError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def problem_body(path: str) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": TITLE, "status": 408, "detail": DETAIL, "instance": path},
        ensure_ascii=False,
    ).encode()


class SlowClientGuard:
    """WSGI wrapper: guards request bodies on gunicorn (`gunicorn.socket` in the environ)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if sock is None or not (length > 0 or chunked):
            return self.app(environ, start_response)
        guarded = _GuardedInput(environ["wsgi.input"], sock, None if chunked else length)
        environ["wsgi.input"] = guarded
        held: list = []

        def guarded_start_response(status, headers, exc_info=None):
            if guarded.cut and not status.startswith("408"):
                # the body was cut off for slowness, and the app made something else of it (a
                # 500 from code that touched the half-read body afterwards): it ends in 408
                held.append(status)
                return lambda data: None
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, guarded_start_response)
        except SlowClientError:
            result = None  # raised outside Django's own handling (Django answers it itself)
        if result is not None and not held:
            return result
        if result is not None and hasattr(result, "close"):
            result.close()
        log.warning(
            "slow request body on %s: cut off (the app answered %s)",
            environ.get("PATH_INFO"),
            held[0] if held else "nothing",
        )
        body = problem_body(environ.get("PATH_INFO", ""))
        start_response(
            "408 Request Timeout",
            [
                ("Content-Type", "application/problem+json"),
                ("Content-Length", str(len(body))),
                ("Content-Language", "vi"),
                ("Connection", "close"),
            ],
        )
        return [body]
