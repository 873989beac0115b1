"""Shared machinery: one network loop thread drives many paho clients, one timer thread runs
many agents' timers, a small thread pool does the blocking HTTP work. A lone agent uses a
runtime of its own; the simulator shares one runtime among hundreds of agents per process.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import logging
import random
import selectors
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import paho.mqtt.client as paho

log = logging.getLogger(__name__)


class Backoff:
    """Randomised exponential back-off with full jitter: uniform(0, min(cap, base * 2**n))."""

    def __init__(self, base: float = 1.0, cap: float = 120.0, rng: random.Random | None = None):
        self.base, self.cap = base, cap
        self.attempt = 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return self.rng.uniform(self.base / 2, max(self.base / 2, ceiling))

    def reset(self) -> None:
        self.attempt = 0


class Timer:
    """A handle to cancel a scheduled call."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class TimerLoop:
    """One thread running short callbacks at monotonic deadlines."""

    def __init__(self, name: str = "agent-timers") -> None:
        self._heap: list[tuple[float, int, Timer, Callable[[], Any]]] = []
        self._cv = threading.Condition()
        self._count = itertools.count()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)

    def call_later(self, delay: float, fn: Callable[[], Any]) -> Timer:
        timer = Timer()
        due = time.monotonic() + delay
        with self._cv:
            earliest = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._count), timer, fn))
            if earliest:  # otherwise the thread already wakes in time for it
                self._cv.notify()
        return timer

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stop:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    timeout = self._heap[0][0] - now if self._heap else None
                    self._cv.wait(timeout)
                if self._stop:
                    return
                _, _, timer, fn = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            try:
                fn()
            except Exception:
                log.exception("timer callback failed")


class NetLoop:
    """Drives paho clients through their external-loop API with one selector thread.

    Each client is connected, read, written and kept alive here; publishes from other threads
    wake the selector. On a lost connection the client waits a jittered back-off and reconnects.
    """

    def __init__(self, name: str = "agent-net") -> None:
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._links: list[Link] = []
        self._down: set[Link] = set()  # links without a socket: the only ones scanned each turn
        self._dirty: set[Link] = set()
        self._deferred: collections.deque[Callable[[], Any]] = collections.deque()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        self.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def add(self, link: Link) -> None:
        with self._lock:
            self._links.append(link)
            self._down.add(link)
        self.wake()

    def remove(self, link: Link) -> None:
        with self._lock:
            if link in self._links:
                self._links.remove(link)
            self._down.discard(link)
        self.wake()

    def mark_down(self, link: Link) -> None:
        """The link lost its socket: the loop reconnects it once its back-off has elapsed."""
        with self._lock:
            if link in self._links:
                self._down.add(link)
        if threading.current_thread() is not self._thread:
            self.wake()

    def defer(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on this loop's thread once the sockets that are ready now have been read.

        Commands act here, in arrival order, right after every command that arrived with them
        has been verified and acknowledged: no hand-off to another thread (which, under the
        GIL, would make the network thread wait for each socket operation).
        """
        self._deferred.append(fn)
        if threading.current_thread() is not self._thread:
            self.wake()

    def _run_deferred(self) -> None:
        for _ in range(len(self._deferred)):
            fn = self._deferred.popleft()
            try:
                fn()
            except Exception:
                log.exception("deferred call failed")

    def mark_dirty(self, link: Link) -> None:
        with self._lock:
            self._dirty.add(link)
        if threading.current_thread() is not self._thread:
            self.wake()  # on the loop's own thread the next turn picks it up anyway

    def _register(self, link: Link) -> None:
        sock = link.client.socket()
        if sock is None:
            return
        events = selectors.EVENT_READ
        if link.client.want_write():
            events |= selectors.EVENT_WRITE
        try:
            key = self.sel.get_key(sock)
            if key.events != events:
                self.sel.modify(sock, events, link)
        except KeyError:
            self.sel.register(sock, events, link)
        except (ValueError, OSError):
            pass

    def unregister(self, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.sel.unregister(sock)

    def _run(self) -> None:
        last_misc = 0.0
        while not self._stop:
            now = time.monotonic()
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                down = list(self._down)
            timeout = 0.0 if self._deferred else 1.0
            # only links without a socket are looked at every turn: with a thousand clients on
            # one loop, a scan of all of them per turn cost more than reading their messages
            for link in down:
                if link.closing or link.client.socket() is not None:
                    with self._lock:
                        self._down.discard(link)
                    continue
                if link.next_attempt <= now:
                    link.attempt_connect()
                    dirty.add(link)
                    if link.client.socket() is not None:
                        with self._lock:
                            self._down.discard(link)
                else:
                    timeout = min(timeout, link.next_attempt - now)
            for link in dirty:
                if link.client.socket() is not None:
                    self._register(link)
            for key, mask in self.sel.select(max(0.0, timeout)):
                link = key.data
                if link is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                    continue
                if mask & selectors.EVENT_READ:
                    link.client.loop_read()
                # write what the read produced (PUBACK, the command's ack) right away: the
                # socket is almost always writable, and waiting for the next select would put
                # the acks of a burst behind the deferred work of every command in it
                if link.client.socket() is not None and (
                    mask & selectors.EVENT_WRITE or link.client.want_write()
                ):
                    link.client.loop_write()
                if link.client.socket() is not None:
                    self._register(link)
            if self._deferred:
                self._run_deferred()
            now = time.monotonic()
            if now - last_misc >= 0.5:
                last_misc = now
                with self._lock:
                    links = list(self._links)
                for link in links:
                    if link.client.socket() is not None:
                        link.client.loop_misc()
                        if link.client.socket() is not None:
                            self._register(link)


class Link:
    """One paho MQTT 5 client driven by a NetLoop, with jittered reconnects."""

    def __init__(
        self,
        net: NetLoop,
        *,
        client_id: str,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ca_file: str | None = None,
        keepalive: int = 30,
        session_expiry: int = 3600,
        backoff: Backoff | None = None,
        will: tuple[str, bytes] | None = None,
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        on_message: Callable[[str, bytes, bool], object] | None = None,
        first_delay: float = 0.0,
    ) -> None:
        self.net = net
        self.host, self.port = host, port
        self.keepalive = keepalive
        self.session_expiry = session_expiry
        self.backoff = backoff or Backoff()
        self.closing = False
        self.connected = False
        self.subscribed = False
        self.next_attempt = time.monotonic() + first_delay
        self._on_connect = on_connect or (lambda: None)
        self._on_disconnect = on_disconnect or (lambda: None)
        self._on_message = on_message or (lambda topic, payload, dup: None)
        c = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
        )
        c.connect_timeout = 5.0
        c.max_queued_messages_set(1000)
        if username:
            c.username_pw_set(username, password)
        if tls:
            c.tls_set(ca_certs=ca_file)
        if will:
            c.will_set(will[0], will[1], qos=1, retain=True)
        c.on_connect = self._connected
        c.on_disconnect = self._disconnected
        c.on_message = self._message
        c.on_subscribe = self._subscribed
        c.on_socket_close = self._socket_closed
        c.on_socket_register_write = lambda client, userdata, sock: net.mark_dirty(self)
        c.on_socket_unregister_write = lambda client, userdata, sock: net.mark_dirty(self)
        self.client = c
        self._started = False

    def start(self) -> None:
        self.net.add(self)

    def _socket_closed(self, client, userdata, sock) -> None:
        self.net.unregister(sock)
        self.net.mark_down(self)

    def attempt_connect(self) -> None:
        """Called by the net loop when the back-off has elapsed."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        try:
            if not self._started:
                self._started = True
                self.client.connect(
                    self.host,
                    self.port,
                    keepalive=self.keepalive,
                    clean_start=False,
                    properties=props,
                )
            else:
                self.client.reconnect()
        except (OSError, paho.WebsocketConnectionError) as exc:
            delay = self.backoff.next()
            log.debug(
                "connect to %s:%s failed (%s); retry in %.1fs", self.host, self.port, exc, delay
            )
            self.next_attempt = time.monotonic() + delay

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        self.connected = True
        self.backoff.reset()
        try:
            self._on_connect()
        except Exception:
            log.exception("on_connect handler failed")

    def _subscribed(self, client, userdata, mid, reason_codes, properties) -> None:
        self.subscribed = True

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected
        self.connected = False
        self.subscribed = False
        delay = self.backoff.next()
        self.next_attempt = time.monotonic() + delay
        if was and not self.closing:
            log.info("disconnected (%s); reconnecting in %.1fs", reason_code, delay)
        try:
            self._on_disconnect()
        except Exception:
            log.exception("on_disconnect handler failed")
        self.net.wake()

    def _message(self, client, userdata, msg) -> None:
        try:
            self._on_message(msg.topic, msg.payload, bool(msg.dup))
        except Exception:
            log.exception("message handler failed on %s", msg.topic)

    def subscribe(self, topics: list[str]) -> None:
        if topics:
            self.client.subscribe([(t, 1) for t in topics])

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def close(self, final: tuple[str, bytes] | None = None) -> None:
        """Publish a last message (e.g. offline state) if connected, then disconnect."""
        self.closing = True
        if self.connected and final is not None:
            self.client.publish(final[0], final[1], qos=1, retain=True)
            deadline = time.monotonic() + 1.0
            while self.client.want_write() and time.monotonic() < deadline:
                time.sleep(0.01)
        with contextlib.suppress(Exception):  # best effort on shutdown
            self.client.disconnect()
        deadline = time.monotonic() + 1.0
        while self.client.want_write() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.net.remove(self)


class Runtime:
    """The threads a group of agents share."""

    def __init__(self, workers: int = 4) -> None:
        self.net = NetLoop()
        self.timers = TimerLoop()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent-io")
        self._started = False

    def start(self) -> Runtime:
        if not self._started:
            self._started = True
            self.net.start()
            self.timers.start()
        return self

    def stop(self) -> None:
        self.net.stop()
        self.timers.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)
