"""Core API: the audit trail."""

from datetime import datetime

from ninja import Query, Router, Schema

from grassroots.accounts.policies import require

from .models import ObjectChange

router = Router(tags=["audit"])


class ChangeRead(Schema):
    id: int
    time: datetime
    user_name: str
    request_id: str
    action: str
    model: str
    object_id: str
    object_repr: str
    unit_code: str | None
    before: dict | None
    after: dict | None


class ChangeFilter(Schema):
    unit: str | None = None
    model: str | None = None
    object_id: str | None = None
    limit: int = 100


@router.get("/audit", response=list[ChangeRead], summary="Nhật ký thay đổi")
def list_changes(request, filters: Query[ChangeFilter]):
    require(request.user, "core.audit")
    qs = ObjectChange.objects.restrict(request.user, "core.audit").select_related(
        "content_type", "unit"
    )
    if filters.unit:
        qs = qs.filter(unit__code=filters.unit)
    if filters.model:
        qs = qs.filter(content_type__model=filters.model.lower())
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    return [
        {
            "id": c.id,
            "time": c.time,
            "user_name": c.user_name,
            "request_id": c.request_id,
            "action": c.action,
            "model": f"{c.content_type.app_label}.{c.content_type.model}",
            "object_id": c.object_id,
            "object_repr": c.object_repr,
            "unit_code": c.unit.code if c.unit else None,
            "before": c.before,
            "after": c.after,
        }
        for c in qs[: max(1, min(filters.limit, 1000))]
    ]
