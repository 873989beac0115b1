"""Device-side benchmarks: event ingest and the emergency fan-out, each beside its raw floor.

- ingest: 2,000 devices (real MQTT clients, QoS 1) publish telemetry events as fast as they can;
  the gateway (a real `grassroots gateway` process) batches them into the database. Sustained
  events/s = events stored / (last stored - first published).
- fan-out (see `fanout()`): from `POST /api/v1/emergencies` to the last device ack stored, for N
  simulated agents, beside the raw broker floor (bench/mqtt_floor.py) measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

INGEST_DEVICES = int(os.environ.get("BENCH_INGEST_DEVICES", "2000"))
EVENTS_PER_DEVICE = int(os.environ.get("BENCH_EVENTS_PER_DEVICE", "10"))
PROCESSES = 2


def _prepare_db():
    from django.core.management import call_command

    from grassroots.accounts.demo import load_demo

    call_command("migrate", verbosity=0)
    load_demo()


def ensure_devices(n: int, prefix: str = "BENCH") -> list[int]:
    """n enabled IP speakers spread over the province's communes (created once, reused)."""
    from grassroots.devices.models import Device
    from grassroots.units.models import Unit

    existing = list(
        Device.objects.filter(serial__startswith=f"{prefix}-")
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )
    if len(existing) >= n:
        return existing
    communes = list(Unit.objects.filter(parent__code="33", valid_to__isnull=True).order_by("code"))
    rows = [
        Device(
            kind="speaker",
            unit=communes[i % len(communes)],
            name=f"Cụm loa mô phỏng {i}",
            serial=f"{prefix}-{i:05d}",
            technology="ip_4g",
        )
        for i in range(len(existing), n)
    ]
    Device.objects.bulk_create(rows, batch_size=1000)
    return list(
        Device.objects.filter(serial__startswith=f"{prefix}-")
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )


def start_broker(home: Path) -> tuple[subprocess.Popen, int]:
    from grassroots.core import broker

    port = broker.free_port()
    conf = broker.write_config(home, port)
    proc = subprocess.Popen(
        [broker.mosquitto_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return proc, port


def start_gateway(port: int) -> subprocess.Popen:
    env = dict(os.environ, MQTT_URL=f"mqtt://127.0.0.1:{port}")
    log = open(os.environ.get("BENCH_GATEWAY_LOG", os.devnull), "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "grassroots", "gateway"], env=env, stdout=log, stderr=log
    )


async def _publishers(port: int, ids: list[int], per_device: int, ready, go) -> None:
    import aiomqtt

    clients = []
    for dev in ids:
        c = aiomqtt.Client(
            "127.0.0.1", port, identifier=f"ingest-{dev}", max_concurrent_outgoing_calls=20
        )
        await c.__aenter__()
        clients.append((dev, c))
    ready.set()
    while not go.is_set():
        await asyncio.sleep(0.01)

    async def burst(dev, c):
        for k in range(per_device):
            body = json.dumps(
                {"id": uuid.uuid4().hex, "type": "telemetry", "n": k, "temp_c": 41.5}
            ).encode()
            await c.publish(f"grassroots/v1/dev/{dev}/events", body, qos=1)

    await asyncio.gather(*(burst(d, c) for d, c in clients))
    await asyncio.sleep(1)
    for _, c in clients:
        await c.__aexit__(None, None, None)


def _publisher_proc(port, ids, per_device, ready, go):
    asyncio.run(_publishers(port, ids, per_device, ready, go))


def ingest() -> dict:
    from django.conf import settings

    from grassroots.devices.models_fleet import DeviceEvent

    _prepare_db()
    ids = ensure_devices(INGEST_DEVICES)
    DeviceEvent.objects.filter(type="telemetry").delete()
    home = Path(settings.GRASSROOTS["HOME"]) / "bench-ingest"
    broker_proc, port = start_broker(home)
    gateway = start_gateway(port)
    ctx = mp.get_context("spawn")
    chunks = [ids[k::PROCESSES] for k in range(PROCESSES)]
    readies = [ctx.Event() for _ in chunks]
    go = ctx.Event()
    procs = [
        ctx.Process(target=_publisher_proc, args=(port, c, EVENTS_PER_DEVICE, r, go))
        for c, r in zip(chunks, readies, strict=True)
    ]
    try:
        for p in procs:
            p.start()
        for r in readies:
            r.wait(120)
        time.sleep(2)  # the gateway is subscribed by now
        total = len(ids) * EVENTS_PER_DEVICE
        start = time.perf_counter()
        go.set()
        stored, last_growth, last_stored = 0, start, 0
        deadline = start + 300
        while stored < total and time.perf_counter() < deadline:
            time.sleep(0.1)
            stored = DeviceEvent.objects.filter(type="telemetry").count()
            if stored != last_stored:
                last_stored, last_growth = stored, time.perf_counter()
            elif time.perf_counter() - last_growth > 15:
                break  # nothing new for 15 s: report what arrived (and what did not)
        elapsed = last_growth - start
    finally:
        for p in procs:
            p.join(30)
        gateway.terminate()
        gateway.wait(10)
        broker_proc.terminate()
        broker_proc.wait(10)
    return {
        "devices": len(ids),
        "events": total,
        "stored": stored,
        "lost": total - stored,
        "seconds": round(elapsed, 2),
        "events_per_s": round(stored / elapsed, 1),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }


def run() -> dict:
    return {"ingest": ingest()}
