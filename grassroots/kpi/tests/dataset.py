"""A small hand-made province whose right answers are worked out by hand in the tests.

Province "Tỉnh Thử" (code 99) with three commune-level units, on Tuesday 10/03/2026 (day D):

- Phường Một (99001): station, IP clusters W1 (online all day) and W2 (online until 12:00, then
  offline: half a day), an e-board; relays 06:00–06:30 fully and 17:00–17:10 (partly); plays
  08:00:30 (slot 08:00, on time) and 09:05 (slot 09:00, late); airs the essential bulletin at
  07:30 (shared 07:00).
- Xã Hai (99002): station, IP cluster X1 (online all day), an e-board; relays 06:00–06:28
  (28 of 30 minutes: relayed), nothing at 17:00 (missed); plays 10:00 on time, fails at 11:00;
  airs the essential bulletin at 14:00 but uploads that entry only on D+2 (late).
- Xã Ba (99003): station with one wired cluster only, no e-board, no as-run.

Mandated relay slots (the province's usage policy): 06:00–06:30 and 17:00–17:30.
Reports in Phường Một: R1 (due D+3, answered D+2: in time, rated 5 stars on D+2), R2 (due
Wednesday D+1 17:00, answered Thursday D+2 10:00: one working day late, rated 2); in Xã Hai:
R3 (not handled). Bulletins published on D: the province's essential one (submitted 04:30,
published 06:30: 2 hours) and one of Phường Một's own.
Emergencies on D: E1 over the province (3 clusters expected, W1 and X1 acknowledge: 95 % never
reached), E2 over Phường Một (2 expected, W1 after 3 s, W2 after 10 s: 95 % after 10 s).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import time_machine

from grassroots.core.dates import VIETNAM

D = date(2026, 3, 10)


def at(day_offset: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    d = D + timedelta(days=day_offset)
    return datetime(d.year, d.month, d.day, hh, mm, ss, tzinfo=VIETNAM)


class World:
    """Handles to the rows the tests need."""


def build_inventory(province=None) -> World:
    """Units, stations, devices, boards, policy, bulletins and schedule items (on D-1); the three
    communes go under `province` when given (the browser test uses the demo province)."""
    from grassroots.broadcast.models import ScheduleItem, Station, UsagePolicy
    from grassroots.content.models import Bulletin, BulletinRevision, Category
    from grassroots.devices.models import Device, DeviceConnectivity
    from grassroots.feedback.actions import ensure_default_categories
    from grassroots.kpi.seed import ensure_targets
    from grassroots.signage.models import Board
    from grassroots.units.models import Unit

    ensure_default_categories()  # seeded by migrations, emptied by any flushing test before
    ensure_targets()
    w = World()
    with time_machine.travel(at(-1, 12), tick=False):
        w.province = province or Unit.objects.create(code="99", name="Tỉnh Thử", kind="tinh")
        w.ward = Unit.objects.create(
            code="99001",
            name="Phường Một",
            kind="phuong",
            parent=w.province,
            latitude=20.6,
            longitude=106.0,
        )
        w.xa2 = Unit.objects.create(
            code="99002",
            name="Xã Hai",
            kind="xa",
            parent=w.province,
            latitude=20.7,
            longitude=106.1,
        )
        w.xa3 = Unit.objects.create(
            code="99003", name="Xã Ba", kind="xa", parent=w.province, latitude=20.8, longitude=106.2
        )
        UsagePolicy.objects.update_or_create(
            unit=w.province, defaults={"relay_slots": ["06:00-06:30", "17:00-17:30"]}
        )
        st = {
            u.pk: Station.objects.create(unit=u, name=f"Đài {u.name}")
            for u in (w.ward, w.xa2, w.xa3)
        }

        def dev(name, unit, kind="speaker", tech="ip_4g"):
            return Device.objects.create(
                name=name,
                serial=f"kpi-{name}",
                unit=unit,
                kind=kind,
                technology=tech,
                station=st[unit.pk] if kind == "speaker" else None,
            )

        w.w1, w.w2, w.x1 = dev("W1", w.ward), dev("W2", w.ward), dev("X1", w.xa2)
        w.x3 = dev("X3", w.xa3, tech="wired")
        for unit in (w.ward, w.xa2):
            board = dev(f"B-{unit.code}", unit, kind="board", tech="ip_4g")
            Board.objects.create(device=board, token_hash=f"h{unit.code}", paired_at=at(-1, 12))
        for d in (w.w1, w.w2, w.x1):
            DeviceConnectivity.objects.create(device=d, online=True, at=at(-1, 23))

        cat = Category.objects.create(name="Thiết yếu (thử)", slug="thiet-yeu-thu", essential=True)
        w.essential = Bulletin.objects.create(
            unit=w.province, title="Lịch tiêm chủng", category=cat, status="published"
        )
        w.rev = BulletinRevision.objects.create(
            bulletin=w.essential, number=1, data={}, content_hash="0" * 64
        )
        w.items = {}
        for unit in (w.ward, w.xa2):
            item = ScheduleItem.objects.create(
                unit=unit,
                title="Lịch tiêm chủng",
                kind="bulletin",
                revision=w.rev,
                starts_at=at(0, 7, 30),
                duration_seconds=300,
                priority="normal",
            )
            item.stations.add(st[unit.pk])
            w.items[unit.pk] = item
        w.own = Bulletin.objects.create(
            unit=w.ward, title="Thông báo của phường", status="published"
        )
    return w


def build_day(w: World) -> None:
    """The facts of day D as they arrive by 23:30 (X1's essential play is still on the device)."""
    from grassroots.alerts.models import Emergency, EmergencyAck
    from grassroots.broadcast.models import AsRunEntry
    from grassroots.content.models import Bulletin, BulletinShare, Transition
    from grassroots.devices.models import DeviceConnectivity
    from grassroots.feedback.models import Category, Report

    with time_machine.travel(at(0, 4, 30), tick=False):
        Transition.objects.create(bulletin=w.essential, to_status="submitted", from_status="draft")
    Bulletin.objects.filter(pk=w.essential.pk).update(published_at=at(0, 6, 30))
    Bulletin.objects.filter(pk=w.own.pk).update(published_at=at(0, 9))
    with time_machine.travel(at(0, 7), tick=False):
        for unit in (w.ward, w.xa2):
            BulletinShare.objects.create(bulletin=w.essential, revision=w.rev, unit=unit)
    with time_machine.travel(at(0, 23, 30), tick=False):
        DeviceConnectivity.objects.create(device=w.w2, online=False, at=at(0, 12))

        def play(device, kind, start, end, status="played", slot=None, item=None):
            AsRunEntry.objects.create(
                device=device,
                kind=kind,
                started_at=start,
                ended_at=end,
                status=status,
                scheduled_start=slot,
                item=item,
            )

        play(w.w1, "relay", at(0, 6), at(0, 6, 30), slot=at(0, 6))
        play(w.w1, "relay", at(0, 17), at(0, 17, 10), slot=at(0, 17))
        play(w.w1, "media", at(0, 8, 0, 30), at(0, 8, 5), slot=at(0, 8))
        play(w.w1, "media", at(0, 9, 5), at(0, 9, 10), slot=at(0, 9))
        play(w.w1, "media", at(0, 7, 30), at(0, 7, 35), item=w.items[w.ward.pk])
        play(w.x1, "relay", at(0, 6), at(0, 6, 28), slot=at(0, 6))
        play(w.x1, "media", at(0, 10), at(0, 10, 5), slot=at(0, 10))
        play(w.x1, "media", at(0, 11), None, status="failed", slot=at(0, 11))

        cat = Category.objects.get(code="moi-truong")
        w.r1 = Report.objects.create(
            category=cat, unit=w.ward, origin_unit=w.ward, text="Đèn đường hỏng", due_at=at(3, 17)
        )
        w.r2 = Report.objects.create(
            category=cat, unit=w.ward, origin_unit=w.ward, text="Rác ở chợ", due_at=at(1, 17)
        )
        w.r3 = Report.objects.create(
            category=cat, unit=w.xa2, origin_unit=w.xa2, text="Ngập nước", due_at=at(5, 17)
        )
        for r, hh in ((w.r1, 8), (w.r2, 9), (w.r3, 10)):
            Report.objects.filter(pk=r.pk).update(created_at=at(0, hh))

        e1 = Emergency.objects.create(
            unit=w.province,
            title="Bão",
            expires_at=at(0, 16),
            sent_at=at(0, 15),
            expected_devices=3,
            status="stopped",
        )
        e2 = Emergency.objects.create(
            unit=w.ward,
            title="Cháy",
            expires_at=at(0, 19),
            sent_at=at(0, 18),
            expected_devices=2,
            status="stopped",
        )
        for e, device, secs in ((e1, w.w1, 2), (e1, w.x1, 5), (e2, w.w1, 3), (e2, w.w2, 10)):
            EmergencyAck.objects.create(
                emergency=e, device=device, acked_at=e.sent_at + timedelta(seconds=secs)
            )


def build_late(w: World) -> None:
    """D+2 10:00: X1 comes back and uploads D's 14:00 essential play; R1, R2 answered, rated."""
    from grassroots.broadcast import asrun
    from grassroots.feedback.models import Rating, Report

    with time_machine.travel(at(2, 10), tick=False):
        # through the one path every upload takes (gateway and API)
        item = w.items[w.xa2.pk]
        accepted, rejected = asrun.record(device=w.x1, entries=[{
            "id": "7f0c8a4e-5d3b-4c2a-9e1f-16a0b0c0d0e0", "item": f"s{item.pk}-20260310T1400",
            "kind": "media", "started_at": at(0, 14).isoformat(),
            "ended_at": at(0, 14, 5).isoformat(), "status": "played",
        }])  # fmt: skip
        assert accepted and not rejected, rejected
        for r in (w.r1, w.r2):
            Report.objects.filter(pk=r.pk).update(
                answered_at=at(2, 10), status="answered", updated_at=at(2, 10)
            )
        Rating.objects.create(report=w.r1, stars=5)
        Rating.objects.create(report=w.r2, stars=2)


def build_all(province=None):
    """The whole data set, rolled up as the worker would have by D+3 01:00."""
    from grassroots.kpi import rollup

    w = build_inventory(province)
    build_day(w)
    rollup.refresh(now=at(0, 23, 30))
    build_late(w)
    rollup.refresh(now=at(3, 1))
    return w
