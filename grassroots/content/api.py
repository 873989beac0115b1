"""Bulletins API (/api/v1/bulletins): thin routes over `actions` and `querysets`."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from ninja import File, Form, Query, Router, UploadedFile
from ninja.responses import Status as HttpStatus

from grassroots.accounts.policies import require
from grassroots.core.errors import Problem
from grassroots.units.models import Unit

from . import actions
from .choices import Status
from .models import ApprovalChain, Bulletin, BulletinShare, Category, MediaAsset
from .schemas import (
    BulletinCreate,
    BulletinListItem,
    BulletinRead,
    BulletinUpdate,
    CategoryRead,
    ChainRead,
    ChainUpdate,
    InboxFilter,
    MediaAssetRead,
    RevisionRead,
    SearchFilter,
    ShareRead,
    TransitionCreate,
    TransitionRead,
    TtsAudioRead,
    TtsPreviewCreate,
    TtsPreviewRead,
)

PREFIX = "/bulletins"
router = Router(tags=["bulletins"])


# ---------------------------------------------------------------------------------------------
# Reads shared by routes (and the console)
# ---------------------------------------------------------------------------------------------


def get_bulletin(user, bulletin_id: int, permission: str = "content.view") -> Bulletin:
    """The bulletin if the user holds `permission` (else 403) and may see it (else 404)."""
    require(user, permission)
    bulletin = (
        Bulletin.objects.visible_to(user)
        .select_related("unit", "category", "current_revision", "approved_revision")
        .filter(pk=bulletin_id)
        .first()
    )
    if bulletin is None:
        raise Http404
    return bulletin


def _unit(u: Unit) -> dict:
    return {"code": u.code, "name": u.name}


def media_row(m: MediaAsset) -> dict:
    return {
        "id": m.id,
        "bulletin_id": m.bulletin_id,
        "status": m.status,
        "status_label": m.get_status_display(),
        "error": m.error,
        "declared_kind": m.declared_kind,
        "kind": m.kind,
        "mime": m.mime,
        "size": m.size,
        "duration_seconds": m.duration_seconds,
        "sha256": m.content_sha256,
        "file": m.file,
        "renditions": m.renditions,
        "original_name": m.original_name,
        "synthesized": m.synthesized,
    }


def steps_of(bulletin: Bulletin) -> list[dict]:
    steps = actions.chain_steps(bulletin.unit)
    return [
        {
            "order": i,
            "role": s.role,
            "level": s.level,
            "label": s.label,
            "unit_code": actions.step_unit(bulletin.unit, s.level).code,
            "done": bulletin.approval_step >= i,
        }
        for i, s in enumerate(steps, start=1)
    ]


def bulletin_row(b: Bulletin) -> dict:
    return {
        "id": b.id,
        "unit": _unit(b.unit),
        "title": b.title,
        "body": b.body,
        "body_text": b.body_text,
        "kind": b.kind,
        "category": (
            {"slug": b.category.slug, "name": b.category.name, "essential": b.category.essential}
            if b.category_id
            else None
        ),
        "priority": b.priority,
        "priority_label": b.get_priority_display(),
        "source": b.source,
        "source_name": b.source_name,
        "targets": [_unit(u) for u in b.targets.order_by("path")],
        "go_live_at": b.go_live_at,
        "expire_at": b.expire_at,
        "status": b.status,
        "status_label": b.get_status_display(),
        "revision": b.current_revision.number if b.current_revision_id else None,
        "approved_revision": b.approved_revision.number if b.approved_revision_id else None,
        "needs_reapproval": b.needs_reapproval,
        "approval_steps": steps_of(b),
        "published_at": b.published_at,
        "created_at": b.created_at,
        "updated_at": b.updated_at,
        "media": [media_row(m) for m in b.media.select_related("duplicate_of").order_by("id")],
    }


def list_row(b: Bulletin) -> dict:
    return {
        "id": b.id,
        "unit": _unit(b.unit),
        "title": b.title,
        "kind": b.kind,
        "category": b.category.slug if b.category_id else None,
        "essential": b.is_essential,
        "priority": b.priority,
        "status": b.status,
        "status_label": b.get_status_display(),
        "revision": b.current_revision.number if b.current_revision_id else None,
        "created_at": b.created_at,
        "published_at": b.published_at,
    }


def share_row(s: BulletinShare) -> dict:
    b, r = s.bulletin, s.revision
    return {
        "id": s.id,
        "bulletin_id": b.id,
        "title": r.data.get("title", b.title),
        "body_text": actions.plain_text(r.data.get("body", "")),
        "priority": b.priority,
        "priority_label": b.get_priority_display(),
        "must_air": s.must_air,
        "unit": _unit(s.unit),
        "from_unit": _unit(b.unit),
        "revision": r.number,
        "content_hash": r.content_hash,
        "signature": r.signature,
        "kid": r.kid,
        "shared_at": s.shared_at,
        "picked_up_at": s.picked_up_at,
        "picked_up_by": s.picked_up_by.get_username() if s.picked_up_by_id else None,
        "withdrawn_at": s.withdrawn_at,
        "go_live_at": b.go_live_at,
        "expire_at": b.expire_at,
    }


def search_bulletins(user, f: SearchFilter):
    """Archive search within the user's visibility, with the archive filters."""
    require(user, "content.view")
    unit = None
    if f.unit:
        units = Unit.objects.filter(code=f.unit)
        unit = units.filter(valid_to__isnull=True).first() or units.order_by("-valid_to").first()
        if unit is None:
            return Bulletin.objects.none()
    return (
        Bulletin.objects.visible_to(user)
        .search(f.q)
        .archive_filter(
            unit=unit,
            category=f.category,
            priority=f.priority,
            status=f.status,
            date_from=f.date_from,
            date_to=f.date_to,
        )
        .select_related("unit", "category", "current_revision")
        .order_by("-created_at", "-id")
    )


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


@router.get("", response=list[BulletinListItem], summary="Tìm bản tin (không dấu cũng được)")
def list_bulletins(request, filters: Query[SearchFilter]):
    qs = search_bulletins(request.user, filters)
    return [list_row(b) for b in qs[filters.offset : filters.offset + filters.limit]]


@router.get("/search", response=list[BulletinListItem], summary="Tra cứu kho lưu trữ bản tin")
def search(request, filters: Query[SearchFilter]):
    return list_bulletins(request, filters)


@router.post("", response={201: BulletinRead}, summary="Soạn bản tin mới")
def create_bulletin(request, data: BulletinCreate):
    require(request.user, "content.add")
    unit = Unit.objects.current().filter(code=data.unit_code).first()
    if unit is None:
        raise Http404
    bulletin = actions.create(user=request.user, unit=unit, data=data.dict(exclude={"unit_code"}))
    return HttpStatus(201, bulletin_row(bulletin))


@router.get("/categories", response=list[CategoryRead], summary="Chuyên mục")
def categories(request):
    require(request.user, "content.view")
    return list(Category.objects.filter(active=True))


@router.get("/inbox", response=list[ShareRead], summary="Hộp thư bản tin chia sẻ xuống")
def inbox(request, filters: Query[InboxFilter]):
    require(request.user, "content.view")
    qs = BulletinShare.objects.inbox(request.user).select_related("picked_up_by")
    if not filters.include_withdrawn:
        qs = qs.active()
    if filters.unit:
        qs = qs.filter(unit__code=filters.unit)
    if filters.picked_up is not None:
        qs = qs.filter(picked_up_at__isnull=not filters.picked_up)
    if filters.must_air is not None:
        qs = qs.filter(must_air=filters.must_air)
    return [share_row(s) for s in qs[: filters.limit]]


@router.post("/inbox/{share_id}/pick-up", response=ShareRead, summary="Xã nhận bản tin")
def pick_up(request, share_id: int):
    require(request.user, "broadcast.schedule")
    share = BulletinShare.objects.restrict(request.user, "content.view").filter(pk=share_id).first()
    if share is None:
        raise Http404
    share = actions.pick_up(share=share, user=request.user)
    share = BulletinShare.objects.select_related(
        "bulletin", "bulletin__unit", "unit", "revision", "picked_up_by"
    ).get(pk=share.pk)
    return share_row(share)


@router.post("/tts/preview", response=TtsPreviewRead, summary="Đọc thử: văn bản sẽ được đọc")
def tts_preview(request, data: TtsPreviewCreate):
    reading = actions.preview_reading(
        user=request.user, text=data.text, voice=data.voice, part=data.part
    )
    task_id = None
    if data.audio:
        task_id = actions.request_preview_audio(
            user=request.user, text=data.text, voice=data.voice, speed=data.speed, part=data.part
        )
    return {**reading, "audio_task": task_id}


def preview_audio_status(user, task_id: str) -> dict:
    """Status of a queued preview: only the user who asked may read it."""
    from django_tasks.exceptions import TaskResultDoesNotExist

    from .tasks import synthesize_preview

    require(user, "content.change")
    try:
        result = synthesize_preview.get_result(task_id)
    except (TaskResultDoesNotExist, ValueError) as exc:
        raise Http404 from exc
    if result.kwargs.get("user_id") != user.pk:
        raise Http404
    status = str(result.status)
    if status == "SUCCESSFUL":
        value = result.return_value or {}
        return {
            "status": "ready",
            "audio_url": settings.MEDIA_URL + value["path"],
            "duration_seconds": value.get("duration_seconds"),
        }
    if status == "FAILED":
        return {"status": "failed", "error": "Không tạo được âm thanh đọc thử; hãy thử lại."}
    return {"status": "pending"}


@router.get("/tts/preview/{task_id}", response=TtsAudioRead, summary="Âm thanh đọc thử")
def tts_preview_audio(request, task_id: str):
    return preview_audio_status(request.user, task_id)


def _chain_row(unit: Unit) -> dict:
    chain = actions.chain_for(unit)
    return {
        "unit_code": unit.code,
        "applies_from": chain.unit.code if chain else None,
        "name": chain.name if chain else "",
        "steps": [
            {"role": s.role, "level": s.level, "name": s.name} for s in actions.chain_steps(unit)
        ],
    }


def _scoped_unit(user, code: str, permission: str) -> Unit:
    require(user, permission)
    unit = Unit.objects.restrict(user, permission).current().filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


@router.get(
    "/approval-chains/{unit_code}", response=ChainRead, summary="Quy trình duyệt áp dụng cho đơn vị"
)
def approval_chain(request, unit_code: str):
    return _chain_row(_scoped_unit(request.user, unit_code, "content.view"))


@router.put("/approval-chains/{unit_code}", response=ChainRead, summary="Cấu hình quy trình duyệt")
def set_approval_chain(request, unit_code: str, data: ChainUpdate):
    unit = _scoped_unit(request.user, unit_code, "content.approve")
    actions.set_chain(
        user=request.user, unit=unit, name=data.name, steps=[s.dict() for s in data.steps]
    )
    return _chain_row(unit)


@router.delete(
    "/approval-chains/{unit_code}",
    response=ChainRead,
    summary="Xoá quy trình duyệt riêng của đơn vị",
    description="Bản tin của đơn vị (và cấp dưới) lại theo quy trình của cấp trên, hoặc mặc "
    "định; trả về quy trình áp dụng sau khi xoá. 404 khi đơn vị không có quy trình riêng.",
)
def delete_approval_chain(request, unit_code: str):
    unit = _scoped_unit(request.user, unit_code, "content.approve")
    chain = ApprovalChain.objects.filter(unit=unit).first()
    if chain is None:
        raise Problem(404, f"{unit.name} không có quy trình duyệt riêng.")
    actions.delete_chain(user=request.user, chain=chain)
    return _chain_row(unit)


@router.get("/media/{asset_id}", response=MediaAssetRead, summary="Một tệp đính kèm")
def media_detail(request, asset_id: int):
    require(request.user, "content.view")
    asset = MediaAsset.objects.restrict(request.user, "content.view").filter(pk=asset_id).first()
    if asset is None:
        raise Http404
    return media_row(asset)


@router.get("/{bulletin_id}", response=BulletinRead, summary="Một bản tin")
def bulletin_detail(request, bulletin_id: int):
    return bulletin_row(get_bulletin(request.user, bulletin_id))


@router.patch("/{bulletin_id}", response=BulletinRead, summary="Sửa bản tin (tạo phiên bản mới)")
def edit_bulletin(request, bulletin_id: int, data: BulletinUpdate):
    bulletin = get_bulletin(request.user, bulletin_id, "content.change")
    changes = data.dict(exclude_unset=True, exclude={"comment"})
    bulletin = actions.update(
        bulletin=bulletin, user=request.user, data=changes, comment=data.comment
    )
    return bulletin_row(get_bulletin(request.user, bulletin.pk))


@router.post(
    "/{bulletin_id}/media", response={202: MediaAssetRead}, summary="Tải tệp lên (xử lý nền)"
)
def upload_media(request, bulletin_id: int, file: File[UploadedFile], kind: Form[str] = "audio"):
    bulletin = get_bulletin(request.user, bulletin_id, "content.change")
    asset = actions.upload_media(
        bulletin=bulletin, user=request.user, upload=file, declared_kind=kind
    )
    return HttpStatus(202, media_row(asset))


@router.get("/{bulletin_id}/revisions", response=list[RevisionRead], summary="Các phiên bản")
def revisions(request, bulletin_id: int):
    bulletin = get_bulletin(request.user, bulletin_id)
    return [
        {
            "number": r.number,
            "content_hash": r.content_hash,
            "created_at": r.created_at,
            "created_by": r.created_by.get_username() if r.created_by_id else None,
            "signature": r.signature,
            "kid": r.kid,
            "signed_at": r.signed_at,
            "data": r.data,
        }
        for r in bulletin.revisions.select_related("created_by").order_by("-number")
    ]


@router.get("/{bulletin_id}/transitions", response=list[TransitionRead], summary="Lịch sử xử lý")
def transitions(request, bulletin_id: int):
    bulletin = get_bulletin(request.user, bulletin_id)
    return [
        {
            "from_status": t.from_status,
            "to_status": t.to_status,
            "step": t.step,
            "user_name": t.user_name,
            "at": t.at,
            "comment": t.comment,
            "revision": t.revision.number if t.revision_id else None,
        }
        for t in bulletin.transitions.select_related("revision")
    ]


@router.get("/{bulletin_id}/shares", response=list[ShareRead], summary="Tình hình xã nhận tin")
def shares(request, bulletin_id: int):
    bulletin = get_bulletin(request.user, bulletin_id)
    qs = (
        BulletinShare.objects.restrict(request.user, "content.view")
        .filter(bulletin=bulletin)
        .select_related("bulletin", "bulletin__unit", "unit", "revision", "picked_up_by")
        .order_by("unit__name")
    )
    return [share_row(s) for s in qs]


def _transition_route(name: str, action, permission: str, summary: str):
    def route(request, bulletin_id: int, data: TransitionCreate | None = None):
        bulletin = get_bulletin(request.user, bulletin_id, permission)
        bulletin = action(
            bulletin=bulletin, user=request.user, comment=data.comment if data else ""
        )
        return bulletin_row(get_bulletin(request.user, bulletin.pk))

    route.__name__ = f"bulletin_{name.replace('-', '_')}"
    router.post(f"/{{bulletin_id}}/{name}", response=BulletinRead, summary=summary)(route)


_transition_route("submit", actions.submit, "content.submit", "Gửi duyệt")
_transition_route("approve", actions.approve, "content.approve", "Duyệt (một bước)")
_transition_route("request-changes", actions.request_changes, "content.approve", "Yêu cầu sửa")
_transition_route("publish", actions.publish, "content.publish", "Xuất bản, chia sẻ xuống xã")
_transition_route("archive", actions.archive, "content.publish", "Đưa vào lưu trữ")


@router.post("/{bulletin_id}/withdraw", response=BulletinRead, summary="Thu hồi")
def withdraw(request, bulletin_id: int, data: TransitionCreate | None = None):
    require(request.user, "content.view")
    bulletin = get_bulletin(request.user, bulletin_id)
    permission = "content.submit" if bulletin.status == Status.SUBMITTED else "content.publish"
    require(request.user, permission)
    bulletin = actions.withdraw(
        bulletin=bulletin, user=request.user, comment=data.comment if data else ""
    )
    return bulletin_row(get_bulletin(request.user, bulletin.pk))
