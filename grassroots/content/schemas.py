"""API schemas of bulletins: XCreate / XUpdate / XRead."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field

from grassroots.units.schemas import UnitBrief


class BulletinCreate(Schema):
    unit_code: str = Field(max_length=16, description="Mã đơn vị soạn (trong phạm vi của bạn)")
    title: str = Field(max_length=300)
    body: str = ""
    kind: str = "text"
    category: str | None = Field(None, description="Mã chuyên mục")
    priority: str = "normal"
    source: str = "own"
    source_name: str = ""
    targets: list[str] = Field(
        default_factory=list, description="Mã các đơn vị nhận; mỗi đơn vị bao gồm cả cấp dưới"
    )
    go_live_at: datetime | None = None
    expire_at: datetime | None = None


class BulletinUpdate(Schema):
    title: str | None = Field(None, max_length=300)
    body: str | None = None
    kind: str | None = None
    category: str | None = None
    priority: str | None = None
    source: str | None = None
    source_name: str | None = None
    targets: list[str] | None = None
    go_live_at: datetime | None = None
    expire_at: datetime | None = None
    comment: str = ""


class TransitionCreate(Schema):
    comment: str = Field("", max_length=2000)


class CategoryRead(Schema):
    slug: str
    name: str
    essential: bool


class RevisionRead(Schema):
    number: int
    content_hash: str
    created_at: datetime
    created_by: str | None
    signature: str
    kid: str
    signed_at: datetime | None
    data: dict


class TransitionRead(Schema):
    from_status: str
    to_status: str
    step: int | None
    user_name: str
    at: datetime
    comment: str
    revision: int | None


class MediaAssetRead(Schema):
    id: int
    bulletin_id: int | None
    status: str
    status_label: str
    error: str
    declared_kind: str
    kind: str
    mime: str
    size: int | None
    duration_seconds: float | None
    sha256: str | None
    file: str
    renditions: dict
    original_name: str
    synthesized: bool


class StepRead(Schema):
    order: int
    role: str
    level: str
    label: str
    unit_code: str
    done: bool


class BulletinRead(Schema):
    id: int
    unit: UnitBrief
    title: str
    body: str
    body_text: str
    kind: str
    category: CategoryRead | None
    priority: str
    priority_label: str
    source: str
    source_name: str
    targets: list[UnitBrief]
    go_live_at: datetime | None
    expire_at: datetime | None
    status: str
    status_label: str
    revision: int | None
    approved_revision: int | None
    needs_reapproval: bool
    approval_steps: list[StepRead]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    media: list[MediaAssetRead]


class BulletinListItem(Schema):
    id: int
    unit: UnitBrief
    title: str
    kind: str
    category: str | None
    essential: bool
    priority: str
    status: str
    status_label: str
    revision: int | None
    created_at: datetime
    published_at: datetime | None


class SearchFilter(Schema):
    q: str = Field("", max_length=200)
    unit: str | None = None
    category: str | None = None
    priority: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class ShareRead(Schema):
    id: int
    bulletin_id: int
    title: str
    body_text: str
    priority: str
    priority_label: str
    must_air: bool
    unit: UnitBrief
    from_unit: UnitBrief
    revision: int
    content_hash: str
    signature: str
    kid: str
    shared_at: datetime
    picked_up_at: datetime | None
    picked_up_by: str | None
    withdrawn_at: datetime | None
    go_live_at: datetime | None
    expire_at: datetime | None


class InboxFilter(Schema):
    unit: str | None = None
    picked_up: bool | None = None
    must_air: bool | None = None
    include_withdrawn: bool = False
    limit: int = Field(100, ge=1, le=1000)


class TtsPreviewCreate(Schema):
    text: str = Field(max_length=60_000, description="Cả bản tin; được đọc thử từng phần")
    voice: str = "vi"
    speed: int = 150
    audio: bool = False
    part: int = Field(1, ge=1, description="Phần cần đọc thử (từ 1), mỗi phần tối đa 5.000 ký tự")


class TtsPreviewRead(Schema):
    reading_text: str
    audio_task: str | None = None
    part: int = 1
    parts: int = 1


class TtsAudioRead(Schema):
    status: str
    audio_url: str | None = None
    duration_seconds: float | None = None
    error: str | None = None


class StepSpecIn(Schema):
    role: str = Field("approver", max_length=50)
    level: str = "owner"
    name: str = Field("", max_length=200)


class ChainUpdate(Schema):
    name: str = Field("", max_length=200)
    steps: list[StepSpecIn] = Field(default_factory=list, max_length=10)


class ChainRead(Schema):
    unit_code: str
    applies_from: str | None = Field(None, description="Đơn vị cấu hình quy trình; null = mặc định")
    name: str
    steps: list[StepSpecIn]
