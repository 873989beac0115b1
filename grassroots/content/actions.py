"""Mutations of bulletins: each checks permission and state, writes, records and audits.

Views, API routes and tasks call these; they never commit on their own (callers' transaction).
"""

from __future__ import annotations

import datetime
import hashlib
import html
import importlib
import importlib.util
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from grassroots.accounts.models import RoleAssignment
from grassroots.accounts.policies import require, require_on
from grassroots.accounts.scope import covers
from grassroots.core import audit, signing
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit
from grassroots.units.text import fold

from .choices import ApprovalLevel, BulletinKind, MediaStatus, Priority, Source, Status
from .models import (
    ApprovalChain,
    ApprovalStep,
    Bulletin,
    BulletinRevision,
    BulletinShare,
    Category,
    MediaAsset,
    Transition,
)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
MAX_BODY = 50_000
MAX_TTS_TEXT = 5_000  # one preview part; a long bulletin is previewed part by part
DEFAULT_UPLOAD_MAX_BYTES = 1024 * 1024 * 1024
EDITABLE_FIELDS = (
    "title", "body", "kind", "category", "priority", "source", "source_name", "targets",
    "go_live_at", "expire_at",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


# Elements whose start or end tag is markup to the sanitiser (it keeps the allowed ones, drops
# the others and, for script/style, their content too). Any other "<" is a character the
# officer typed ("<bản gốc>", "a < b", "<3") and is escaped before sanitising so it survives.
_DROPPED_TAGS = {
    "script", "style", "iframe", "object", "embed", "applet", "frame", "frameset", "noscript",
    "template", "svg", "math", "img", "video", "audio", "source", "picture", "canvas", "link",
    "meta", "base", "title", "html", "head", "body", "form", "input", "button", "select",
    "option", "textarea", "label", "div", "span", "font", "center", "small", "big", "sup", "sub",
    "s", "strike", "del", "ins", "mark", "code", "pre", "kbd", "samp", "tt", "abbr", "cite", "q",
    "h1", "h5", "h6", "hr", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td",
    "th", "caption", "col", "colgroup", "section", "article", "header", "footer", "nav", "aside",
    "main", "figure", "figcaption", "address", "xml", "o:p",
}  # fmt: skip
MARKUP_TAGS = frozenset(ALLOWED_TAGS | _DROPPED_TAGS)
_TAG_NAMES = "|".join(re.escape(t) for t in sorted(MARKUP_TAGS))
_MARKUP_START = re.compile(rf"<(?!!--|/?\s*(?:{_TAG_NAMES})(?=[\s/>]))", re.IGNORECASE)


def escape_text_angles(body: str) -> str:
    """Every "<" that does not begin an HTML tag (an allowed one, or one the sanitiser drops
    such as <script>) or a comment, written as "&lt;": "<bản gốc>" -> "&lt;bản gốc>"."""
    return _MARKUP_START.sub("&lt;", body or "")


def sanitize(body: str) -> str:
    """Rich text reduced to a safe subset of HTML (nh3); plain text passes through escaped.

    A "<" that does not begin a tag is text and kept as "&lt;" (escape_text_angles): the
    sanitiser would otherwise read "<bản gốc>" as an unknown element and drop it."""
    return nh3.clean(
        escape_text_angles(body),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def plain_text(body: str) -> str:
    """The words of a (sanitised) body without markup: what TTS reads and search indexes."""
    spaced = re.sub(r"(?i)<\s*(br|/p|/li|/h[2-4]|/blockquote)\s*/?>", "\n", body or "")
    text = html.unescape(nh3.clean(spaced, tags=set()))
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n", text)).strip()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _check(user, permission: str, bulletin: Bulletin) -> None:
    """403 without the permission anywhere, 404 when not visible, 403 when not on its unit."""
    require(user, permission)
    if not Bulletin.objects.visible_to(user).filter(pk=bulletin.pk).exists():
        raise Http404
    require_on(user, permission, bulletin.unit)


def _conflict(bulletin: Bulletin, doing: str, allowed: str) -> Problem:
    return Problem(
        409,
        f"Bản tin đang ở trạng thái '{bulletin.get_status_display()}', không thể {doing}. "
        f"{allowed}",
        title="Không thể chuyển trạng thái",
    )


def _lock(bulletin: Bulletin) -> Bulletin:
    return (
        # `of=self`: PostgreSQL refuses FOR UPDATE on the nullable side of the category join.
        Bulletin.objects.select_for_update(of=("self",))
        .select_related("unit", "category")
        .get(pk=bulletin.pk)
    )


def _user_name(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return user.get_username()


def _transition(
    bulletin: Bulletin,
    to: Status,
    *,
    user,
    comment: str = "",
    step: int | None = None,
    fields: tuple[str, ...] = (),
) -> Transition:
    """Move to `to`, record who/when/why as a Transition and an audit row."""
    before = audit.snapshot(bulletin)
    frm = bulletin.status
    bulletin.status = to
    bulletin.save(update_fields=["status", "updated_at", *fields])
    row = Transition.objects.create(
        bulletin=bulletin,
        revision=bulletin.current_revision,
        from_status=frm,
        to_status=to,
        step=step,
        user=user if getattr(user, "is_authenticated", False) else None,
        user_name=_user_name(user),
        comment=comment[:2000],
    )
    note = f"{frm} → {to}" + (f": {comment}" if comment else "")
    audit.record(
        bulletin, ChangeAction.UPDATE, user=user if user is not None else None, before=before,
        comment=note,
    )  # fmt: skip
    return row


def snapshot(bulletin: Bulletin) -> dict[str, Any]:
    """The content of a bulletin as one JSON document: what a revision stores and hashes."""

    def iso(value: datetime.datetime | None) -> str | None:
        return value.isoformat() if value else None

    media = [
        {"sha256": m.content_sha256, "kind": m.kind, "mime": m.mime}
        for m in bulletin.media.filter(status=MediaStatus.READY, synthesized=False)
        .select_related("duplicate_of")
        .order_by("id")
    ]
    return {
        "title": bulletin.title,
        "body": bulletin.body,
        "kind": bulletin.kind,
        "category": bulletin.category.slug if bulletin.category_id else None,
        "priority": bulletin.priority,
        "source": bulletin.source,
        "source_name": bulletin.source_name,
        "unit": bulletin.unit.code,
        "targets": sorted(bulletin.targets.values_list("code", flat=True)),
        "go_live_at": iso(bulletin.go_live_at),
        "expire_at": iso(bulletin.expire_at),
        "media": media,
    }


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (the same canonical form signatures use)."""
    return hashlib.sha256(signing.canonical(data)).hexdigest()


def _revise(bulletin: Bulletin, user) -> BulletinRevision | None:
    """Save a new revision when the content changed; None when it is the same as the current."""
    data = snapshot(bulletin)
    digest = content_hash(data)
    current = bulletin.current_revision
    if current is not None and current.content_hash == digest:
        return None
    last = bulletin.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    revision = BulletinRevision.objects.create(
        bulletin=bulletin,
        number=last + 1,
        data=data,
        content_hash=digest,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    bulletin.current_revision = revision
    bulletin.save(update_fields=["current_revision", "updated_at"])
    return revision


def _target_units(owner: Unit, codes: list[str] | None) -> list[Unit]:
    """Target units by code; each must be the owning unit or lie under it."""
    if not codes:
        return [owner]
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    found = {
        u.code: u
        for u in Unit.objects.current().filter(code__in=codes, path__startswith=owner.path)
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            {
                "targets": f"Đơn vị nhận không hợp lệ hoặc không thuộc {owner.name}: "
                f"{', '.join(missing[:10])}. Chỉ chia sẻ được xuống các đơn vị trực thuộc."
            }
        )
    return [found[c] for c in codes]


def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    category = Category.objects.filter(slug=slug, active=True).first()
    if category is None:
        raise ValidationError({"category": f"Chuyên mục '{slug}' không tồn tại."})
    return category


def _apply(bulletin: Bulletin, data: dict[str, Any]) -> list[Unit] | None:
    """Validate and copy editable fields onto the bulletin; returns new targets if given."""
    errors: dict[str, str] = {}
    if "title" in data:
        title = (data["title"] or "").strip()
        if not title:
            errors["title"] = "Hãy nhập tiêu đề bản tin."
        elif len(title) > 300:
            errors["title"] = "Tiêu đề dài quá 300 ký tự."
        bulletin.title = title
    if "body" in data:
        if len(data["body"] or "") > MAX_BODY:
            errors["body"] = f"Nội dung dài quá {MAX_BODY} ký tự."
        bulletin.body = sanitize(data["body"] or "")
        bulletin.body_text = plain_text(bulletin.body)
    for name, choices in (("kind", BulletinKind), ("priority", Priority), ("source", Source)):
        if name in data and data[name] is not None:
            if data[name] not in choices.values:
                allowed = ", ".join(choices.values)
                errors[name] = f"Giá trị '{data[name]}' không hợp lệ; chọn một trong: {allowed}."
            else:
                setattr(bulletin, name, data[name])
    if "source_name" in data:
        bulletin.source_name = (data["source_name"] or "").strip()[:200]
    if "category" in data:
        try:
            bulletin.category = _category(data["category"])
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    for name in ("go_live_at", "expire_at"):
        if name in data:
            setattr(bulletin, name, data[name])
    if bulletin.go_live_at and bulletin.expire_at and bulletin.expire_at <= bulletin.go_live_at:
        errors["expire_at"] = "Thời điểm hết hiệu lực phải sau thời điểm bắt đầu hiệu lực."
    targets = None
    if "targets" in data and data["targets"] is not None:
        try:
            targets = _target_units(bulletin.unit, data["targets"])
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    bulletin.search_text = fold(f"{bulletin.title} {bulletin.body_text}")
    return targets


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def create(*, user, unit: Unit, data: dict[str, Any]) -> Bulletin:
    """Write a new draft bulletin for `unit` (revision 1)."""
    require(user, "content.add")
    if not Unit.objects.restrict(user, "content.add").filter(pk=unit.pk).exists():
        raise Http404
    bulletin = Bulletin(unit=unit, created_by=user)
    if not (data.get("title") or "").strip():
        raise ValidationError({"title": "Hãy nhập tiêu đề bản tin."})
    targets = _apply(bulletin, data)
    bulletin.save()
    bulletin.targets.set(targets or [unit])
    _revise(bulletin, user)
    audit.record(bulletin, ChangeAction.CREATE, user=user)
    Transition.objects.create(
        bulletin=bulletin,
        revision=bulletin.current_revision,
        from_status="",
        to_status=Status.DRAFT,
        user=user,
        user_name=_user_name(user),
    )
    if not Bulletin.objects.restrict(user, "content.add").filter(pk=bulletin.pk).exists():
        raise PermissionDenied("Bản tin nằm ngoài phạm vi đơn vị của bạn.")
    return bulletin


@transaction.atomic
def update(*, bulletin: Bulletin, user, data: dict[str, Any], comment: str = "") -> Bulletin:
    """Edit a bulletin: a new revision; an edit after approval needs approval again."""
    _check(user, "content.change", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status not in Status.editable():
        raise _conflict(bulletin, "sửa", "Hãy thu hồi bản tin trước khi sửa, rồi gửi duyệt lại.")
    before = audit.snapshot(bulletin)
    data = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    targets = _apply(bulletin, data)
    bulletin.save()
    if targets is not None:
        bulletin.targets.set(targets)
    revision = _revise(bulletin, user)
    if revision is None:
        return bulletin
    audit.record(bulletin, ChangeAction.UPDATE, user=user, before=before, comment=comment)
    if bulletin.status in (Status.APPROVED, Status.WITHDRAWN):
        _transition(
            bulletin, Status.DRAFT, user=user,
            comment=comment or "Sửa sau khi duyệt: cần gửi duyệt lại.",
        )  # fmt: skip
    elif bulletin.status == Status.SUBMITTED and bulletin.approval_step:
        bulletin.approval_step = 0
        _transition(
            bulletin, Status.SUBMITTED, user=user, step=0, fields=("approval_step",),
            comment=comment or "Sửa khi đang chờ duyệt: duyệt lại từ bước đầu.",
        )  # fmt: skip
    return bulletin


# ---------------------------------------------------------------------------------------------
# Approval chains
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    """One approval step as it applies: which role, at which level."""

    role: str
    level: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or f"{self.role} ({ApprovalLevel(self.level).label})"


DEFAULT_STEPS = (StepSpec(role="approver", level=ApprovalLevel.OWNER, name="Duyệt bản tin"),)


def chain_for(unit: Unit) -> ApprovalChain | None:
    """The nearest chain with steps configured on the unit or an ancestor."""
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    has_steps = Exists(ApprovalStep.objects.filter(chain=OuterRef("pk")))
    return (
        ApprovalChain.objects.filter(has_steps, unit_id__in=ids)
        .select_related("unit")
        .order_by("-unit__depth")
        .first()
    )


def chain_steps(unit: Unit) -> list[StepSpec]:
    """Steps of the nearest chain configured on the unit or an ancestor; else one `approver`."""
    chain = chain_for(unit)
    if chain is None:
        return list(DEFAULT_STEPS)
    return [StepSpec(s.role, s.level, s.name) for s in chain.steps.order_by("order")]


def step_unit(owner: Unit, level: str) -> Unit:
    """The unit at which a step is taken."""
    if level == ApprovalLevel.PARENT and owner.parent_id:
        return owner.parent
    if level == ApprovalLevel.ROOT:
        return owner.ancestors(include_self=True).first() or owner
    return owner


def can_take_step(user, bulletin: Bulletin, spec: StepSpec) -> bool:
    """Whether the user holds the step's role, with content.approve, covering the step's unit."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    unit = step_unit(bulletin.unit, spec.level)
    if not covers(user, "content.approve", unit):
        return False
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    return RoleAssignment.objects.filter(user=user, role__slug=spec.role, unit_id__in=ids).exists()


def current_step(bulletin: Bulletin) -> tuple[int, list[StepSpec]]:
    steps = chain_steps(bulletin.unit)
    return min(bulletin.approval_step, len(steps) - 1), steps


MAX_STEPS = 10


def step_errors(steps: list[dict[str, str]]) -> dict[int, dict[str, str]]:
    """Problems of each step, {index from 0: {field: message in Vietnamese}}; empty when the
    steps can be saved. A step needs a known role that grants `content.approve` (else nobody
    could ever take it), a known level, and a name of at most 200 characters."""
    from grassroots.accounts.models import Role

    roles = {r.slug: r for r in Role.objects.all()}
    out: dict[int, dict[str, str]] = {}
    for i, step in enumerate(steps):
        problems = {}
        role = roles.get(step.get("role") or "")
        if not step.get("role"):
            problems["role"] = f"Bước {i + 1}: hãy chọn vai trò duyệt."
        elif role is None:
            problems["role"] = f"Bước {i + 1}: vai trò '{step['role']}' không tồn tại."
        elif "content.approve" not in (role.permissions or []):
            problems["role"] = (
                f"Bước {i + 1}: vai trò «{role.name}» không có quyền Duyệt bản tin, nên không ai "
                "duyệt được bước này; hãy chọn vai trò khác."
            )
        if step.get("level", ApprovalLevel.OWNER) not in ApprovalLevel.values:
            problems["level"] = f"Bước {i + 1}: cấp duyệt không hợp lệ."
        if len(step.get("name") or "") > 200:
            problems["name"] = f"Bước {i + 1}: tên bước dài quá 200 ký tự."
        if problems:
            out[i] = problems
    return out


def _chain_unit(user, unit: Unit) -> None:
    require(user, "content.approve")
    if not Unit.objects.restrict(user, "content.approve").filter(pk=unit.pk).exists():
        raise Http404


@transaction.atomic
def set_chain(*, user, unit: Unit, steps: list[dict[str, str]], name: str = "") -> ApprovalChain:
    """Configure the approval chain of a unit (replaces its steps); empty steps = default.

    Needs content.approve covering the unit (403 without it anywhere, 404 outside scope);
    ValidationError {"steps": "Bước i: …"} from `step_errors`, or past 10 steps."""
    _chain_unit(user, unit)
    steps = [{k: clean_text(str(v)).strip() for k, v in s.items() if v is not None} for s in steps]
    name = clean_text(name or "").strip()
    if len(steps) > MAX_STEPS:
        raise ValidationError({"steps": f"Quy trình có tối đa {MAX_STEPS} bước."})
    errors = step_errors(steps)
    if errors:
        first = errors[min(errors)]
        raise ValidationError({"steps": next(iter(first.values()))})
    chain, created = ApprovalChain.objects.get_or_create(unit=unit, defaults={"name": name})
    before = None if created else audit.snapshot(chain)
    chain.name = name or chain.name
    chain.save()
    chain.steps.all().delete()
    for i, step in enumerate(steps, start=1):
        ApprovalStep.objects.create(
            chain=chain,
            order=i,
            role=step["role"],
            level=step.get("level", ApprovalLevel.OWNER),
            name=step.get("name", ""),
        )
    audit.record(
        chain, ChangeAction.CREATE if created else ChangeAction.UPDATE, user=user, before=before,
        comment=" → ".join(f"{s['role']}@{s.get('level', 'owner')}" for s in steps),
    )  # fmt: skip
    return chain


@transaction.atomic
def delete_chain(*, user, chain: ApprovalChain) -> None:
    """Remove a unit's own chain: its bulletins follow the nearest ancestor's chain again (or
    the default single step). Bulletins already waiting keep their step number, capped to the
    new chain's length by `current_step`. Same right as `set_chain`; one audit row."""
    _chain_unit(user, chain.unit)
    steps = " → ".join(f"{s.role}@{s.level}" for s in chain.steps.order_by("order"))
    audit.record(chain, ChangeAction.DELETE, user=user, before=audit.snapshot(chain),
                 comment=steps)  # fmt: skip
    chain.delete()


def step_takers(owner: Unit, spec: StepSpec) -> dict[int, str]:
    """Who could take this step for a bulletin of `owner`: active users holding the step's role
    on the step's unit or an ancestor, where the role grants content.approve; {user id: name}
    ordered by username (the same test as `can_take_step`)."""
    unit = step_unit(owner, spec.level)
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    rows = (
        RoleAssignment.objects.filter(role__slug=spec.role, unit_id__in=ids, user__is_active=True)
        .select_related("user", "role")
        .order_by("user__username")
    )
    return {
        a.user_id: a.user.full_name or a.user.username
        for a in rows
        if "content.approve" in (a.role.permissions or [])
    }


# ---------------------------------------------------------------------------------------------
# Workflow
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def submit(*, bulletin: Bulletin, user, comment: str = "") -> Bulletin:
    """Send a draft (or a bulletin sent back for changes) to the approval chain."""
    _check(user, "content.submit", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status not in (Status.DRAFT, Status.CHANGES_REQUESTED, Status.WITHDRAWN):
        raise _conflict(bulletin, "gửi duyệt", "Chỉ gửi duyệt được bản nháp hoặc bản cần sửa.")
    if bulletin.media.filter(status=MediaStatus.PENDING, synthesized=False).exists():
        raise Problem(
            409,
            "Còn tệp đính kèm đang xử lý; hãy đợi xử lý xong rồi gửi duyệt.",
            title="Tệp đang xử lý",
        )
    _revise(bulletin, user)
    bulletin.approval_step = 0
    _transition(
        bulletin, Status.SUBMITTED, user=user, comment=comment, step=0, fields=("approval_step",)
    )
    return bulletin


def _approvers_this_round(bulletin: Bulletin) -> set[int]:
    """Users who already approved a step since the bulletin was last submitted."""
    submits = bulletin.transitions.filter(to_status=Status.SUBMITTED, step=0)
    last_submit = submits.order_by("-at", "-id").first()
    qs = bulletin.transitions.filter(to_status=Status.SUBMITTED, step__gt=0)
    if last_submit is not None:
        qs = qs.filter(id__gt=last_submit.id)
    return set(qs.exclude(user=None).values_list("user_id", flat=True))


def _check_step(user, bulletin: Bulletin) -> tuple[int, list[StepSpec]]:
    index, steps = current_step(bulletin)
    spec = steps[index]
    if not can_take_step(user, bulletin, spec):
        unit = step_unit(bulletin.unit, spec.level)
        raise PermissionDenied(
            f"Bước duyệt {index + 1}/{len(steps)} ({spec.label}) cần người giữ vai trò "
            f"'{spec.role}' tại {unit.name}."
        )
    if index and user.pk in _approvers_this_round(bulletin):
        raise PermissionDenied(
            "Bạn đã duyệt một bước trước của bản tin này; bước này cần người khác duyệt."
        )
    return index, steps


def sign_revision(revision: BulletinRevision) -> BulletinRevision:
    """Sign the revision's content hash with the server's Ed25519 key (kid recorded)."""
    envelope = signing.sign(revision.signed_payload())
    revision.signature = envelope["sig"]
    revision.kid = envelope["kid"]
    revision.signed_at = timezone.now()
    revision.save(update_fields=["signature", "kid", "signed_at"])
    return revision


@transaction.atomic
def approve(*, bulletin: Bulletin, user, comment: str = "") -> Bulletin:
    """Approve the current step; the last step pins and signs the current revision."""
    _check(user, "content.approve", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status != Status.SUBMITTED:
        raise _conflict(bulletin, "duyệt", "Chỉ duyệt được bản tin đang chờ duyệt.")
    index, steps = _check_step(user, bulletin)
    if index + 1 < len(steps):
        bulletin.approval_step = index + 1
        _transition(
            bulletin, Status.SUBMITTED, user=user, step=index + 1, fields=("approval_step",),
            comment=comment or f"Đã duyệt bước {index + 1}/{len(steps)}: {steps[index].label}.",
        )  # fmt: skip
        return bulletin
    revision = sign_revision(bulletin.current_revision)
    bulletin.approved_revision = revision
    bulletin.approval_step = len(steps)
    _transition(
        bulletin, Status.APPROVED, user=user, comment=comment, step=len(steps),
        fields=("approved_revision", "approval_step"),
    )  # fmt: skip
    if bulletin.kind == BulletinKind.TEXT and tts_module() is not None:
        from .tasks import voice_revision

        voice_revision.enqueue(revision.pk)
    return bulletin


@transaction.atomic
def request_changes(*, bulletin: Bulletin, user, comment: str) -> Bulletin:
    """Send the bulletin back to its author with what to change."""
    _check(user, "content.approve", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status != Status.SUBMITTED:
        raise _conflict(bulletin, "yêu cầu sửa", "Chỉ trả lại được bản tin đang chờ duyệt.")
    if not (comment or "").strip():
        raise ValidationError({"comment": "Hãy ghi rõ cần sửa gì để người soạn biết."})
    index, _steps = _check_step(user, bulletin)
    bulletin.approval_step = 0
    _transition(
        bulletin, Status.CHANGES_REQUESTED, user=user, comment=comment.strip(), step=index + 1,
        fields=("approval_step",),
    )  # fmt: skip
    return bulletin


def commune_units(targets) -> list[Unit]:
    """Commune-level units in force under (or equal to) each target unit."""
    q = None
    for target in targets:
        part = Q(path__startswith=target.path)
        q = part if q is None else q | part
    if q is None:
        return []
    return list(
        Unit.objects.current().filter(q, kind__in=UnitKind.commune_level()).order_by("path")
    )


def publish_recipients(bulletin: Bulletin) -> list[Unit]:
    """The communes whose inbox publishing puts the bulletin in (its targets, the owner
    excluded): what the publish confirmation names."""
    return [u for u in commune_units(bulletin.targets.all()) if u.pk != bulletin.unit_id]


def _share_down(bulletin: Bulletin) -> int:
    """Put the published bulletin in each target commune's inbox (the owner excluded)."""
    units = publish_recipients(bulletin)
    must_air = Priority.must_air(bulletin.priority)
    revision = bulletin.approved_revision
    existing = set(
        BulletinShare.objects.filter(bulletin=bulletin, unit__in=units).values_list(
            "unit_id", flat=True
        )
    )
    BulletinShare.objects.filter(bulletin=bulletin, unit_id__in=existing).update(
        revision=revision,
        must_air=must_air,
        withdrawn_at=None,
        picked_up_at=None,
        picked_up_by=None,
        shared_at=timezone.now(),
    )
    BulletinShare.objects.bulk_create(
        [
            BulletinShare(bulletin=bulletin, revision=revision, unit=u, must_air=must_air)
            for u in units
            if u.pk not in existing
        ]
    )
    return len(units)


@transaction.atomic
def publish(*, bulletin: Bulletin, user, comment: str = "") -> Bulletin:
    """Publish the approved revision and share it down to the target communes."""
    _check(user, "content.publish", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status != Status.APPROVED:
        raise _conflict(bulletin, "xuất bản", "Chỉ xuất bản được bản tin đã duyệt.")
    if bulletin.needs_reapproval or not bulletin.approved_revision_id:
        raise Problem(
            409, "Bản tin đã được sửa sau khi duyệt; hãy gửi duyệt lại trước khi xuất bản."
        )
    bulletin.published_at = timezone.now()
    _transition(bulletin, Status.PUBLISHED, user=user, comment=comment, fields=("published_at",))
    count = _share_down(bulletin)
    audit.record(
        bulletin, ChangeAction.UPDATE, user=user, comment=f"Chia sẻ xuống {count} đơn vị cấp xã"
    )
    return bulletin


@transaction.atomic
def withdraw(*, bulletin: Bulletin, user, comment: str = "") -> Bulletin:
    """Take a bulletin back: out of the approval queue, or off the air in every commune."""
    permission = "content.submit" if bulletin.status == Status.SUBMITTED else "content.publish"
    _check(user, permission, bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status not in (Status.SUBMITTED, Status.APPROVED, Status.PUBLISHED):
        raise _conflict(
            bulletin,
            "thu hồi",
            "Chỉ thu hồi được bản tin đang chờ duyệt, đã duyệt hoặc đã xuất bản.",
        )
    _transition(bulletin, Status.WITHDRAWN, user=user, comment=comment)
    bulletin.shares.filter(withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    from grassroots.exchange.actions import bulletin_withdrawn

    bulletin_withdrawn(bulletin, comment)  # and at every system it was sent to (outbox)
    return bulletin


@transaction.atomic
def archive(*, bulletin: Bulletin, user, comment: str = "") -> Bulletin:
    """Move a finished bulletin into the archive."""
    _check(user, "content.publish", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status not in (Status.PUBLISHED, Status.EXPIRED, Status.WITHDRAWN):
        raise _conflict(
            bulletin, "lưu trữ", "Chỉ lưu trữ được bản tin đã xuất bản, hết hiệu lực hoặc thu hồi."
        )
    _transition(bulletin, Status.ARCHIVED, user=user, comment=comment)
    bulletin.shares.filter(withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    return bulletin


def expire_due(*, now: datetime.datetime | None = None) -> int:
    """System action: published bulletins past their expiry become expired."""
    now = now or timezone.now()
    done = 0
    for pk in Bulletin.objects.filter(status=Status.PUBLISHED, expire_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            bulletin = Bulletin.objects.select_for_update().get(pk=pk)
            if bulletin.status != Status.PUBLISHED:
                continue
            _transition(bulletin, Status.EXPIRED, user=None, comment="Hết thời hạn hiệu lực.")
            done += 1
    return done


# ---------------------------------------------------------------------------------------------
# Inbox
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def pick_up(*, share: BulletinShare, user) -> BulletinShare:
    """A commune takes up a shared bulletin (for must-air ones: acknowledges it)."""
    require(user, "broadcast.schedule")
    share = (
        BulletinShare.objects.restrict(user, "content.view")
        .select_for_update(of=("self",))
        .select_related("unit", "bulletin")
        .filter(pk=share.pk)
        .first()
    )
    if share is None:
        raise Http404
    require_on(user, "broadcast.schedule", share.unit)
    if share.withdrawn_at:
        raise Problem(409, "Bản tin này đã bị thu hồi, không nhận được nữa.")
    if share.picked_up_at:
        return share
    before = audit.snapshot(share)
    share.picked_up_at = timezone.now()
    share.picked_up_by = user
    share.save(update_fields=["picked_up_at", "picked_up_by"])
    audit.record(share, ChangeAction.UPDATE, user=user, before=before, comment="Nhận bản tin")
    return share


# ---------------------------------------------------------------------------------------------
# Media
# ---------------------------------------------------------------------------------------------


def _safe_suffix(name: str) -> str:
    suffix = Path(name or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def upload_limit(kind: str = "") -> int:
    """Largest upload accepted in a request: the pipeline's limit for the kind, when known."""
    media = media_module()
    if media is not None and kind:
        limit = media.limits_for(kind).get("max_bytes")
        if limit:
            return int(limit)
    return int(settings.GRASSROOTS.get("UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


@transaction.atomic
def upload_media(*, bulletin: Bulletin, user, upload, declared_kind: str) -> MediaAsset:
    """Store an upload in MEDIA_ROOT/incoming and queue its processing (never in the request)."""
    from .tasks import process_media

    _check(user, "content.change", bulletin)
    bulletin = _lock(bulletin)
    if bulletin.status not in (Status.DRAFT, Status.CHANGES_REQUESTED):
        raise _conflict(
            bulletin, "đính kèm tệp", "Chỉ đính kèm được vào bản nháp hoặc bản cần sửa."
        )
    media_kinds = [k for k in BulletinKind.values if k != BulletinKind.TEXT]
    if declared_kind not in media_kinds:
        raise ValidationError({"kind": f"Loại tệp phải là một trong: {', '.join(media_kinds)}."})
    limit = upload_limit(declared_kind)
    if upload.size > limit:
        raise Problem(
            413,
            f"Tệp quá lớn ({upload.size / (1024 * 1024):.0f} MB); giới hạn cho loại này là "
            f"{limit // (1024 * 1024)} MB. Hãy cắt ngắn hoặc nén tệp rồi tải lên lại.",
        )
    if not upload.size:
        raise ValidationError({"file": "Tệp rỗng (0 byte); hãy chọn đúng tệp rồi tải lên lại."})
    incoming = Path(settings.MEDIA_ROOT) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    relative = f"incoming/{uuid.uuid4().hex}{_safe_suffix(upload.name)}"
    target = Path(settings.MEDIA_ROOT) / relative
    try:
        with open(target, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        asset = MediaAsset.objects.create(
            unit=bulletin.unit,
            bulletin=bulletin,
            declared_kind=declared_kind,
            original_name=Path(upload.name or "").name[:255],
            upload_path=relative,
            size=upload.size,
            created_by=user,
        )
        audit.record(asset, ChangeAction.CREATE, user=user, comment=asset.original_name)
        result = process_media.enqueue(asset.pk)
        asset.task_id = str(result.id)[:64]
        asset.save(update_fields=["task_id"])
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return asset


def delete_media(*, asset: MediaAsset, user) -> None:
    """Remove a rejected attachment: it never became usable, so nothing refers to it; its
    stored upload is removed once the deletion commits."""
    if asset.bulletin_id is None:
        raise Http404
    _check(user, "content.change", asset.bulletin)
    if asset.status != MediaStatus.REJECTED:
        raise Problem(409, "Chỉ xoá được tệp bị từ chối; tệp đã dùng được giữ lại trong lịch sử.")
    with transaction.atomic():
        before = audit.snapshot(asset)
        audit.record(
            asset, ChangeAction.DELETE, user=user, before=before, comment=asset.original_name
        )
        leftovers = [p for p in (asset.upload_path, asset.file) if p]
        try:
            asset.delete()
        except models.ProtectedError:
            raise Problem(409, "Tệp này đang được tệp khác tham chiếu nên chưa xoá được.") from None

        def _unlink():
            for relative in leftovers:
                (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)

        transaction.on_commit(_unlink)


def media_module():
    """The media pipeline (grassroots.content.media), or None while it is not installed."""
    if importlib.util.find_spec("grassroots.content.media") is None:
        return None
    return importlib.import_module("grassroots.content.media")


def tts_module():
    """The TTS engine (grassroots.content.tts), or None while it is not installed."""
    if importlib.util.find_spec("grassroots.content.tts") is None:
        return None
    return importlib.import_module("grassroots.content.tts")


# ---------------------------------------------------------------------------------------------
# Text to speech preview
# ---------------------------------------------------------------------------------------------


def _tts_or_503():
    tts = tts_module()
    if tts is None:
        raise Problem(
            503,
            "Chức năng đọc văn bản (TTS) chưa được cài đặt trên máy chủ; hãy báo quản trị viên.",
        )
    return tts


def preview_parts(text: str, size: int = MAX_TTS_TEXT) -> list[str]:
    """A bulletin cut into parts of at most `size` characters, at paragraph, then sentence,
    then word ends, so each part can be read and heard on its own."""
    parts: list[str] = []
    current = ""
    pieces = re.split(r"(?<=\n)|(?<=[.!?;:])\s+", text)
    for piece in pieces:
        while len(piece) > size:  # one sentence longer than a part: cut at a space
            cut = piece.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            piece_head, piece = piece[:cut], piece[cut:].lstrip()
            if current:
                parts.append(current.strip())
                current = ""
            parts.append(piece_head.strip())
        joined = f"{current} {piece}" if current and not current.endswith("\n") else current + piece
        if len(joined) > size and current:
            parts.append(current.strip())
            current = piece
        else:
            current = joined
    if current.strip():
        parts.append(current.strip())
    return [p for p in parts if p]


def _tts_text(text: str, part: int = 1) -> tuple[str, int]:
    """Part `part` (from 1) of the plain text, and how many parts there are."""
    text = plain_text(sanitize(text or ""))
    if not text:
        raise ValidationError({"text": "Chưa có nội dung để đọc thử."})
    if len(text) > MAX_BODY + 300:
        raise ValidationError({"text": f"Văn bản dài quá {MAX_BODY} ký tự."})
    parts = preview_parts(text)
    if not 1 <= int(part) <= len(parts):
        raise ValidationError(
            {"part": f"Văn bản có {len(parts)} phần; hãy chọn từ 1 đến {len(parts)}."}
        )
    return parts[int(part) - 1], len(parts)


def _preview_text(user, text: str, bulletin: Bulletin | None) -> str:
    """What a preview reads: the text being written (needs the right to write), or a stored
    bulletin's title and body (anyone who may see it: a published bulletin's form is locked)."""
    if bulletin is None:
        require(user, "content.change")
        return text
    require_on(user, "content.view", bulletin.unit)
    return "\n".join(p for p in (bulletin.title, bulletin.body) if p)


def preview_reading(
    *, user, text: str = "", bulletin: Bulletin | None = None, voice: str = "vi", part: int = 1
) -> dict:
    """The reading text TTS would speak for one part of the text, or of a stored bulletin
    (abbreviations, numbers, dates expanded): {"reading_text", "part", "parts"}."""
    text = _preview_text(user, text, bulletin)
    chunk, count = _tts_text(text, part)
    reading = _tts_or_503().normalize(chunk, voice=voice)
    return {"reading_text": reading, "part": int(part), "parts": count}


def request_preview_audio(
    *,
    user,
    text: str = "",
    bulletin: Bulletin | None = None,
    voice: str = "vi",
    speed: int = 150,
    part: int = 1,
) -> str:
    """Queue the synthesis of one preview part; returns the task result id to poll."""
    from .tasks import synthesize_preview

    text = _preview_text(user, text, bulletin)
    text, _count = _tts_text(text, part)
    _tts_or_503()
    if not 80 <= int(speed) <= 450:
        raise ValidationError({"speed": "Tốc độ đọc phải trong khoảng 80–450 từ/phút."})
    if not re.fullmatch(r"[a-z0-9_\-]{1,40}", voice or ""):
        raise ValidationError({"voice": "Giọng đọc không hợp lệ."})
    result = synthesize_preview.enqueue(text=text, voice=voice, speed=int(speed), user_id=user.pk)
    return str(result.id)
