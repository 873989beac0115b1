"""Manifest compile: 48-hour (72 h stored) signed manifests for 5,000 devices in 104 communes.

Sets up its own data in a throwaway database (Django's test-database utilities, a temporary
SQLite file), so it never touches the bench or production data: the Hưng Yên units (104
communes), one station each, 5,000 IP loudspeaker clusters and 20 schedule items per commune
(daily relays and bulletins, weekly items, one-offs, a clashing priority item, an emergency).
Then it times a full compile and an incremental one after a single schedule change.
Targets (issue 4): full < 10 s, incremental < 0.5 s on 2 cores.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

DEVICES = 5000
ITEMS_PER_COMMUNE = 20
SHA = "5e" * 32


def _django() -> None:
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        os.environ["DJANGO_SETTINGS_MODULE"] = "grassroots.config.settings"
        os.environ.setdefault("GRASSROOTS_HOME", tempfile.mkdtemp(prefix="gr-bench-home-"))
    import django

    django.setup()


def _items_for(unit, day0: datetime, n: int):
    """Twenty items of a typical commune week, in Asia/Ho_Chi_Minh wall time."""
    from grassroots.broadcast.models import ScheduleItem

    def at(hh, mm=0, days=0):
        return day0.replace(hour=hh, minute=mm) + timedelta(days=days)

    media = [{"url": f"https://media.example/{unit.code}/{n}.opus", "sha256": SHA, "size": 480_000}]
    rows = [
        ("Tiếp sóng thời sự Đài TNVN", "priority", "relay", at(6), 1800, "FREQ=DAILY"),
        ("Tiếp sóng Đài PT-TH tỉnh", "normal", "relay", at(18), 1800, "FREQ=DAILY"),
    ]
    for k in range(8):
        rows.append((f"Bản tin {k + 1}", "normal", "bulletin", at(7 + k, 15), 600, "FREQ=DAILY"))
    for k, days in enumerate(("MO,WE,FR", "TU,TH", "SA", "SU")):
        rows.append(
            (
                f"Chuyên mục {k + 1}",
                "normal",
                "bulletin",
                at(16, 10 * k),
                480,
                f"FREQ=WEEKLY;BYDAY={days}",
            )
        )
    for k in range(4):
        rows.append((f"Thông báo {k + 1}", "normal", "bulletin", at(10, 40, days=k % 3), 300, ""))
    rows.append(("Xã: lịch tiêm chủng", "priority", "bulletin", at(7, 15), 300, "FREQ=DAILY"))
    rows.append(("Cảnh báo mưa lớn", "emergency", "bulletin", at(9, 20, days=1), 300, ""))
    out = []
    for title, priority, kind, start, seconds, rrule in rows[:ITEMS_PER_COMMUNE]:
        relay = kind == "relay"
        out.append(
            ScheduleItem(
                unit=unit,
                title=title,
                priority=priority,
                kind=kind,
                media=[] if relay else media,
                relay_type=("fm" if priority == "priority" else "stream") if relay else "",
                relay_frequency=100 if relay and priority == "priority" else None,
                relay_url="https://stream.example/tinh.ogg"
                if relay and priority != "priority"
                else "",
                starts_at=start,
                duration_seconds=seconds,
                rrule=rrule,
                last_end=None if rrule else start + timedelta(seconds=seconds),
                policy_exempt=priority == "emergency",
            )
        )
    return out


def _populate(day0: datetime) -> dict:
    from grassroots.accounts.demo import load_demo
    from grassroots.broadcast.models import ScheduleItem, Station
    from grassroots.devices.models import Device
    from grassroots.units.choices import UnitKind
    from grassroots.units.models import Unit

    load_demo()
    communes = list(
        Unit.objects.filter(valid_to__isnull=True, kind__in=UnitKind.commune_level()).order_by(
            "code"
        )
    )
    stations = Station.objects.bulk_create(
        [Station(unit=u, name=f"Đài truyền thanh {u.name}") for u in communes]
    )
    devices = []
    for i in range(DEVICES):
        st = stations[i % len(stations)]
        devices.append(
            Device(
                kind="speaker",
                unit_id=st.unit_id,
                station=st,
                name=f"Cụm loa {i}",
                serial=f"BENCH-{i:05d}",
                technology="ip_4g",
                volume=(70, 80, 90)[i % 3],
                manifest_dirty=True,
            )
        )
    Device.objects.bulk_create(devices, batch_size=1000)
    items = []
    for st, u in zip(stations, communes, strict=True):
        items += [(st, it) for it in _items_for(u, day0, st.pk)]
    ScheduleItem.objects.bulk_create([it for _s, it in items], batch_size=1000)
    through = ScheduleItem.stations.through
    through.objects.bulk_create(
        [through(scheduleitem_id=it.pk, station_id=st.pk) for st, it in items], batch_size=2000
    )
    return {"communes": len(communes), "stations": len(stations), "items": len(items)}


def _measure(now: datetime) -> dict:
    from django.db import transaction

    from grassroots.broadcast import manifests
    from grassroots.broadcast.actions import mark_stations_dirty
    from grassroots.broadcast.models import Manifest, ScheduleItem

    t = time.perf_counter()
    full = manifests.compile_dirty(now=now)
    full_s = time.perf_counter() - t
    sizes = [len(b) for b in Manifest.objects.values_list("body", flat=True)[:200]]

    # One schedule change in one commune: the action marks that station's devices dirty.
    item = ScheduleItem.objects.filter(title="Bản tin 3").order_by("pk").first()
    with transaction.atomic():
        item.starts_at += timedelta(minutes=20)
        item.save(update_fields=["starts_at"])
        dirty = mark_stations_dirty(item.stations.values_list("pk", flat=True))
    t = time.perf_counter()
    incremental = manifests.compile_dirty(now=now)
    incremental_s = time.perf_counter() - t

    # Everything marked dirty but nothing changed: compiled, compared, nothing rewritten.
    from grassroots.devices.models import Device

    Device.objects.update(manifest_dirty=True)
    t = time.perf_counter()
    unchanged = manifests.compile_dirty(now=now)
    unchanged_s = time.perf_counter() - t
    return {
        "full_s": round(full_s, 3),
        "full": full,
        "incremental_s": round(incremental_s, 3),
        "incremental": incremental,
        "incremental_dirty_devices": dirty,
        "recheck_all_unchanged_s": round(unchanged_s, 3),
        "recheck_all_unchanged": unchanged,
        "manifest_bytes_avg": round(sum(sizes) / len(sizes)) if sizes else 0,
        "devices_per_s_full": round(full["compiled"] / full_s) if full_s else None,
        "target_full_s": 10.0,
        "target_incremental_s": 0.5,
        "ok": full_s < 10.0 and incremental_s < 0.5,
    }


def run() -> dict:
    _django()
    from django.conf import settings
    from django.db import connection

    from grassroots.broadcast.engine import TZ

    tmp = Path(tempfile.mkdtemp(prefix="gr-bench-manifests-"))
    settings.DATABASES["default"].setdefault("TEST", {})
    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(tmp / "bench.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        now = datetime.now(TZ).replace(microsecond=0)
        day0 = now.replace(hour=0, minute=0, second=0)
        t = time.perf_counter()
        counts = _populate(day0)
        setup_s = time.perf_counter() - t
        result = _measure(now)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return {"setup_s": round(setup_s, 2), **counts, "devices": DEVICES, **result}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
