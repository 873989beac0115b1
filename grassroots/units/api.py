"""Units API: one unit with its counts, its children, search."""

from django.db.models import Count
from django.http import Http404
from ninja import Query, Router, Schema

from grassroots.accounts.policies import require

from .models import Unit
from .schemas import UnitListItem, UnitRead

router = Router(tags=["units"])


def _ref(u: Unit) -> dict:
    return {"code": u.code, "name": u.name, "kind": u.kind}


def get_unit(user, code: str, *, action: str = "units.view", history: bool = False) -> Unit:
    """The unit with this code in the user's scope (the unit in force unless `history`)."""
    require(user, action)
    qs = Unit.objects.restrict(user, action).filter(code=code)
    if not history:
        qs = qs.filter(valid_to__isnull=True)
    unit = qs.select_related("parent").order_by("-valid_to").first()
    if unit is None:
        unit = Unit.objects.restrict(user, action).filter(code=code).order_by("-valid_to").first()
    if unit is None:
        raise Http404
    return unit


def _item(u: Unit) -> dict:
    return {
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "kind_label": u.get_kind_display(),
        "latitude": u.latitude,
        "longitude": u.longitude,
        "valid_to": u.valid_to,
    }


class UnitFilter(Schema):
    q: str = ""
    kind: str | None = None
    include_history: bool = False
    limit: int = 200


@router.get("", response=list[UnitListItem], summary="Tìm đơn vị (không dấu cũng được)")
def search_units(request, filters: Query[UnitFilter]):
    require(request.user, "units.view")
    qs = Unit.objects.restrict(request.user, "units.view").search(filters.q)
    if not filters.include_history:
        qs = qs.filter(valid_to__isnull=True)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return [_item(u) for u in qs.order_by("depth", "name")[: max(1, min(filters.limit, 1000))]]


@router.get("/{code}", response=UnitRead, summary="Một đơn vị")
def unit_detail(request, code: str):
    unit = get_unit(request.user, code)
    kinds = dict(unit.children.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return {
        **_item(unit),
        "parent": _ref(unit.parent) if unit.parent else None,
        "depth": unit.depth,
        "valid_from": unit.valid_from,
        "area_km2": unit.area_km2,
        "children_count": sum(kinds.values()),
        "descendants_count": unit.descendants().count(),
        "children_by_kind": kinds,
        "predecessors": [
            _ref(c.predecessor) for c in unit.predecessions.select_related("predecessor")
        ],
        "successors": [_ref(c.successor) for c in unit.successions.select_related("successor")],
        "source": unit.source,
    }


@router.get("/{code}/children", response=list[UnitListItem], summary="Đơn vị trực thuộc")
def unit_children(request, code: str):
    unit = get_unit(request.user, code)
    return [_item(u) for u in unit.children.order_by("name")]
