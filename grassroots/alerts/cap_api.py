"""CAP 1.2 API: `POST /api/v1/alerts/cap` (an XML body), the received alerts, and each
emergency of the province as CAP (`GET /api/v1/alerts/{id}.cap`, public like the Atom feed)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from ninja import Router, Schema
from ninja.responses import Status

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem

from .cap import export
from .cap.ingest import receive
from .cap.parse import CapError
from .models import CapAlert, Emergency, EmergencyStatus

router = Router(tags=["alerts"])
PREFIX = "/alerts"
CAP_TYPE = "application/cap+xml; charset=utf-8"
PUBLISHED = (EmergencyStatus.ACTIVE, EmergencyStatus.STOPPED, EmergencyStatus.EXPIRED)


class CapAlertRead(Schema):
    id: int
    sender: str
    identifier: str
    sent: datetime
    msg_type: str
    state: str
    reason: str
    headline: str
    severity: str
    urgency: str
    certainty: str
    expires: datetime | None
    units: list[str]
    emergency_id: int | None
    bulletin_id: int | None


def _read(a: CapAlert) -> dict:
    return {
        "id": a.pk,
        "sender": a.sender,
        "identifier": a.identifier,
        "sent": a.sent,
        "msg_type": a.msg_type,
        "state": a.state,
        "reason": a.reason,
        "headline": a.headline,
        "severity": a.severity,
        "urgency": a.urgency,
        "certainty": a.certainty,
        "expires": a.expires,
        "units": list(a.units.values_list("code", flat=True)),
        "emergency_id": a.emergency_id,
        "bulletin_id": a.bulletin_id,
    }


@router.post(
    "/cap",
    response={200: CapAlertRead, 201: CapAlertRead},
    summary="Nhận một bản tin cảnh báo CAP 1.2 (XML)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/cap+xml": {"schema": {"type": "string"}}},
        }
    },
)
def ingest(request):
    """201 with what the alert became (on air, waiting for approval, archived, refused, and
    why); 200 when the same (sender, identifier, sent) was received before. Malformed, hostile
    or invalid XML: 400/413/422 problem+json in Vietnamese, nothing recorded."""
    require(request.user, "broadcast.emergency")
    try:
        alert, created = receive(request.body, user=request.user)
    except CapError as exc:
        raise Problem(exc.status, exc.detail, title="Bản tin CAP bị từ chối") from None
    return Status(201 if created else 200, _read(alert))


@router.get("", response=list[CapAlertRead], summary="Các cảnh báo CAP đã nhận")
def list_(request):
    require(request.user, "broadcast.view")
    return [_read(a) for a in CapAlert.objects.restrict(request.user, "broadcast.view")[:100]]


@router.get("/{emergency_id}.cap", auth=None, summary="Một lần phát khẩn cấp dưới dạng CAP 1.2")
def as_cap(request, emergency_id: int):
    e = Emergency.objects.filter(pk=emergency_id, status__in=PUBLISHED).first()
    if e is None:
        raise Problem(404, "Không có cảnh báo công khai với mã này.")
    return HttpResponse(export.message(e), content_type=CAP_TYPE)
