"""The MQTT gateway: publishes the outbox and feeds device `state`/`events` to their handlers.

Runs as its own process (`grassroots gateway`, asyncio + aiomqtt). Database work happens in a
thread (Django's ORM is synchronous). Incoming messages are batched (up to `BATCH` messages, or
`BATCH_WINDOW` seconds after an event, `STATE_WINDOW` after a state report) and handed to the
handlers apps register with `@handles(kind)`, where `kind` is the last topic level (`state`,
`events`). Handlers must be idempotent: a message can arrive twice (QoS 1), and a batch is
handed over again when a handler fails (`store`): while the database is unreachable, until it
is back; otherwise message by message, so one unreadable message cannot take its batch with it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import importlib
import json
import logging
import os
import socket
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from . import mqtt_acl, outbox
from .models import OutboxMessage

log = logging.getLogger("grassroots.gateway")

TOPIC_ROOT = "grassroots/v1"
BATCH = 500
# after the first message of a batch, how long to wait for more: under load batches fill while
# the previous one is stored anyway; at the end of a burst this is what the last ack waits
BATCH_WINDOW = 0.01
# retained state (what the console's fleet view shows) is not waited on by anyone: let it gather
# for longer, so a thousand devices' staggered reports make a few batches, not hundreds
STATE_WINDOW = 0.25
OUTBOX_POLL = 0.05  # a nudge after each commit (outbox.nudge_gateway) usually comes first

Handler = Callable[[list[tuple[str, bytes]]], None]
HANDLERS: dict[str, list[Handler]] = defaultdict(list)


def handles(kind: str):
    """Register a handler for device messages of this kind (`state`, `events`)."""

    def wrap(func: Handler) -> Handler:
        if func not in HANDLERS[kind]:
            HANDLERS[kind].append(func)
        return func

    return wrap


def discover() -> None:
    """Import `<app>.handlers` of every grassroots app so they register."""
    for config in apps.get_app_configs():
        if config.name.startswith("grassroots."):
            name = f"{config.name}.handlers"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)


def dispatch(batch: list[tuple[str, bytes]]) -> int:
    """Hand a batch of (topic, payload) to the handlers of each kind; returns messages handled."""
    if not connection.in_atomic_block:
        close_old_connections()
    by_kind: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for topic, payload in batch:
        by_kind[topic.rsplit("/", 1)[-1]].append((topic, payload))
    # events (acks among them) before state: a console waiting on acks should not wait on
    # a batch of retained state updates
    for kind in sorted(by_kind, key=lambda k: k != "events"):
        items = by_kind[kind]
        for handler in HANDLERS.get(kind, []):
            handler(items)
    return len(batch)


DB_RETRY_MAX = 5.0
# the last messages no handler could store (each is also logged and kept in the dead-letter file)
dead_letters: list[tuple[str, bytes]] = []


def store(batch: list[tuple[str, bytes]], *, stop: Callable[[], bool] = lambda: False) -> int:
    """`dispatch` that loses nothing it can keep.

    The gateway acknowledges a message to the broker only after this returns (manual acks),
    so a gateway killed before that gets the message again from its persistent session.
    Still, a failed batch is not dropped: if the database is unreachable (OperationalError,
    InterfaceError) the batch is retried with back-off until it is stored or the gateway stops
    (the subscriber then spools it); any other failure is a message a handler cannot take, so
    the batch is stored message by message and only the ones that fail are set aside: logged
    with their topic and bytes, and appended to the dead-letter file with the error.
    """
    from django.db import InterfaceError, OperationalError

    delay = 0.1
    while True:
        try:
            return dispatch(batch)
        except (OperationalError, InterfaceError) as exc:
            if stop():
                raise
            # dispatch() starts with close_old_connections(): a broken connection is replaced
            log.warning("gateway: database unavailable (%s); retrying in %.1f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, DB_RETRY_MAX)
        except Exception:
            if len(batch) == 1:
                topic, payload = batch[0]
                log.exception("gateway: message on %s set aside: %r", topic, payload[:2000])
                dead_letters[:] = [*dead_letters[-99:], batch[0]]
                _append(_files()["dead"], batch, error=repr(sys.exc_info()[1])[:500])
                return 0
            log.exception(
                "gateway: a batch of %d failed; storing it message by message", len(batch)
            )
            return sum(store([item], stop=stop) for item in batch)


def _files() -> dict[str, Path]:
    base = Path(settings.GRASSROOTS["GATEWAY_STATE"])
    return {"spool": base / "spool.jsonl", "dead": base / "dead-letters.jsonl"}


def _append(path: Path, batch: list[tuple[str, bytes]], **extra) -> None:
    """Append messages to a JSON-lines file (payloads in base64: they are any bytes), synced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for topic, payload in batch:
            line = {"topic": topic, "payload": base64.b64encode(payload).decode(), **extra}
            fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def spool(batch: list[tuple[str, bytes]]) -> None:
    """Keep messages the gateway holds but has not stored when it stops or loses the broker.

    The broker considers them delivered, so they exist nowhere else: they go to
    `$GRASSROOTS_HOME/gateway/spool.jsonl`, which `replay_spool` stores before anything new.
    """
    if batch:
        _append(_files()["spool"], batch)
        log.warning("gateway: %d messages not yet stored kept in the spool", len(batch))


def replay_spool(stop: Callable[[], bool] = lambda: False) -> int:
    """Store what an earlier run spooled, then remove the file. Handlers are idempotent, so if
    this is interrupted the whole file is simply stored again next time."""
    path = _files()["spool"]
    if not path.exists():
        return 0
    batch: list[tuple[str, bytes]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            item = json.loads(line)
            batch.append((str(item["topic"]), base64.b64decode(item["payload"])))
        except (ValueError, KeyError, TypeError):
            log.error("gateway: spool line %d unreadable (a torn write?); skipped", number)
    stored = 0
    for start in range(0, len(batch), BATCH):
        stored += store(batch[start : start + BATCH], stop=stop)
    path.unlink()
    log.info("gateway: %d spooled messages stored", stored)
    return stored


def _pair(message) -> tuple[str, bytes]:
    """An aiomqtt message as the (topic, payload) the handlers take."""
    return str(message.topic), bytes(message.payload or b"")


def _ack(client, acks: list[tuple[int, int]]) -> None:
    """Acknowledge stored messages to the broker (paho's manual acks; QoS 0 needs none)."""
    paho = client._client
    for mid, qos in acks:
        if qos:
            paho.ack(mid, qos)


def _queued(client, limit: int) -> list:
    """Messages aiomqtt has already received, up to `limit`, taken without awaiting.

    aiomqtt (2.x) offers only an async iterator, which sets up two tasks and a wait for every
    message; its queue is the private `_queue` (an asyncio.Queue). If a later aiomqtt moves it,
    this returns nothing and the gateway falls back to the iterator alone.
    """
    queue = getattr(client, "_queue", None)
    out: list = []
    if not isinstance(queue, asyncio.Queue):
        return out
    while len(out) < limit:
        try:
            out.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return out


def take_pending(limit: int = BATCH) -> list[OutboxMessage]:
    """The oldest unpublished rows. Asked 20 times a second: one fixed statement (building the
    ORM query each time was the gateway's largest idle cost), portable to both databases."""
    close_old_connections()
    return list(OutboxMessage.objects.raw(_pending_sql(), [limit]))


@functools.cache
def _pending_sql() -> str:
    qn = connection.ops.quote_name
    return (
        f"SELECT {qn('id')}, {qn('topic')}, {qn('payload')}, {qn('qos')}, {qn('retain')} "  # noqa: S608
        f"FROM {qn(OutboxMessage._meta.db_table)} WHERE {qn('published_at')} IS NULL "
        f"ORDER BY {qn('id')} LIMIT %s"
    )


def mark_published(ids: list[int]) -> None:
    if ids:
        with transaction.atomic():
            OutboxMessage.objects.filter(pk__in=ids).update(published_at=timezone.now())


def device_topics(server_password: str | None) -> list[str]:
    """What the gateway subscribes to: every device's `state` and `events`.

    One gateway (the default) subscribes plainly: Mosquitto keeps a plain subscription of a
    persistent session across its own restart, so what devices send until the gateway is back
    waits for it. Mosquitto 2.0 does not restore shared subscriptions after a restart (measured:
    a chaos run lost 318 events in the 0.15 s after the broker came back), so `$share/` (with
    the group only the server can name, core.mqtt_acl.share_group) is used only when several
    gateways share the load: `GRASSROOTS_GATEWAY_SHARED=1`.
    """
    kinds = ("state", "events")
    if not settings.GRASSROOTS.get("GATEWAY_SHARED"):
        return [f"{TOPIC_ROOT}/dev/+/{kind}" for kind in kinds]
    group = mqtt_acl.share_group(server_password)
    return [f"$share/{group}/{TOPIC_ROOT}/dev/+/{kind}" for kind in kinds]


def gateway_client_id() -> str:
    """`grassroots-gateway-<GRASSROOTS_GATEWAY_ID>` (default 1): each instance its own, fixed."""
    return f"grassroots-gateway-{settings.GRASSROOTS.get('GATEWAY_ID', '1')}"


def broker_params(url: str | None = None) -> dict:
    parsed = urlparse(url or settings.MQTT_URL)
    return {
        "hostname": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 1883,
        "username": parsed.username,
        "password": parsed.password,
    }


class Gateway:
    """One gateway process: a publisher loop and a subscriber loop over one MQTT connection."""

    def __init__(self, url: str | None = None, *, client_id: str | None = None):
        self.params = broker_params(url)
        # A fixed id per gateway instance (GRASSROOTS_GATEWAY_ID): with a persistent session the
        # broker keeps what arrives for a gateway that is down (killed, restarting) and hands
        # it over when the same gateway comes back.
        self.client_id = client_id or gateway_client_id()
        self.stats = {"published": 0, "received": 0, "batches": 0}
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    def _listen_for_nudges(self) -> socket.socket | None:
        """Bind the wake-up socket; without it (path too long, no permission) just poll."""
        path = outbox.wake_path()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
            sock.setblocking(False)
            sock.bind(str(path))
        except OSError as exc:
            sock.close()
            log.info(
                "gateway: no wake-up socket (%s); polling the outbox every %.2f s", exc, OUTBOX_POLL
            )
            return None
        asyncio.get_running_loop().add_reader(sock.fileno(), self._nudged, sock)
        return sock

    def _nudged(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while sock.recv(16):
                pass
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Publish and consume until `stop()`, reconnecting with back-off."""
        nudges = self._listen_for_nudges()
        try:
            await self._serve()
        finally:
            if nudges is not None:
                asyncio.get_running_loop().remove_reader(nudges.fileno())
                nudges.close()
                with contextlib.suppress(OSError):
                    outbox.wake_path().unlink()

    async def _serve(self) -> None:
        import aiomqtt

        backoff = 0.5
        while not self._stop.is_set():
            try:
                # before taking anything new: what a previous run or connection had received
                # but not stored
                await asyncio.to_thread(replay_spool, self._stop.is_set)
                client = aiomqtt.Client(
                    **self.params,
                    identifier=self.client_id,
                    # a persistent session: QoS 1 messages for the gateway wait at the broker
                    # while it is away, and unacknowledged ones are sent again
                    clean_session=False,
                    # MQTT 3.1.1: the gateway needs no v5 feature ($share works with 3.1.1 on
                    # Mosquitto and EMQX), and paho's v5 property parsing of every incoming
                    # message was a fifth of the gateway's CPU in the fan-out benchmark
                    protocol=aiomqtt.ProtocolVersion.V311,
                    max_concurrent_outgoing_calls=200,
                    max_queued_incoming_messages=50_000,
                    max_inflight_messages=1000,
                )
                # PUBACK only once a message is committed (or set aside): a gateway killed at
                # any moment loses nothing, the broker sends what it had not acknowledged again
                client._client.manual_ack_set(True)
                async with client:
                    backoff = 0.5
                    # the group is derived from the server's password: a device cannot join it
                    # and take its turn of the group's messages (core.mqtt_acl)
                    for topic in device_topics(self.params.get("password")):
                        await client.subscribe(topic, qos=1)
                    log.info(
                        "gateway connected to %s:%s", self.params["hostname"], self.params["port"]
                    )
                    tasks = [
                        asyncio.create_task(self._publisher(client)),
                        asyncio.create_task(self._subscriber(client)),
                        asyncio.create_task(self._stop.wait()),
                    ]
                    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    for task in pending:
                        task.cancel()
                    for task in done:
                        if task.exception():
                            raise task.exception()
            except Exception as exc:  # noqa: BLE001 - reconnect on any broker failure
                if self._stop.is_set():
                    break
                log.warning("gateway: %s; reconnecting in %.1f s", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 15)

    async def _publisher(self, client) -> None:
        while True:
            self._wake.clear()  # before the query: a nudge during it is not lost
            rows = await asyncio.to_thread(take_pending)
            if not rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=OUTBOX_POLL)
                continue
            await asyncio.gather(
                *(
                    client.publish(r.topic, r.payload.encode(), qos=r.qos, retain=r.retain)
                    for r in rows
                )
            )
            await asyncio.to_thread(mark_published, [r.pk for r in rows])
            self.stats["published"] += len(rows)

    async def _subscriber(self, client) -> None:
        batch: list[tuple[str, bytes]] = []
        acks: list[tuple[int, int]] = []  # (mid, qos) of the batch's messages, acked once stored
        deadline = None
        messages = client.messages
        # One outstanding read, never cancelled: cancelling a read that has just taken a
        # message (asyncio.wait_for on Python 3.11) would lose that message.
        next_message: asyncio.Future | None = None
        try:
            while True:
                if next_message is None:
                    next_message = asyncio.ensure_future(messages.__anext__())
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = await asyncio.wait({next_message}, timeout=timeout)
                if done:
                    first = next_message.result()
                    next_message = None
                    # take what is already queued without a wait per message: under load,
                    # awaiting each one costs more than storing it
                    now = time.monotonic()
                    for message in [first, *_queued(client, BATCH - len(batch) - 1)]:
                        topic, payload = _pair(message)
                        batch.append((topic, payload))
                        acks.append((message.mid, message.qos))
                        window = STATE_WINDOW if topic.endswith("/state") else BATCH_WINDOW
                        due = now + window
                        deadline = due if deadline is None else min(deadline, due)
                    if len(batch) < BATCH:
                        continue
                if batch:
                    started = time.monotonic()
                    await asyncio.to_thread(store, batch, stop=self._stop.is_set)
                    _ack(client, acks)
                    log.debug(
                        "dispatched %d messages (%d waiting) in %.3f s",
                        len(batch),
                        len(client.messages),
                        time.monotonic() - started,
                    )
                    self.stats["received"] += len(batch)
                    self.stats["batches"] += 1
                batch, acks, deadline = [], [], None
        finally:
            # stopping, or the broker is gone: keep what was received but not stored (the
            # batch, and what aiomqtt still queues) for the next start or connection
            held = list(batch)
            if next_message is not None:
                if next_message.done() and not next_message.cancelled():
                    with contextlib.suppress(Exception):
                        held.append(_pair(next_message.result()))
                else:
                    next_message.cancel()
            held += [_pair(m) for m in _queued(client, 10**9)]
            spool(held)
