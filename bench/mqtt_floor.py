"""The raw broker floor for the emergency fan-out: bare MQTT clients, no platform.

N subscriber clients (aiomqtt, QoS 1, spread over worker processes) subscribe to one topic; one
publisher sends one message; every subscriber answers with an ack on its own topic; one collector
counts the acks. The round trip (publish → last ack at the collector) is the floor the platform's
emergency path is compared with (bench/fleet.py runs both in the same run).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time

PROCESSES = 2


async def _subscribers(host, port, ids, topic, ready, go, auth) -> None:
    import aiomqtt

    clients = []
    for i in ids:
        client = aiomqtt.Client(
            host, port, identifier=f"floor-{i}", max_concurrent_outgoing_calls=50, **auth
        )
        await client.__aenter__()
        await client.subscribe(topic, qos=1)
        clients.append((i, client))
    ready.set()

    async def answer(i, client):
        async for _msg in client.messages:
            await client.publish(f"floor/ack/{i}", b"ok", qos=1)
            return

    await asyncio.gather(*(answer(i, c) for i, c in clients))
    await asyncio.sleep(0.5)
    for _, c in clients:
        await c.__aexit__(None, None, None)


def _worker(host, port, ids, topic, ready, go, auth):
    asyncio.run(_subscribers(host, port, ids, topic, ready, go, auth))


async def _round_trip(host: str, port: int, n: int, topic: str, auth: dict) -> float:
    import aiomqtt

    async with aiomqtt.Client(
        host, port, identifier="floor-collector", **auth, max_queued_incoming_messages=100_000
    ) as collector:
        await collector.subscribe("floor/ack/+", qos=1)
        async with aiomqtt.Client(host, port, identifier="floor-publisher", **auth) as pub:
            start = time.perf_counter()
            await pub.publish(topic, b'{"type":"play.now"}', qos=1)
            got = 0
            async for _ in collector.messages:
                got += 1
                if got == n:
                    return time.perf_counter() - start
    raise RuntimeError("unreachable")


def measure(
    host: str, port: int, n: int, timeout: float = 60, *, username=None, password=None
) -> dict:
    """Start N subscribers, then time one publish → N acks. Returns seconds and connect time."""
    auth = {"username": username, "password": password} if username else {}
    topic = f"floor/{n}/{int(time.time() * 1000)}/cmd"
    ctx = mp.get_context("spawn")
    chunks = [list(range(k, n, PROCESSES)) for k in range(PROCESSES)]
    readies = [ctx.Event() for _ in chunks]
    go = ctx.Event()
    t0 = time.perf_counter()
    procs = [
        ctx.Process(target=_worker, args=(host, port, ids, topic, ev, go, auth), daemon=True)
        for ids, ev in zip(chunks, readies, strict=True)
    ]
    for p in procs:
        p.start()
    for ev in readies:
        if not ev.wait(timeout):
            raise RuntimeError("subscribers did not connect in time")
    connect_s = time.perf_counter() - t0
    rtt = asyncio.run(asyncio.wait_for(_round_trip(host, port, n, topic, auth), timeout))
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    return {"connect_s": round(connect_s, 3), "round_trip_s": round(rtt, 4)}
