"""Emergency API: start, follow delivery live, stop."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.responses import Status

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem

from . import actions
from .models import Emergency

router = Router(tags=["emergencies"])
PREFIX = "/emergencies"


class EmergencyCreate(Schema):
    units: list[str] = Field(..., min_length=1, max_length=200)
    title: str = Field(..., min_length=1, max_length=200)
    text: str = Field("", max_length=5000)
    bulletin_id: int | None = None
    repeat: int = Field(1, ge=1, le=10)
    expires_in_minutes: int = Field(30, ge=1, le=actions.MAX_MINUTES)


class UnitDelivery(Schema):
    unit_code: str
    unit_name: str
    expected: int
    acked: int
    refused: list[dict]
    offline: list[dict]
    waiting: list[dict]


class EmergencyRead(Schema):
    id: int
    title: str
    text: str
    status: str
    units: list[str]
    repeat: int
    expires_at: datetime
    sent_at: datetime | None
    command_seq: int | None
    expected: int
    acked: int
    refused: int
    delivery: list[UnitDelivery]
    error: str


def _read(e: Emergency) -> dict:
    d = actions.delivery(e)
    return {
        "id": e.pk,
        "title": e.title,
        "text": e.text,
        "status": e.status,
        "units": list(e.area.values_list("code", flat=True)),
        "repeat": e.repeat,
        "expires_at": e.expires_at,
        "sent_at": e.sent_at,
        "command_seq": e.command_seq,
        "expected": d["expected"],
        "acked": d["acked"],
        "refused": d["refused"],
        "delivery": d["units"],
        "error": e.error,
    }


@router.post("", response={201: EmergencyRead}, summary="Phát khẩn cấp")
def create(request, data: EmergencyCreate):
    e = actions.start(
        user=request.user,
        unit_codes=data.units,
        title=data.title,
        text=data.text,
        bulletin_id=data.bulletin_id,
        repeat=data.repeat,
        expires_in_minutes=data.expires_in_minutes,
    )
    return Status(201, _read(e))


@router.get("", response=list[EmergencyRead], summary="Các lần phát khẩn cấp")
def list_(request):
    require(request.user, "broadcast.view")
    return [_read(e) for e in Emergency.objects.restrict(request.user, "broadcast.view")[:50]]


@router.get("/{emergency_id}", response=EmergencyRead, summary="Tình trạng phát khẩn cấp")
def detail(request, emergency_id: int):
    require(request.user, "broadcast.view")
    e = Emergency.objects.restrict(request.user, "broadcast.view").filter(pk=emergency_id).first()
    if e is None:
        raise Problem(404, "Không tìm thấy lần phát khẩn cấp này trong phạm vi của bạn.")
    return _read(e)


@router.post("/{emergency_id}/stop", response=EmergencyRead, summary="Dừng phát khẩn cấp")
def stop(request, emergency_id: int):
    return _read(actions.stop(user=request.user, emergency_id=emergency_id))


@router.post(
    "/{emergency_id}/confirm",
    response=EmergencyRead,
    summary="Người thứ hai xác nhận phát khẩn cấp (quy tắc hai người)",
)
def confirm(request, emergency_id: int):
    return _read(actions.confirm(user=request.user, emergency_id=emergency_id))


class Resent(Schema):
    sent: int


@router.post(
    "/{emergency_id}/resend",
    response=Resent,
    summary="Gửi lại cho các thiết bị chưa xác nhận",
)
def resend(request, emergency_id: int):
    return {"sent": actions.resend(user=request.user, emergency_id=emergency_id)}
