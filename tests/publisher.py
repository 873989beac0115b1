"""A device sending telemetry events (QoS 1) with its own login, counting what the broker
accepted: the reference the gateway's "nothing accepted is lost" tests count against."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid

import paho.mqtt.client as paho


class TelemetryPublisher(threading.Thread):
    """Publishes one event every `interval` s; after `finish()`, `accepted` holds the ids the
    broker PUBACKed and `when` the moment it did (monotonic). Reconnects by itself (a broker
    restart)."""

    def __init__(self, device_id: str, password: str, port: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.device_id = str(device_id)
        self.interval = interval
        self.accepted: set[str] = set()
        self.when: dict[str, float] = {}
        self.pending: dict[int, str] = {}
        self.acks: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"pub-{self.device_id}",
            protocol=paho.MQTTv5,
        )
        self.client.username_pw_set(f"dev-{self.device_id}", password)
        self.client.on_publish = self._acked
        self.client.reconnect_delay_set(0.2, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _acked(self, client, userdata, mid, reason_code, properties):
        # paho calls this holding its own lock, while publish() (under self.lock) may be waiting
        # for that lock: taking self.lock here deadlocked. Acks are queued and matched later.
        self.acks.put((mid, not reason_code.is_failure, time.monotonic()))

    def _match_acks(self) -> None:
        with self.lock:
            while True:
                try:
                    mid, ok, when = self.acks.get_nowait()
                except queue.Empty:
                    return
                event_id = self.pending.pop(mid, None)
                if event_id and ok:
                    self.accepted.add(event_id)
                    self.when[event_id] = when

    def run(self) -> None:
        topic = f"grassroots/v1/dev/{self.device_id}/events"
        while not self.halt.is_set():
            event_id = uuid.uuid4().hex
            body = {"type": "telemetry", "id": event_id, "device": self.device_id}
            with self.lock:
                info = self.client.publish(topic, json.dumps(body).encode(), qos=1)
                if info.rc in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
                    self.pending[info.mid] = event_id
            self.halt.wait(self.interval)

    def finish(self, timeout: float = 15.0) -> None:
        """Stop publishing, wait for the outstanding PUBACKs, disconnect."""
        self.halt.set()
        self.join(5)
        deadline = time.monotonic() + timeout
        self._match_acks()
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.05)
            self._match_acks()
        # disconnect first: loop_stop() waits forever for a network loop that is reconnecting
        self.client.disconnect()
        self.client.loop_stop()
