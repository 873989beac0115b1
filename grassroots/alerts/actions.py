"""Emergency broadcast (Thông tư 39: khẩn cấp preempts everything): start, deliver, stop.

Starting one signs a `play.now` command to the unit topics of its area, through the outbox, in
the same transaction that records it; every device under those units preempts what it plays,
acks, plays `repeat` times and resumes its schedule. Text-only emergencies are read by TTS in the
worker first (never in the request).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.policies import require
from grassroots.core import audit
from grassroots.core.bulk import insert_rows
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.devices import protocol
from grassroots.devices.models import Device
from grassroots.units.models import Unit

from .models import Emergency, EmergencyAck, EmergencyPolicy, EmergencyStatus

MAX_MINUTES = 24 * 60


def _common_ancestor(units: list[Unit]) -> Unit:
    parts = [u.path.strip("/").split("/") for u in units]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    if not common:
        raise Problem(422, "Các đơn vị chọn không cùng một tỉnh.")
    return Unit.objects.get(pk=int(common[-1]))


def area_devices(emergency: Emergency):
    q = Q()
    for path in emergency.area.values_list("path", flat=True):
        q |= Q(unit__path__startswith=path)
    return Device.objects.ip().filter(q)


def devices_under(units: list[Unit]):
    """IP devices under any of these units (what an emergency over them would reach)."""
    q = Q()
    for u in units:
        q |= Q(unit__path__startswith=u.path)
    return Device.objects.ip().filter(q) if units else Device.objects.none()


def plan(*, user, unit_codes: list[str], bulletin_id: int | None = None) -> dict[str, Any]:
    """What an emergency would do, before anything is recorded: the area, the devices it
    reaches, the bulletin and its audio, and whether a second officer must confirm."""
    require(user, "broadcast.emergency")
    codes = sorted({c.strip() for c in unit_codes if c and c.strip()})
    if not codes:
        raise Problem(422, "Chọn ít nhất một đơn vị (vùng phát khẩn cấp).")
    units = list(
        Unit.objects.restrict(user, "broadcast.emergency")
        .filter(code__in=codes, valid_to__isnull=True)
        .order_by("depth", "name")
    )
    if len(units) != len(codes):
        raise Problem(404, "Có đơn vị không tồn tại hoặc nằm ngoài phạm vi phát khẩn cấp của bạn.")
    bulletin, media = None, []
    if bulletin_id is not None:
        bulletin, media = _chosen_bulletin(user, bulletin_id)
    return {
        "units": units,
        "devices": devices_under(units).count(),
        "bulletin": bulletin,
        "media": media,
        "two_person": two_person_minutes(units),
    }


def _chosen_bulletin(user, bulletin_id: int):
    """(bulletin, its approved audio) of a bulletin the user may see; 404 in Vietnamese."""
    from grassroots.content.models import Bulletin

    bulletin = Bulletin.objects.visible_to(user).filter(pk=bulletin_id).first()
    if bulletin is None:
        raise Problem(
            404,
            "Không tìm thấy bản tin đã chọn, hoặc bản tin nằm ngoài phạm vi của bạn. "
            "Hãy tìm bản tin theo tiêu đề rồi chọn lại.",
        )
    return bulletin, _media_of_bulletin(bulletin)


def _media_of_bulletin(bulletin) -> list[dict[str, Any]]:
    """The approved audio of a bulletin (only vetted content goes on air)."""
    from grassroots.broadcast.actions import revision_media

    if not bulletin.approved_revision_id:
        raise Problem(422, f"Bản tin '{bulletin.title}' chưa được duyệt nên không thể phát.")
    return revision_media(bulletin.approved_revision)


@transaction.atomic
def start(
    *,
    user,
    unit_codes: list[str],
    title: str,
    text: str = "",
    bulletin_id: int | None = None,
    repeat: int = 1,
    expires_in_minutes: int = 30,
) -> Emergency:
    """Record an emergency for an area in the user's scope and send it (or queue its TTS)."""
    require(user, "broadcast.emergency")
    codes = sorted({c.strip() for c in unit_codes if c and c.strip()})
    if not codes:
        raise Problem(422, "Chọn ít nhất một đơn vị (vùng phát khẩn cấp).")
    units = list(
        Unit.objects.restrict(user, "broadcast.emergency").filter(
            code__in=codes, valid_to__isnull=True
        )
    )
    if len(units) != len(codes):
        raise Http404
    if not (1 <= repeat <= 10):
        raise Problem(422, "Số lần lặp phải từ 1 đến 10.")
    if not (1 <= expires_in_minutes <= MAX_MINUTES):
        raise Problem(422, f"Thời hạn phải từ 1 đến {MAX_MINUTES} phút.")
    title = (title or "").strip()[:200]
    if not title:
        raise Problem(422, "Cần nhập tiêu đề cho bản tin khẩn cấp.")
    bulletin = None
    media: list[dict] = []
    if bulletin_id is not None:
        bulletin, media = _chosen_bulletin(user, bulletin_id)
    elif not text.strip():
        raise Problem(422, "Cần chọn một bản tin đã duyệt hoặc nhập nội dung để đọc (TTS).")
    emergency = Emergency.objects.create(
        unit=_common_ancestor(units),
        title=title,
        text=text.strip()[:5000],
        bulletin=bulletin,
        media=media,
        repeat=repeat,
        created_by=user,
        expires_at=timezone.now() + datetime.timedelta(minutes=expires_in_minutes),
    )
    emergency.area.set(units)
    emergency.expected_devices = area_devices(emergency).count()
    minutes = two_person_minutes(units)
    if minutes:
        emergency.status = EmergencyStatus.AWAITING
        emergency.confirm_by = timezone.now() + datetime.timedelta(minutes=minutes)
    emergency.save(update_fields=["expected_devices", "status", "confirm_by"])
    audit.record(
        emergency,
        ChangeAction.CREATE,
        user=user,
        comment=f"chờ người thứ hai xác nhận trong {minutes} phút" if minutes else "",
    )
    if not minutes:
        _go_on_air(emergency)
    return emergency


def _go_on_air(emergency: Emergency) -> None:
    """Send now when the audio is known; otherwise let the worker read the text first."""
    if emergency.media:
        send(emergency)
    else:
        emergency.status = EmergencyStatus.PREPARING
        emergency.save(update_fields=["status", "updated_at"])
        from .tasks import prepare_emergency

        transaction.on_commit(lambda: prepare_emergency.enqueue(emergency.pk))


def two_person_minutes(units: list[Unit]) -> int:
    """Minutes a second officer has to confirm an emergency over `units`, or 0 when no unit
    of the area (nor any unit above it) asks for two people. The strictest rule wins."""
    ids: set[int] = set()
    for u in units:
        ids.update(int(p) for p in u.path.strip("/").split("/") if p)
    rules = EmergencyPolicy.objects.filter(unit_id__in=ids, two_person=True).values_list(
        "confirm_minutes", flat=True
    )
    return max(1, min(rules)) if rules else 0


@transaction.atomic
def confirm(*, user, emergency_id: int) -> Emergency:
    """The second officer's confirmation (two-person rule): only someone other than the one
    who started it, holding the emergency right over its area, before the deadline."""
    require(user, "broadcast.emergency")
    emergency = (
        Emergency.objects.restrict(user, "broadcast.emergency")
        .select_for_update()
        .filter(pk=emergency_id)
        .first()
    )
    if emergency is None:
        raise Http404
    if emergency.status != EmergencyStatus.AWAITING:
        raise Problem(409, "Bản tin khẩn cấp này không chờ xác nhận.")
    if emergency.created_by_id == user.pk:
        raise Problem(
            403, "Người xác nhận phải là cán bộ thứ hai, không phải người đã tạo lệnh phát."
        )
    if emergency.confirm_by and timezone.now() > emergency.confirm_by:
        raise Problem(
            409, "Đã quá thời hạn xác nhận; lệnh phát không còn hiệu lực. Hãy tạo lệnh mới."
        )
    before = audit.snapshot(emergency)
    emergency.confirmed_by = user
    emergency.confirmed_at = timezone.now()
    emergency.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
    audit.record(emergency, ChangeAction.UPDATE, user=user, before=before, comment="confirm")
    _go_on_air(emergency)
    return emergency


@transaction.atomic
def set_policy(*, user, unit_code: str, two_person: bool, confirm_minutes: int = 10):
    """Set a unit's two-person rule (province administrators: `accounts.manage` on the unit)."""
    require(user, "accounts.manage")
    unit = (
        Unit.objects.restrict(user, "accounts.manage")
        .filter(code=unit_code, valid_to__isnull=True)
        .first()
    )
    if unit is None:
        raise Http404
    if not (1 <= confirm_minutes <= 120):
        raise Problem(422, "Thời hạn xác nhận phải từ 1 đến 120 phút.")
    policy, created = EmergencyPolicy.objects.get_or_create(unit=unit)
    before = None if created else audit.snapshot(policy)
    policy.two_person = two_person
    policy.confirm_minutes = confirm_minutes
    policy.save()
    audit.record(
        policy,
        ChangeAction.CREATE if created else ChangeAction.UPDATE,
        user=user,
        before=before,
    )
    return policy


def _play_body(emergency: Emergency) -> dict[str, Any]:
    return {
        "priority": "emergency",
        "repeat": emergency.repeat,
        "media": emergency.media,
        "emergency": {
            "id": emergency.pk,
            "title": emergency.title,
            "text": emergency.text,
            "expires_at": emergency.expires_at.isoformat(),
        },
    }


def send(emergency: Emergency) -> Emergency:
    """Sign `play.now` to every unit topic of the area (inside the caller's transaction)."""
    codes = list(emergency.area.values_list("code", flat=True))
    ttl = max(emergency.expires_at - timezone.now(), datetime.timedelta(seconds=30))
    envelope, _ = protocol.send_to_units(
        codes, protocol.CommandType.PLAY_NOW, _play_body(emergency), ttl=ttl
    )
    emergency.command_seq = envelope["payload"]["seq"]
    emergency.command_id = envelope["payload"]["id"]
    emergency.sent_at = timezone.now()
    emergency.status = EmergencyStatus.ACTIVE
    emergency.next_repeat_at = _next_repeat(emergency, emergency.sent_at)
    emergency.save(
        update_fields=[
            "command_seq",
            "command_id",
            "sent_at",
            "status",
            "next_repeat_at",
            "updated_at",
        ]
    )
    return emergency


def _next_repeat(emergency: Emergency, after: datetime.datetime) -> datetime.datetime | None:
    """When the emergency goes on air again (every `repeat_every_minutes`), or None when that
    would be at or past its `expires_at` (or it does not repeat)."""
    if not emergency.repeat_every_minutes:
        return None
    due = after + datetime.timedelta(minutes=emergency.repeat_every_minutes)
    return due if due < emergency.expires_at else None


@transaction.atomic
def repeat_due(now: datetime.datetime | None = None) -> int:
    """Put again on air the emergencies whose repetition is due (CAP: "repeated as configured
    until `expires`"): a freshly signed `play.now` (new id and seq, same emergency) to the same
    unit topics, so every loudspeaker plays it again and boards keep the overlay. A stopped,
    cancelled or expired emergency is never repeated. Returns how many went out."""
    now = now or timezone.now()
    due = list(
        Emergency.objects.select_for_update().filter(
            status=EmergencyStatus.ACTIVE, next_repeat_at__lte=now, expires_at__gt=now
        )
    )
    for emergency in due:
        codes = list(emergency.area.values_list("code", flat=True))
        ttl = max(emergency.expires_at - now, datetime.timedelta(seconds=30))
        envelope, _ = protocol.send_to_units(
            codes, protocol.CommandType.PLAY_NOW, _play_body(emergency), ttl=ttl
        )
        # acks of the repetition count for the emergency too (one row per device: the first)
        emergency.command_seq = envelope["payload"]["seq"]
        emergency.command_id = envelope["payload"]["id"]
        emergency.repeats_sent += 1
        emergency.next_repeat_at = _next_repeat(emergency, now)
        emergency.save(
            update_fields=[
                "command_seq",
                "command_id",
                "repeats_sent",
                "next_repeat_at",
                "updated_at",
            ]
        )
    return len(due)


@transaction.atomic
def stop(*, user, emergency_id: int) -> Emergency:
    """Stop an emergency: a signed `stop` to the same unit topics; devices resume their schedule."""
    require(user, "broadcast.emergency")
    emergency = (
        Emergency.objects.restrict(user, "broadcast.emergency").filter(pk=emergency_id).first()
    )
    if emergency is None:
        raise Http404
    if emergency.status not in (
        EmergencyStatus.ACTIVE,
        EmergencyStatus.PREPARING,
        EmergencyStatus.AWAITING,
    ):
        raise Problem(409, "Bản tin khẩn cấp này đã dừng hoặc hết hạn.")
    before = audit.snapshot(emergency)
    if emergency.status != EmergencyStatus.AWAITING:  # nothing went on air yet otherwise
        codes = list(emergency.area.values_list("code", flat=True))
        protocol.send_to_units(codes, protocol.CommandType.STOP, {"emergency_id": emergency.pk})
    emergency.status = EmergencyStatus.STOPPED
    emergency.stopped_at = timezone.now()
    emergency.stopped_by = user
    emergency.save()
    audit.record(emergency, ChangeAction.UPDATE, user=user, before=before, comment="stop")
    return emergency


def _send_to_devices(emergency: Emergency, device_ids) -> None:
    ttl = max(emergency.expires_at - timezone.now(), datetime.timedelta(seconds=30))
    body = _play_body(emergency)
    for device_id in device_ids:
        protocol.send_to_device(
            device_id,
            protocol.CommandType.PLAY_NOW,
            body,
            ttl=ttl,
            command_id=emergency.command_id,
        )


def _unacked(emergency: Emergency):
    """The area's devices that have not taken the emergency: no answer, or a refusal (one
    query). A refusal is sent again as a freshly signed command (new seq and time window), which
    cures refusals about time."""
    return area_devices(emergency).exclude(
        pk__in=emergency.acks.filter(status="ok").values("device_id")
    )


def catch_up(device_ids) -> int:
    """Devices that just came back online get every active emergency of their area they have
    not acked (their broker session may have expired, or the broker lost it in a restart).
    Called by the gateway inside its transaction; returns the commands queued."""
    device_ids = set(device_ids)
    if not device_ids:
        return 0
    active = Emergency.objects.filter(
        status=EmergencyStatus.ACTIVE, expires_at__gt=timezone.now()
    ).exclude(command_id="")
    sent = 0
    for emergency in active:  # a handful at most at any time
        due = list(_unacked(emergency).filter(pk__in=device_ids).values_list("pk", flat=True))
        _send_to_devices(emergency, due)
        sent += len(due)
    return sent


@transaction.atomic
def resend(*, user, emergency_id: int) -> int:
    """Send the emergency again, to each device of the area that has not acked it, on its own
    topic (e.g. after a broker restart lost queued messages). The command keeps the original id,
    so a device that did take the first one does not play it twice, and its ack counts."""
    require(user, "broadcast.emergency")
    emergency = (
        Emergency.objects.restrict(user, "broadcast.emergency").filter(pk=emergency_id).first()
    )
    if emergency is None:
        raise Http404
    if emergency.status != EmergencyStatus.ACTIVE:
        raise Problem(409, "Chỉ gửi lại được khi bản tin khẩn cấp đang phát.")
    missing = list(_unacked(emergency).values_list("pk", flat=True))
    _send_to_devices(emergency, missing)
    audit.record(
        emergency,
        ChangeAction.UPDATE,
        user=user,
        comment=f"gửi lại cho {len(missing)} thiết bị chưa xác nhận",
    )
    return len(missing)


@transaction.atomic
def expire_due(now: datetime.datetime | None = None) -> int:
    """Emergencies past their deadline become `expired`; one that went on air gets a signed
    `stop` to its area, so it stops by itself at `expires_at` (a CAP alert at its `expires`,
    CAP 1.2 §3.2.2). Returns how many expired."""
    now = now or timezone.now()
    unconfirmed = Emergency.objects.filter(
        status=EmergencyStatus.AWAITING, confirm_by__lte=now
    ).update(status=EmergencyStatus.EXPIRED)
    due = list(
        Emergency.objects.select_for_update().filter(
            status__in=[EmergencyStatus.ACTIVE, EmergencyStatus.PREPARING], expires_at__lte=now
        )
    )
    for emergency in due:
        if emergency.status == EmergencyStatus.ACTIVE:
            codes = list(emergency.area.values_list("code", flat=True))
            protocol.send_to_units(codes, protocol.CommandType.STOP, {"emergency_id": emergency.pk})
        emergency.status = EmergencyStatus.EXPIRED
        emergency.save(update_fields=["status", "updated_at"])
    if due:
        from .cap.ingest import emergencies_ended

        emergencies_ended([e.pk for e in due], expired=True)
    return unconfirmed + len(due)


def start_system(
    *,
    units: list[Unit],
    title: str,
    text: str,
    repeat: int,
    expires_at: datetime.datetime,
    comment: str,
    replaces: Emergency | None = None,
    repeat_every_minutes: int = 0,
) -> Emergency:
    """Start an emergency no officer started: a trusted CAP sender's alert (the province's
    sender rule is the authority, so no two-person confirmation). Inside the caller's
    transaction; the text is read by TTS in the worker, then `play.now` goes out."""
    emergency = Emergency.objects.create(
        unit=_common_ancestor(units),
        title=title.strip()[:200] or "Cảnh báo",
        text=text.strip()[:5000],
        repeat=max(1, min(repeat, 10)),
        repeat_every_minutes=max(0, repeat_every_minutes),
        expires_at=expires_at,
        replaces=replaces,
    )
    emergency.area.set(units)
    emergency.expected_devices = area_devices(emergency).count()
    emergency.save(update_fields=["expected_devices"])
    audit.record(emergency, ChangeAction.CREATE, user=None, comment=comment[:500])
    _go_on_air(emergency)
    return emergency


def stop_system(*, emergency: Emergency, comment: str) -> bool:
    """Stop an emergency because its source said so (a CAP Cancel or Update, §3.2.1): a signed
    `stop` to its area when it went out. False when it had already ended."""
    emergency = Emergency.objects.select_for_update().get(pk=emergency.pk)
    if emergency.status not in (
        EmergencyStatus.ACTIVE,
        EmergencyStatus.PREPARING,
        EmergencyStatus.AWAITING,
    ):
        return False
    before = audit.snapshot(emergency)
    if emergency.status != EmergencyStatus.AWAITING:
        codes = list(emergency.area.values_list("code", flat=True))
        protocol.send_to_units(codes, protocol.CommandType.STOP, {"emergency_id": emergency.pk})
    emergency.status = EmergencyStatus.STOPPED
    emergency.stopped_at = timezone.now()
    emergency.save()
    audit.record(emergency, ChangeAction.UPDATE, user=None, before=before, comment=comment[:500])
    return True


def record_acks(acks: list[tuple[int, Any]], *, at: datetime.datetime) -> int:
    """Store device answers to emergency commands (matched by the command's seq or id).

    `acks` are (device id, `grassroots_protocol.Ack`). One row per device and emergency: the
    first answer is stored; a later `ok` replaces a refusal (a resend reached a device that had
    refused), a later refusal never replaces an `ok`. Returns the rows written or changed.
    """
    seqs = {a.cmd_seq for _, a in acks if a.cmd_seq is not None}
    ids = {a.cmd_id for _, a in acks if a.cmd_id}
    if not seqs and not ids:
        return 0
    found = Emergency.objects.filter(Q(command_seq__in=seqs) | Q(command_id__in=ids)).values_list(
        "pk", "command_seq", "command_id"
    )
    by_seq = {s: pk for pk, s, _ in found if s is not None}
    by_id = {i: pk for pk, _, i in found if i}
    answers: dict[tuple[int, int], tuple[str, str]] = {}
    for device_id, ack in acks:
        pk = by_id.get(ack.cmd_id or "") or by_seq.get(ack.cmd_seq)
        if not pk:
            continue
        answer = ("ok", "") if ack.status == "ok" else ("refused", (ack.reason or "")[:64])
        if answers.get((pk, device_id), ("",))[0] != "ok":
            answers[(pk, device_id)] = answer
    if not answers:
        return 0
    insert_rows(
        EmergencyAck,
        ["emergency", "device", "acked_at", "status", "reason"],
        [(pk, dev, at, status, reason) for (pk, dev), (status, reason) in answers.items()],
        conflict=["emergency", "device"],
    )
    # an ok that follows a refusal (a resend) replaces it
    oks = {key for key, (status, _) in answers.items() if status == "ok"}
    cured = [
        row_pk
        for row_pk, e, d in EmergencyAck.objects.filter(
            emergency_id__in={e for e, _ in oks},
            device_id__in={d for _, d in oks},
            status="refused",
        ).values_list("pk", "emergency_id", "device_id")
        if (e, d) in oks
    ]
    if cured:
        EmergencyAck.objects.filter(pk__in=cured).update(status="ok", reason="", acked_at=at)
    return len(answers)


def delivery(emergency: Emergency) -> dict[str, Any]:
    """What the console shows live, per commune: devices that took the emergency (`acked`, only
    `ok` answers count), devices that refused it (with the reason in Vietnamese), and devices
    that have not answered, split into offline and waiting."""
    from grassroots.devices import faults
    from grassroots.devices.models_fleet import DeviceStatus

    devices = list(
        area_devices(emergency)
        .select_related("unit")
        .values_list("pk", "name", "unit__code", "unit__name")
    )
    answers = {
        d: (status, reason)
        for d, status, reason in emergency.acks.values_list("device_id", "status", "reason")
    }
    online = set(
        DeviceStatus.objects.filter(device_id__in=[d[0] for d in devices], online=True).values_list(
            "device_id", flat=True
        )
    )
    per_unit: dict[str, dict] = {}
    for pk, name, code, unit_name in devices:
        row = per_unit.setdefault(
            code,
            {
                "unit_code": code,
                "unit_name": unit_name,
                "expected": 0,
                "acked": 0,
                "refused": [],
                "offline": [],
                "waiting": [],
            },
        )
        row["expected"] += 1
        status, reason = answers.get(pk, ("", ""))
        if status == "ok":
            row["acked"] += 1
        elif status == "refused":
            row["refused"].append(
                {"id": pk, "name": name, "reason": reason, "label": faults.label(reason)}
            )
        elif pk not in online:
            row["offline"].append({"id": pk, "name": name})
        else:
            row["waiting"].append({"id": pk, "name": name})
    units = sorted(per_unit.values(), key=lambda r: r["unit_name"])
    return {
        "expected": len(devices),
        "acked": sum(r["acked"] for r in units),
        "refused": sum(len(r["refused"]) for r in units),
        "units": units,
    }
