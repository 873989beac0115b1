"""The gateway against a real Mosquitto: outbox published at least once, events batched in."""

import asyncio
import base64
import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from django.db import transaction

from grassroots.core import gateway, outbox
from grassroots.core.models import OutboxMessage

pytestmark = pytest.mark.mqtt


def _paho(url):
    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(host, int(port))
    client.loop_start()
    return client


def _wait(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class _Running:
    def __init__(self, url):
        self.gw = gateway.Gateway(url)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.gw.run(),), daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self.gw

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.gw.stop)
        self.thread.join(10)


@pytest.fixture
def events_handler():
    """Register a throwaway `events` handler for one test (alongside the real ones)."""
    added = []

    def register(func):
        gateway.HANDLERS["events"].append(func)
        added.append(func)
        return func

    yield register
    for func in added:
        gateway.HANDLERS["events"].remove(func)


def _enqueue_rolled_back(topic, payload):
    """Enqueue inside a transaction that rolls back: no row, and no nudge either."""
    try:
        with transaction.atomic():
            outbox.enqueue(topic, payload)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass


@pytest.mark.django_db(transaction=True)
def test_outbox_is_published_only_after_commit(mqtt_broker):
    received = []
    sub = _paho(mqtt_broker)
    sub.on_message = lambda c, u, m: received.append((m.topic, m.payload.decode()))
    sub.subscribe("grassroots/v1/#", qos=1)
    time.sleep(0.2)

    with transaction.atomic():
        for i in range(3):
            outbox.enqueue(f"grassroots/v1/dev/{i}/cmd", {"n": i})
    _enqueue_rolled_back("grassroots/v1/dev/99/cmd", {"n": 99})

    with _Running(mqtt_broker) as gw:
        _wait(lambda: len(received) >= 3)
        _wait(lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists())
        # Written after the gateway started: still picked up.
        outbox.enqueue("grassroots/v1/unit/33/cmd", {"n": "late"})
        _wait(lambda: len(received) >= 4)
        # the subscriber can see the message before the gateway has marked it published
        _wait(lambda: gw.stats["published"] == 4)
    sub.loop_stop()
    topics = sorted(t for t, _ in received)
    assert topics == [
        "grassroots/v1/dev/0/cmd",
        "grassroots/v1/dev/1/cmd",
        "grassroots/v1/dev/2/cmd",
        "grassroots/v1/unit/33/cmd",
    ]
    assert gw.stats["published"] == 4
    assert OutboxMessage.objects.filter(published_at__isnull=False).count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_commit_nudges_the_gateway_to_publish_at_once(mqtt_broker, monkeypatch):
    monkeypatch.setattr(gateway, "OUTBOX_POLL", 30.0)  # so only the nudge can explain speed
    received = []
    sub = _paho(mqtt_broker)
    sub.on_message = lambda c, u, m: received.append(time.monotonic())
    sub.subscribe("grassroots/v1/dev/7/cmd", qos=1)
    time.sleep(0.2)
    with _Running(mqtt_broker) as gw:
        _wait(lambda: outbox.wake_path().exists())
        time.sleep(0.3)  # the publisher is now waiting out its (long) poll
        _enqueue_rolled_back("grassroots/v1/dev/7/cmd", {"n": 0})
        with transaction.atomic():
            outbox.enqueue("grassroots/v1/dev/7/cmd", {"n": 1})
            committed = time.monotonic()
        _wait(lambda: received, timeout=5)
        assert received[0] - committed < 1.0
        _wait(lambda: gw.stats["published"] == 1)
    sub.loop_stop()
    assert len(received) == 1
    assert not outbox.wake_path().exists()  # the gateway removes its socket when it stops


@pytest.mark.django_db(transaction=True)
def test_unpublished_rows_survive_a_gateway_restart(mqtt_broker):
    outbox.enqueue("grassroots/v1/dev/5/cmd", {"n": 5})
    received = []
    sub = _paho(mqtt_broker)
    sub.on_message = lambda c, u, m: received.append(m.topic)
    sub.subscribe("grassroots/v1/dev/5/cmd", qos=1)
    time.sleep(0.2)
    # No gateway yet: nothing published, nothing lost.
    assert received == [] and OutboxMessage.objects.get().published_at is None
    with _Running(mqtt_broker):
        _wait(lambda: received == ["grassroots/v1/dev/5/cmd"])
    sub.loop_stop()


@pytest.mark.django_db(transaction=True)
def test_device_messages_are_batched_to_handlers(mqtt_broker, events_handler):
    seen = []
    events_handler(seen.append)
    pub = _paho(mqtt_broker)
    with _Running(mqtt_broker) as gw:
        time.sleep(0.5)
        for i in range(50):
            pub.publish(f"grassroots/v1/dev/{i}/events", b'{"type":"telemetry"}', qos=1)
        _wait(lambda: sum(len(b) for b in seen) == 50)
    pub.loop_stop()
    assert len(seen) < 50, "messages must arrive in batches"
    assert gw.stats["received"] == 50


@pytest.mark.django_db(transaction=True)
def test_a_backlog_is_taken_in_full_batches_and_nothing_is_lost(
    mqtt_broker, monkeypatch, events_handler
):
    """While a slow batch is stored, thousands queue up: the next batches are full (taken from
    the queue at once, not one awaited read per message) and every message arrives once."""
    # no batching window: only what is already queued can fill a batch
    monkeypatch.setattr(gateway, "BATCH_WINDOW", 0.0)
    seen: list[list] = []
    published = threading.Event()

    @events_handler
    def slow(batch):
        seen.append(batch)
        if len(seen) == 1:
            # the first batch is slow: the rest piles up meanwhile (until all of it is sent,
            # however loaded the machine, and a moment for the broker to hand it over)
            published.wait(30)
            time.sleep(1.0)

    pub = _paho(mqtt_broker)
    with _Running(mqtt_broker):
        time.sleep(0.5)
        pub.publish("grassroots/v1/dev/0/events", b'{"n": -1}', qos=1)
        _wait(lambda: seen)
        sent = [
            pub.publish(f"grassroots/v1/dev/{i}/events", f'{{"n": {i}}}'.encode(), qos=1)
            for i in range(1500)
        ]
        for info in sent:
            info.wait_for_publish(30)
        published.set()
        _wait(lambda: sum(len(b) for b in seen) == 1501, timeout=30)
    pub.loop_stop()
    sizes = [len(b) for b in seen[1:]]
    assert max(sizes) == gateway.BATCH, sizes
    # the gateway acknowledges only what it stored, so the broker holds back what exceeds its
    # window of unacknowledged messages (max_inflight_messages 1000) until a batch is stored:
    # the tail arrives in smaller batches, as many as the machine's load makes (a read per
    # message would make hundreds)
    assert len(sizes) <= 40, sizes
    payloads = [p for b in seen for _, p in b]
    assert len(set(payloads)) == 1501


@pytest.mark.django_db
def test_a_message_no_handler_can_take_is_set_aside_and_the_rest_is_stored(events_handler):
    stored = []

    @events_handler
    def picky(batch):
        if any(payload == b"poison" for _, payload in batch):
            raise ValueError("cannot store this")
        stored.extend(payload for _, payload in batch)

    batch = [("grassroots/v1/dev/1/events", p) for p in (b"1", b"poison", b"2", b"3")]
    assert gateway.store(batch) == 3
    assert stored == [b"1", b"2", b"3"]
    assert gateway.dead_letters[-1] == ("grassroots/v1/dev/1/events", b"poison")
    (line,) = gateway._files()["dead"].read_text().splitlines()  # kept on disk, with the error
    kept = json.loads(line)
    assert base64.b64decode(kept["payload"]) == b"poison" and "cannot store" in kept["error"]


@pytest.mark.django_db
def test_a_batch_waits_for_the_database_to_come_back(events_handler, monkeypatch):
    from django.db import OperationalError

    monkeypatch.setattr(gateway, "DB_RETRY_MAX", 0.05)
    calls = []

    @events_handler
    def flaky(batch):
        calls.append(len(batch))
        if len(calls) <= 3:
            raise OperationalError("database is locked")

    batch = [("grassroots/v1/dev/1/events", b"%d" % i) for i in range(5)]
    assert gateway.store(batch) == 5
    assert calls == [5, 5, 5, 5]  # the whole batch again each time, never split or dropped


@pytest.mark.django_db(transaction=True)
def test_messages_held_when_the_gateway_stops_are_stored_by_the_next_one(
    mqtt_broker, events_handler
):
    """The broker counts a message delivered once the gateway has it: what a stopping gateway
    holds (its batch, aiomqtt's queue) goes to the spool, and the next start stores it first."""
    seen: list[bytes] = []

    @events_handler
    def slow(batch):
        first = not seen
        seen.extend(payload for _, payload in batch)
        if first:
            time.sleep(1.0)  # busy storing the first batch while the rest arrives

    pub = _paho(mqtt_broker)
    with _Running(mqtt_broker):
        time.sleep(0.5)
        pub.publish("grassroots/v1/dev/0/events", b"first", qos=1)
        _wait(lambda: seen)
        for i in range(300):
            pub.publish(f"grassroots/v1/dev/{i}/events", b"%d" % i, qos=1)
        time.sleep(0.3)  # received (and acked to the broker) by the busy gateway
    spool = gateway._files()["spool"]
    assert spool.exists() and len(spool.read_text().splitlines()) > 0
    assert not {b"%d" % i for i in range(300)} <= set(seen)  # not all stored by the first run
    with _Running(mqtt_broker):
        _wait(lambda: {b"%d" % i for i in range(300)} <= set(seen))
        _wait(lambda: not spool.exists())
    pub.loop_stop()


@pytest.mark.django_db
def test_a_torn_spool_line_is_skipped_and_the_rest_stored(events_handler):
    seen = []
    events_handler(lambda batch: seen.extend(batch))
    gateway.spool([("grassroots/v1/dev/1/events", b"kept")])
    spool = gateway._files()["spool"]
    with spool.open("a") as fh:
        fh.write('{"topic": "grassroots/v1/dev/1/ev')  # a write cut short by a crash
    assert gateway.replay_spool() == 1
    assert seen == [("grassroots/v1/dev/1/events", b"kept")]
    assert not spool.exists()


@pytest.mark.django_db
def test_one_nudge_per_transaction_however_many_rows(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for i in range(3):
            outbox.enqueue(f"grassroots/v1/dev/{i}/cmd", {"n": i})
        outbox.enqueue_many([("grassroots/v1/dev/9/cmd", {"n": 9})])
    assert callbacks == [outbox.nudge_gateway]
