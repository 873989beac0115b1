"""Province dashboard at full size: a year of facts for 2,000 clusters in 104 communes.

Generates (once; a second run reuses them) the year `YEAR` of: 10 plays per cluster per day
(two mandated relays at 06:00 and 17:00, eight scheduled media plays, some late or failed),
two connectivity changes per cluster per day, 50,000 citizens' reports (with answers and
ratings), 20,000 bulletins (400 essential ones shared to every commune, aired through the
as-run log), e-boards in most communes and a dozen emergencies with acknowledgements. Rows are
written with COPY (PostgreSQL) or one prepared INSERT per table (SQLite), not the ORM.

Reports: the generation time; the daily rollup of one day (goal < 5 s); the rebuild of the
whole year (goal < 10 min); the province overview for the year, warm, p50/p95 (goal p95 <
300 ms); a commune drill-down page for the year, p50/p95 (goal p95 < 150 ms).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from django.db import transaction

DEVICES = int(os.environ.get("BENCH_KPI_DEVICES", "2000"))
DAYS = int(os.environ.get("BENCH_KPI_DAYS", "365"))
REPORTS = int(os.environ.get("BENCH_KPI_REPORTS", "50000"))
BULLETINS = int(os.environ.get("BENCH_KPI_BULLETINS", "20000"))
ESSENTIAL = 400
YEAR = 2025
PREFIX = "kpib"
REQUESTS = 30
# Which parts to run (comma-separated): generate, rebuild, rollup, pages. "generate" alone
# prepares the facts once for later runs (a year on SQLite takes a while).
STEPS = set(os.environ.get("BENCH_KPI_STEPS", "generate,rebuild,rollup,pages").split(","))
VN = timedelta(hours=7)


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


class Loader:
    """Rows into a table as fast as the database takes them."""

    def __init__(self):
        from django.db import connection

        self.connection = connection
        assert connection.vendor in ("postgresql", "sqlite")
        self.pg = connection.vendor == "postgresql"

    def value(self, v):
        if self.pg:
            return v
        if isinstance(v, datetime):  # every generated time is in UTC already
            return str(v)[:19]
        if isinstance(v, uuid.UUID):
            return v.hex
        if isinstance(v, bool):
            return int(v)
        return v

    def load(self, model, columns: list[str], rows) -> int:
        table = model._meta.db_table
        n = 0
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        n += 1
                return n
            # a big page cache: the random UUID keys of the as-run table otherwise make every
            # insert a read of the disk once the index outgrows SQLite's default 2 MB
            cursor.execute("PRAGMA cache_size = -1000000")
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('%s' for _ in columns)})"
            )
            batch = []
            for row in rows:
                batch.append([self.value(v) for v in row])
                if len(batch) >= 20000:
                    cursor.executemany(sql, batch)
                    n += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                n += len(batch)
        return n


def _vn(day: date, seconds: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - VN + timedelta(seconds=seconds)


def generate() -> dict:
    """The year of facts (skipped when a previous run left them)."""
    from django.db import transaction

    from grassroots.accounts.models import User
    from grassroots.alerts.models import Emergency, EmergencyAck
    from grassroots.broadcast.actions import ensure_station
    from grassroots.broadcast.models import AsRunEntry, ScheduleItem, Station, UsagePolicy
    from grassroots.content.models import (
        Bulletin,
        BulletinRevision,
        BulletinShare,
        Category,
        Transition,
    )  # fmt: skip
    from grassroots.devices.models import Device, DeviceConnectivity
    from grassroots.feedback.models import Category as FeedbackCategory
    from grassroots.feedback.models import Rating, Report
    from grassroots.signage.models import Board
    from grassroots.units.models import Unit

    province = Unit.objects.get(code="33", valid_to__isnull=True)
    if not User.objects.filter(username="bench-kpi").exists():
        User.objects.create_superuser("bench-kpi", password="bench-kpi-pass")
    if Device.objects.filter(serial__startswith=f"{PREFIX}-").count() >= DEVICES:
        return {"skipped": True}
    rng = random.Random(16)
    start = time.perf_counter()
    loader = Loader()
    communes = list(province.children.filter(valid_to__isnull=True).order_by("code"))
    policy, _ = UsagePolicy.objects.get_or_create(unit=province)
    policy.relay_slots = ["06:00-06:30", "17:00-17:30"]
    policy.save()
    stations = {c.pk: ensure_station(c) for c in communes}
    jan1 = datetime(YEAR - 1, 12, 31, tzinfo=UTC)
    Station.objects.filter(pk__in=[s.pk for s in stations.values()]).update(created_at=jan1)
    Device.objects.bulk_create(
        [
            Device(kind="speaker", unit=communes[i % len(communes)], name=f"Cụm loa KPI {i}",
                   serial=f"{PREFIX}-{i:05d}", technology="ip_4g" if i % 50 else "wired",
                   station=stations[communes[i % len(communes)].pk])
            for i in range(DEVICES)
        ],
        batch_size=1000,
    )  # fmt: skip
    Device.objects.filter(serial__startswith=f"{PREFIX}-").update(created_at=jan1)
    speakers = list(
        Device.objects.filter(serial__startswith=f"{PREFIX}-", technology="ip_4g").values_list(
            "pk", "unit_id"
        )
    )
    boards = [
        Device(kind="board", unit=c, name=f"Bảng tin {c.name}", serial=f"{PREFIX}-b-{c.code}",
               technology="ip_4g")
        for c in communes if rng.random() < 0.85
    ]  # fmt: skip
    Device.objects.bulk_create(boards)
    Device.objects.filter(serial__startswith=f"{PREFIX}-b-").update(created_at=jan1)
    Board.objects.bulk_create(
        [Board(device=d, token_hash=f"{PREFIX}{d.pk}", paired_at=jan1)
         for d in Device.objects.filter(serial__startswith=f"{PREFIX}-b-")]
    )  # fmt: skip

    # Bulletins: communes' own, the province's, 400 essential ones shared to every commune.
    cat, _ = Category.objects.get_or_create(
        slug="kpi-thiet-yeu", defaults={"name": "Thiết yếu (bench)", "essential": True}
    )
    days = [date(YEAR, 1, 1) + timedelta(days=n) for n in range(DAYS)]
    owners = [province, *communes]
    bulletins = []
    for i in range(BULLETINS):
        day = days[i % len(days)]
        essential = i < ESSENTIAL
        unit = province if essential else owners[rng.randrange(len(owners))]
        at = _vn(day, 6 * 3600 + rng.randrange(10 * 3600))
        bulletins.append(Bulletin(unit=unit, title=f"Bản tin {i}", status="published",
                                  category=cat if essential else None, published_at=at,
                                  source="national" if i % 10 == 0 else "own"))  # fmt: skip
    Bulletin.objects.bulk_create(bulletins, batch_size=2000)
    made = list(Bulletin.objects.filter(title__startswith="Bản tin ").order_by("pk"))
    loader.load(Transition, ["bulletin_id", "from_status", "to_status", "at", "user_name",
                             "comment"],
                ((b.pk, "draft", "submitted", b.published_at - timedelta(hours=rng.randrange(1, 9)),
                  "", "") for b in made))  # fmt: skip
    essential = made[:ESSENTIAL]
    revisions = BulletinRevision.objects.bulk_create(
        [BulletinRevision(bulletin=b, number=1, data={}, content_hash="0" * 64) for b in essential]
    )
    items = ScheduleItem.objects.bulk_create(
        [ScheduleItem(unit=province, title=b.title, kind="bulletin", revision=r,
                      starts_at=b.published_at, duration_seconds=120, priority="normal")
         for b, r in zip(essential, revisions, strict=True)]
    )  # fmt: skip
    with transaction.atomic():
        shares = loader.load(
            BulletinShare,
            ["bulletin_id", "revision_id", "unit_id", "must_air", "shared_at"],
            ((b.pk, r.pk, c.pk, False, b.published_at + timedelta(minutes=5))
             for b, r in zip(essential, revisions, strict=True) for c in communes),
        )  # fmt: skip
    essential_of_day: dict[date, list[tuple[int, datetime]]] = {}
    for b, item in zip(essential, items, strict=True):
        essential_of_day.setdefault((b.published_at + VN).date(), []).append(
            (item.pk, b.published_at)
        )

    # As-run: 10 plays per cluster per day; connectivity: 2 changes per cluster per day.
    by_unit: dict[int, list[int]] = {}
    for pk, unit_id in speakers:
        by_unit.setdefault(unit_id, []).append(pk)

    def plays():
        for day in days:
            today_items = essential_of_day.get(day, [])
            for pk, unit_id in speakers:
                first_of_unit = by_unit[unit_id][0] == pk
                for slot_h in (6, 17):  # mandated relays
                    r = rng.random()
                    if r < 0.05:
                        continue
                    slot = _vn(day, slot_h * 3600)
                    length = 1800 if r > 0.1 else 600
                    yield (
                        uuid.uuid4(),
                        pk,
                        stations_of[unit_id],
                        None,
                        "",
                        "relay",
                        slot,
                        slot,
                        slot + timedelta(seconds=length),
                        "played",
                        "",
                        "",
                        slot + timedelta(seconds=length + 5),
                    )
                for n, slot_h in enumerate(range(7, 15)):
                    slot = _vn(day, slot_h * 3600)
                    late = rng.random() < 0.1
                    started = slot + timedelta(seconds=rng.randrange(120, 300) if late else
                                               rng.randrange(0, 30))  # fmt: skip
                    status = "failed" if rng.random() < 0.02 else "played"
                    item = None
                    if first_of_unit and n < len(today_items) and rng.random() < 0.95:
                        item, shared = today_items[n]  # the commune airs today's essentials
                        started = max(started, shared + timedelta(minutes=20))
                    received = started + timedelta(
                        days=2 if rng.random() < 0.01 else 0, seconds=130
                    )
                    yield (
                        uuid.uuid4(),
                        pk,
                        stations_of[unit_id],
                        item,
                        "",
                        "media",
                        slot,
                        started,
                        started + timedelta(seconds=120),
                        status,
                        "",
                        "",
                        received,
                    )

    stations_of = {u: s.pk for u, s in stations.items()}
    asrun = loader.load(
        AsRunEntry,
        ["id", "device_id", "station_id", "item_id", "manifest_item", "kind", "scheduled_start",
         "started_at", "ended_at", "status", "cut_by", "reason", "received_at"],
        plays(),
    )  # fmt: skip

    def changes():
        for pk, _unit in speakers:
            yield (pk, True, jan1)
        for day in days:
            for pk, _unit in speakers:
                off = rng.randrange(0, 20 * 3600)
                yield (pk, False, _vn(day, off))
                yield (pk, True, _vn(day, off + rng.randrange(60, 4 * 3600)))

    connectivity = loader.load(DeviceConnectivity, ["device_id", "online", "at"], changes())

    # Reports: received through the year, most answered (some late), a third rated.
    fcat = FeedbackCategory.objects.order_by("pk").first()
    report_rows = []
    for i in range(REPORTS):
        day = days[i % len(days)]
        unit = communes[rng.randrange(len(communes))]
        created = _vn(day, 7 * 3600 + rng.randrange(10 * 3600))
        due = created + timedelta(days=5)
        answered = None
        if rng.random() < 0.9:
            answered = created + timedelta(hours=rng.randrange(2, 24 * 7))
        report_rows.append(
            (f"KPI{i:08d}", uuid.uuid4().hex[:24], fcat.pk, unit.pk, unit.pk, "Phản ánh", "", False,
             "", "", "", "web", "answered" if answered else "new", "", "", "", answered, due,
             0, created, created if answered is None else answered)
        )  # fmt: skip
    reports = loader.load(
        Report,
        ["tracking_code", "open311_token", "category_id", "unit_id", "origin_unit_id", "text",
         "address", "share_location", "name", "phone", "email", "channel", "status",
         "resolution", "public_answer", "private_answer", "answered_at", "due_at",
         "escalation_level", "created_at", "updated_at"],
        report_rows,
    )  # fmt: skip
    answered_ids = list(
        Report.objects.filter(
            tracking_code__startswith="KPI", answered_at__isnull=False
        ).values_list("pk", "answered_at")
    )
    ratings = loader.load(
        Rating, ["report_id", "stars", "comment", "created_at"],
        ((pk, rng.randint(1, 5), "", at + timedelta(hours=3))
         for pk, at in answered_ids if rng.random() < 0.33),
    )  # fmt: skip

    # A dozen emergencies over the province, most clusters acknowledging within seconds.
    acks = 0
    for m in range(min(12, max(DAYS // 30, 1))):
        sent = _vn(days[m * 30 % len(days)], 10 * 3600)
        e = Emergency.objects.create(unit=province, title=f"Khẩn cấp {m}", status="stopped",
                                     expires_at=sent + timedelta(hours=1), sent_at=sent,
                                     expected_devices=len(speakers))  # fmt: skip
        acks += loader.load(
            EmergencyAck, ["emergency_id", "device_id", "status", "reason", "acked_at"],
            ((e.pk, pk, "ok", "", sent + timedelta(seconds=rng.uniform(0.1, 8)))
             for pk, _u in speakers if rng.random() < 0.97),
        )  # fmt: skip
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "asrun_rows": asrun,
        "connectivity_rows": connectivity,
        "reports": reports,
        "ratings": ratings,
        "bulletins": len(made),
        "shares": shares,
        "emergency_acks": acks,
    }


def run() -> dict:
    from django.db import connection

    from grassroots.kpi import rollup

    from .fleet import _prepare_db

    _prepare_db()
    out: dict = {"database": connection.vendor, "devices": DEVICES, "days": DAYS}
    out["generate"] = generate()
    first, last = date(YEAR, 1, 1), date(YEAR, 1, 1) + timedelta(days=DAYS - 1)
    # The machine is shared: the load average and this process's own CPU time (on SQLite the
    # database works inside it) say how much of a wall-clock figure was waiting for a core.
    out["load_average_at_start"] = round(os.getloadavg()[0], 1)
    if "rebuild" in STEPS:
        t0, c0 = time.perf_counter(), time.process_time()
        rollup.rebuild(first, last)
        out["rebuild_year_s"] = round(time.perf_counter() - t0, 1)
        out["rebuild_year_cpu_s"] = round(time.process_time() - c0, 1)
    if connection.vendor == "postgresql":
        # what autovacuum does within minutes of a bulk load; the bench does not wait for it
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if "rollup" in STEPS:
        out.update(_one_day(first, last))
    if "pages" in STEPS:
        out.update(_pages(first))
    out["load_average_at_end"] = round(os.getloadavg()[0], 1)
    out["goals"] = {
        "rollup_one_day_s": 5,
        "rebuild_year_s": 600,
        "overview_p95_ms": 300,
        "commune_p95_ms": 150,
    }
    return out


def _one_day(first: date, last: date) -> dict:
    from grassroots.kpi import rollup
    from grassroots.kpi.models import DailyRollup

    out = {}
    one, cpu = [], []
    for day in (date(YEAR, 3, 3), date(YEAR, 6, 16), date(YEAR, 9, 9)):
        if day > last:
            day = first
        t0, c0 = time.perf_counter(), time.process_time()
        rollup.compute_day(day)
        one.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out["rollup_one_day_s"] = {"median": round(sorted(one)[1], 2), "max": round(max(one), 2),
                               "cpu_median": round(sorted(cpu)[1], 2)}  # fmt: skip
    out["rollup_rows"] = DailyRollup.objects.filter(day__gte=first, day__lte=last).count()
    return out


def _pages(first: date) -> dict:
    from django.conf import settings
    from django.test import Client

    from grassroots.accounts.models import User
    from grassroots.kpi.models import DailyRollup

    out = {}
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    # the demo province viewer (kpi.view over the province): a superuser's console menu also
    # counts every commune's unpicked shares, which is not the dashboard's cost
    client.force_login(User.objects.get(username="viewer"))
    commune = (
        DailyRollup.objects.filter(day=first, unit__kind="xa").values_list("unit__code", flat=True)
    ).first()
    pages = {
        "overview": f"/chi-so/?ky=nam&gia-tri={YEAR}",
        "commune": f"/chi-so/don-vi/{commune}/?ky=nam&gia-tri={YEAR}",
    }
    for name, url in pages.items():
        for _ in range(3):  # warm
            assert client.get(url).status_code == 200
        times = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        out[f"{name}_ms"] = {"p50": round(_percentile(times, 0.5), 1),
                             "p95": round(_percentile(times, 0.95), 1)}  # fmt: skip
    return out
