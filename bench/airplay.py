"""Scheduled plays over the simulated fleet: how late does each cluster start its slot?

The main job of the platform, measured whole: a published bulletin (with its synthesised audio)
is put on every commune station that has simulated clusters, for one slot `LEAD_S` seconds
ahead; the worker's compile runs; the real gateway (its own process) announces the new
manifests; N simulated agents (real agent code, null audio) fetch them over HTTP from a real
gunicorn, and play. Each agent's as-run entry comes back through the gateway. Lateness is
as-run `started_at` − `scheduled_start`, per cluster (the agents judge time by the server's
clock; on this machine both clocks are the same).

Reports the share of clusters that aired, lateness p50/p95/max, and how long after the slot
the last as-run entry was stored.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

DEVICES = int(os.environ.get("BENCH_AIRPLAY_DEVICES", "1000"))
LEAD_S = float(os.environ.get("BENCH_AIRPLAY_LEAD_S", "40"))


def _schedule(bulletin, stations, slot) -> list[int]:
    """One slot of the bulletin on each station, as its commune would place it (actions)."""
    from grassroots.accounts.models import User
    from grassroots.broadcast import actions
    from grassroots.broadcast.actions import ItemData

    root = User.objects.get(username="bench-root")
    ids = []
    for station in stations:
        item, _proposals = actions.create_item(
            user=root,
            unit=station.unit,
            data=ItemData(
                title="Bench: bản tin theo lịch",
                priority="normal",
                kind="bulletin",
                starts_at=slot,
                duration_seconds=60,
                revision_id=bulletin.approved_revision_id,
            ),
        )
        ids.append(item.pk)
    return ids


def run() -> dict:
    from django.conf import settings
    from django.utils import timezone

    from grassroots.broadcast import manifests
    from grassroots.broadcast.models import AsRunEntry, Station
    from grassroots.core import broker
    from grassroots.devices import simulation
    from grassroots.devices.models import Device
    from grassroots_agent import simulate

    from .api import start_gunicorn
    from .fleet import _emergency_bulletin, _percentile, _prepare_db, bulletin_media

    _prepare_db()
    bulletin = _emergency_bulletin()
    media_root = Path(settings.MEDIA_ROOT) / "assets"
    preload = [
        str(media_root / m["url"].split("/media/assets/", 1)[1]) for m in bulletin_media(bulletin)
    ]
    specs = simulation.ensure_fleet(DEVICES)
    ids = [int(s["id"]) for s in specs]
    home = Path(settings.GRASSROOTS["HOME"])
    port = broker.free_port()
    shutil.rmtree(home / "mosquitto" / "data", ignore_errors=True)
    conf = broker.write_config(home, port, auth=True)
    mosquitto = subprocess.Popen(
        [broker.mosquitto_binary(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server_url = f"mqtt://{broker.SERVER_USER}:{broker.server_password(home)}@127.0.0.1:{port}"
    env = dict(os.environ, MQTT_URL=server_url)
    gateway = subprocess.Popen(
        [sys.executable, "-m", "grassroots", "gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web_port = broker.free_port()
    web = start_gunicorn(web_port, env)
    stop = threading.Event()
    ready = threading.Event()
    connected: dict = {}
    try:
        broker.sync(home)
        time.sleep(0.5)
        shutil.rmtree(home / "bench-airplay-agents", ignore_errors=True)
        fleet = threading.Thread(
            target=simulate.run,
            kwargs={
                "n_devices": len(specs),
                "broker_url": f"mqtt://127.0.0.1:{port}",
                "server_url": f"http://127.0.0.1:{web_port}",
                "preload": preload,
                "keys": simulation.trusted_keys(),
                "devices": [simulate.DeviceSpec(**s) for s in specs],
                "state_dir": str(home / "bench-airplay-agents"),
                "on_ready": lambda n: (connected.update(n=n), ready.set()),
                "stop_event": stop,
            },
            daemon=True,
        )
        fleet.start()
        if not ready.wait(300) or connected.get("n", 0) < len(specs):
            raise RuntimeError(f"only {connected.get('n', 0)} of {len(specs)} agents came up")
        time.sleep(3)  # first manifest fetches settle
        stations = list(
            Station.objects.filter(devices__pk__in=ids).distinct().select_related("unit")
        )
        slot = (timezone.now() + timedelta(seconds=LEAD_S)).replace(microsecond=0)
        items = _schedule(bulletin, stations, slot)
        compiled_at = time.perf_counter()
        compiled = manifests.compile_dirty()  # what the worker does every few seconds
        compile_s = time.perf_counter() - compiled_at
        expected = Device.objects.filter(pk__in=ids, station__in=stations).count()
        entries = AsRunEntry.objects.filter(item_id__in=items, status__in=["played", "cut"])
        deadline = slot + timedelta(seconds=120)
        while timezone.now() < deadline and entries.count() < expected:
            time.sleep(0.5)
        rows = list(entries.values_list("started_at", "scheduled_start", "received_at"))
        lateness = [(s - sch).total_seconds() for s, sch, _ in rows if sch]
        last_stored = max((r for _, _, r in rows), default=None)
        failed = AsRunEntry.objects.filter(item_id__in=items, status="failed").count()
    finally:
        stop.set()
        for proc in (web, gateway, mosquitto):
            proc.terminate()
            proc.wait(10)
    return {
        "devices": len(specs),
        "stations": len(stations),
        "expected_plays": expected,
        "aired": len(rows),
        "failed": failed,
        "compile_s": round(compile_s, 2),
        "compiled_devices": compiled.get("compiled"),
        "lateness_p50_s": round(_percentile(lateness, 0.5), 3) if lateness else None,
        "lateness_p95_s": round(_percentile(lateness, 0.95), 3) if lateness else None,
        "lateness_max_s": round(max(lateness), 3) if lateness else None,
        "lateness_min_s": round(min(lateness), 3) if lateness else None,
        "last_asrun_stored_after_slot_s": (
            round((last_stored - slot).total_seconds(), 2) if last_stored else None
        ),
        "lead_s": LEAD_S,
    }
