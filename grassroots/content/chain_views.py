"""Console editor of approval chains: which steps a bulletin of a unit (and its subtree) goes
through, in order, and who may take each; create, edit, delete with the API's rules and audit
(`actions.set_chain`, `actions.delete_chain`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from grassroots.accounts.models import Role
from grassroots.accounts.policies import require
from grassroots.units.models import Unit

from . import actions
from .choices import ApprovalLevel
from .models import ApprovalChain

APPROVE = "content.approve"
BLANK_ROWS = 2  # empty rows offered below the steps, to add a step without a script
SHOWN_TAKERS = 5


def _units(user):
    return Unit.objects.restrict(user, APPROVE).current()


def _unit(user, code: str) -> Unit:
    unit = _units(user).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def _root(user) -> Unit:
    """The widest unit of the user's approval scope (to show who takes the default step)."""
    return _units(user).order_by("depth", "pk").first()


def _described(owner: Unit, specs) -> list[dict]:
    """Each step with its role's name, where it is taken and who could take it (for a bulletin
    of `owner`). A step whose only possible approvers all took an earlier step can never be
    taken (one person takes one step of a bulletin): it says so."""
    roles = {r.slug: r.name for r in Role.objects.all()}
    out = []
    earlier: set[int] = set()
    for i, spec in enumerate(specs, start=1):
        takers = actions.step_takers(owner, spec)
        names = list(takers.values())
        out.append(
            {
                "order": i,
                "name": gettext(spec.name) if spec.name else "",  # the default step is ours
                "role": roles.get(spec.role, spec.role),
                "level": ApprovalLevel(spec.level).label,
                "at": actions.step_unit(owner, spec.level),
                "takers": names[:SHOWN_TAKERS],
                "more": max(len(names) - SHOWN_TAKERS, 0),
                "stuck": bool(takers) and set(takers) <= earlier and len(takers) == 1,
            }
        )
        earlier |= set(takers) if len(takers) == 1 else set()
    return out


@login_required
def chain_list(request):
    """Chains configured on units in the user's approval scope, each step in order."""
    require(request.user, APPROVE)
    chains = (
        ApprovalChain.objects.restrict(request.user, APPROVE)
        .select_related("unit")
        .prefetch_related("steps")
        .order_by("unit__depth", "unit__name")
    )
    rows = [
        {
            "chain": c,
            "steps": _described(
                c.unit, [actions.StepSpec(s.role, s.level, s.name) for s in c.steps.all()]
            ),
        }
        for c in chains
    ]
    return render(
        request,
        "content/chains.html",
        {
            "rows": rows,
            "default": _described(_root(request.user), actions.DEFAULT_STEPS),
        },
    )


@login_required
def chain_open(request):
    """The picker's choice (`?don-vi=CODE`) opens that unit's chain."""
    require(request.user, APPROVE)
    code = (request.GET.get("don-vi") or "").strip()
    if not code:
        messages.error(request, "Hãy chọn đơn vị cần cấu hình quy trình duyệt.")
        return redirect("approval-chains")
    return redirect("approval-chain", unit_code=_unit(request.user, code).code)


def _posted_steps(post) -> list[dict]:
    """The step rows of the form, in the order their "Thứ tự" numbers give. A step whose role
    is set to none is dropped; a new row with a name but no role is kept (and refused)."""
    rows = []
    for i in range(actions.MAX_STEPS + BLANK_ROWS):
        role = (post.get(f"role-{i}") or "").strip()
        name = (post.get(f"name-{i}") or "").strip()
        if not role and (not name or post.get(f"existing-{i}")):
            continue  # "— bỏ bước này —" on a step, or an untouched empty row
        raw = (post.get(f"order-{i}") or "").strip()
        order = int(raw) if raw.isdigit() else 1000 + i
        rows.append((order, i, {"role": role, "level": post.get(f"level-{i}") or "", "name": name}))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows]


@login_required
def chain_edit(request, unit_code: str):
    """One unit's chain: the steps (role, where, name) in order, who may take each; save or
    delete. A unit without its own chain starts from the one it inherits."""
    require(request.user, APPROVE)
    unit = _unit(request.user, unit_code)
    own = ApprovalChain.objects.filter(unit=unit).prefetch_related("steps").first()
    if own is not None and not own.steps.exists():
        own = None  # a name without steps (the API's "default") is no chain of its own
    inherited = actions.chain_for(unit.parent) if unit.parent_id else None
    name = own.name if own else ""
    steps = [{"role": s.role, "level": s.level, "name": s.name} for s in actions.chain_steps(unit)]
    errors: dict[int, dict[str, str]] = {}
    top_error = ""
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        steps = _posted_steps(request.POST)
        errors = actions.step_errors(steps)
        if not steps:
            top_error = (
                "Hãy đặt ít nhất một bước duyệt (để dùng quy trình của cấp trên, hãy xoá "
                "quy trình này)."
            )
        elif len(steps) > actions.MAX_STEPS:
            top_error = f"Quy trình có tối đa {actions.MAX_STEPS} bước."
        elif len(name) > 200:
            top_error = "Tên quy trình dài quá 200 ký tự."
        elif not errors:
            try:
                actions.set_chain(user=request.user, unit=unit, steps=steps, name=name)
            except ValidationError as exc:
                top_error = " ".join(exc.messages)
            else:
                messages.success(
                    request, f"Đã lưu quy trình duyệt của {unit.name} ({len(steps)} bước)."
                )
                return redirect("approval-chain", unit_code=unit.code)
    specs = actions.chain_steps(unit)
    rows = [
        {"index": i, "order": i + 1, "errors": errors.get(i, {}), **s} for i, s in enumerate(steps)
    ]
    start = len(rows)
    rows += [
        {"index": start + j, "order": "", "errors": {}, "role": "", "level": "owner", "name": ""}
        for j in range(BLANK_ROWS)
    ]
    return render(
        request,
        "content/chain_form.html",
        {
            "unit": unit,
            "own": own,
            "inherited": inherited,
            "name": name,
            "rows": rows,
            "roles": Role.objects.order_by("name"),
            "approving_roles": {
                r.slug for r in Role.objects.all() if APPROVE in (r.permissions or [])
            },
            "levels": ApprovalLevel.choices,
            "current": _described(unit, specs),
            "top_error": top_error,
            "has_errors": bool(errors or top_error),
        },
    )


@login_required
@require_POST
def chain_delete(request, unit_code: str):
    require(request.user, APPROVE)
    unit = _unit(request.user, unit_code)
    chain = ApprovalChain.objects.filter(unit=unit).first()
    if chain is None:
        raise Http404
    actions.delete_chain(user=request.user, chain=chain)
    after = actions.chain_for(unit)
    where = f"quy trình của {after.unit.name}" if after else "quy trình mặc định (một bước duyệt)"
    messages.success(
        request, f"Đã xoá quy trình duyệt của {unit.name}; bản tin của đơn vị theo {where}."
    )
    return redirect("approval-chains")
