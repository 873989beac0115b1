"""Permissions per action, as a matrix: every write route × every demo role, device and board.

The write routes are read from the OpenAPI document the API itself builds, so a route added
tomorrow joins the matrix without a line here, and the matrix fails until `RULES` says who may
call it. For each route and caller the test expects:

* a caller without the route's permission anywhere (a viewer, always): 401/403/404 and not a
  row changed anywhere in the database (counted over every model, audit and task tables too);
* a caller holding the permission but not on the object's commune (operator2): 403/404 and no
  change;
* a caller holding it on the object (`COMMUNE_A`): the permission gate lets it through (not
  401/403), whatever the business rules then answer;
* for province-wide settings (kind PROVINCE), only a caller holding it on the province: a
  commune operator holding it on the commune is refused;
* device tokens only on device routes, board tokens only on board routes, never on user ones.

Each call runs inside a savepoint that is rolled back, so every caller meets the same world.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction

from grassroots.accounts.choices import DEFAULT_ROLE_PERMISSIONS

from . import COMMUNE_A, COMMUNE_B, token_for, unit

API_PREFIX = "/api/v1"
WRITE_METHODS = ("post", "put", "patch", "delete")
ROLES = ("admin", "editor", "approver", "operator", "operator2", "viewer")
CALLERS = (*ROLES, "device", "board")
ROLE_OF = {
    "admin": "province_admin",
    "editor": "editor",
    "approver": "approver",
    "viewer": "viewer",
    "operator": "operator",
    "operator2": "operator",
}
# Where each demo user's role is granted: the province, or one commune.
HOME = {"operator": COMMUNE_A, "operator2": COMMUNE_B}

PUBLIC, SELF, DEVICE, BOARD = "public", "self", "device", "board"
# A permission held anywhere suffices: the route names no unit (it checks rows one by one).
ANYWHERE = "anywhere"
# The permission held on the province itself: settings that bind every commune.
PROVINCE = "province"


@dataclass(frozen=True)
class Rule:
    """Who may call a route: a permission on the target's unit, or one of the kinds above."""

    permission: str = ""
    kind: str = (
        ""  # "" (a permission on COMMUNE_A), ANYWHERE, PROVINCE, PUBLIC, SELF, DEVICE, BOARD
    )
    why: str = ""


def perm(permission: str) -> Rule:
    return Rule(permission=permission)


# Every write route of the API. A new route fails the matrix until it is listed here.
RULES: dict[str, Rule] = {
    "POST /auth/token": Rule(kind=PUBLIC, why="login (lockout by django-axes)"),
    "DELETE /auth/tokens/{token_id}": Rule(kind=SELF, why="one's own tokens"),
    "POST /users": perm("accounts.manage"),
    "POST /users/{user_id}/assignments": perm("accounts.manage"),
    "DELETE /assignments/{assignment_id}": perm("accounts.manage"),
    "POST /bulletins": perm("content.add"),
    "POST /bulletins/inbox/{share_id}/pick-up": perm("broadcast.schedule"),
    "POST /bulletins/tts/preview": Rule(
        "content.change", ANYWHERE, why="a reading preview of text, tied to no unit"
    ),
    "PUT /bulletins/approval-chains/{unit_code}": perm("content.approve"),
    "DELETE /bulletins/approval-chains/{unit_code}": perm("content.approve"),
    "PATCH /bulletins/{bulletin_id}": perm("content.change"),
    "POST /bulletins/{bulletin_id}/media": perm("content.change"),
    "POST /bulletins/{bulletin_id}/submit": perm("content.submit"),
    "POST /bulletins/{bulletin_id}/approve": perm("content.approve"),
    "POST /bulletins/{bulletin_id}/request-changes": perm("content.approve"),
    "POST /bulletins/{bulletin_id}/publish": perm("content.publish"),
    "POST /bulletins/{bulletin_id}/archive": perm("content.publish"),
    # content.submit while submitted, content.publish otherwise: the world's bulletin is a draft.
    "POST /bulletins/{bulletin_id}/withdraw": perm("content.publish"),
    "POST /schedules": perm("broadcast.schedule"),
    "PATCH /schedules/{item_id}": perm("broadcast.schedule"),
    "POST /schedules/{item_id}/cancel": perm("broadcast.schedule"),
    "PUT /schedules/{item_id}/rank": perm("broadcast.schedule"),
    "POST /proposals/{proposal_id}/place": perm("broadcast.schedule"),
    "POST /proposals/{proposal_id}/decline": perm("broadcast.schedule"),
    "PUT /usage-policies/{code}": perm("broadcast.schedule"),
    "POST /relay-sources": perm("accounts.manage"),
    "PATCH /relay-sources/{source_id}": perm("accounts.manage"),
    "DELETE /relay-sources/{source_id}": perm("accounts.manage"),
    "POST /emergencies": perm("broadcast.emergency"),
    "POST /emergencies/{emergency_id}/stop": perm("broadcast.emergency"),
    "POST /emergencies/{emergency_id}/resend": perm("broadcast.emergency"),
    # the second officer of the two-person rule (not the one who started it)
    "POST /emergencies/{emergency_id}/confirm": perm("broadcast.emergency"),
    "POST /live": perm("broadcast.schedule"),
    "POST /live/{session_id}/stop": perm("broadcast.schedule"),
    "POST /live/{session_id}/source": Rule(kind=SELF, why="only the session's speaker (operator)"),
    # the station's own microphone: a device opens a session over its own unit, sends and stops
    # only its own (an officer's session is not found for it)
    "POST /live/device": Rule(kind=DEVICE, why="the station microphone, over the device's unit"),
    "POST /live/device/{session_id}/source": Rule(kind=DEVICE, why="the device's own session"),
    "POST /live/device/{session_id}/stop": Rule(kind=DEVICE, why="the device's own session"),
    "POST /alerts/cap": Rule(
        "broadcast.emergency", ANYWHERE, why="a CAP 1.2 XML body; its area is cut to the scope"
    ),
    "POST /devices/enrol": Rule(kind=PUBLIC, why="one-time code; wrong codes rate-limited"),
    "POST /devices/{device_id}/authorise": perm("devices.manage"),
    "POST /devices/{device_id}/revoke": perm("devices.manage"),
    "POST /devices/{device_id}/commands": perm("devices.control"),
    "POST /devices/inventory": Rule(
        "devices.control", ANYWHERE, why="a workbook; each row's unit is checked in scope"
    ),
    "PATCH /devices/{device_id}": perm("devices.control"),
    "POST /devices/{device_id}/asrun": Rule(kind=DEVICE, why="proof of play: the device only"),
    "POST /mqtt/auth": Rule(kind=PUBLIC, why="broker hook, answers allow/deny, writes nothing"),
    "POST /mqtt/acl": Rule(kind=PUBLIC, why="broker hook, answers allow/deny, writes nothing"),
    "POST /boards/pairing": Rule(kind=PUBLIC, why="a new screen asks for a code (per-IP cap)"),
    "POST /boards/pairing/claim": Rule(kind=PUBLIC, why="needs the 32-byte secret"),
    "POST /boards/pair": perm("signage.manage"),
    "POST /boards/{device_id}/state": Rule(kind=BOARD),
    "POST /boards/{device_id}/proofs": Rule(kind=BOARD),
    "POST /boards/{device_id}/screenshot": Rule(kind=BOARD),
    "PATCH /boards/{device_id}": perm("signage.manage"),
    "POST /boards/{device_id}/revoke": perm("signage.manage"),
    "POST /boards/{device_id}/screenshot-request": perm("signage.manage"),
    "POST /signage/layouts": perm("signage.manage"),
    "PUT /signage/layouts/{layout_id}": perm("signage.manage"),
    "DELETE /signage/layouts/{layout_id}": perm("signage.manage"),
    "POST /signage/playlists": perm("signage.manage"),
    "PUT /signage/playlists/{playlist_id}": perm("signage.manage"),
    "POST /feedback/reports/{report_id}/assign": perm("feedback.handle"),
    "POST /feedback/reports/{report_id}/reroute": perm("feedback.handle"),
    "POST /feedback/reports/{report_id}/merge": perm("feedback.handle"),
    "POST /feedback/reports/{report_id}/answer": perm("feedback.handle"),
    "POST /feedback/reports/{report_id}/close": perm("feedback.handle"),
    "POST /feedback/reports/{report_id}/reopen": perm("feedback.handle"),
    "POST /training/staff": perm("training.manage"),
    "PATCH /training/staff/{staff_id}": perm("training.manage"),
    "POST /training/courses": perm("training.manage"),
    "POST /training/sessions": perm("training.manage"),
    "POST /training/sessions/{session_id}/attendance": perm("training.manage"),
    "POST /training/sessions/{session_id}/attendance/import": perm("training.manage"),
    "POST /planning/investments": perm("planning.manage"),
    # a commune proposes where its boards will stand; the province reviews
    "POST /planning/eboard-sites": perm("signage.manage"),
    "POST /planning/eboard-sites/{site_id}/review": perm("planning.manage"),
    "POST /planning/eboard-sites/{site_id}/board": perm("signage.manage"),
    "POST /planning/inspections": perm("planning.manage"),
    "POST /feedback/categories": Rule("feedback.handle", PROVINCE, why="binds every commune"),
    "PUT /feedback/categories/{category_id}": Rule("feedback.handle", PROVINCE),
    "DELETE /feedback/categories/{category_id}": Rule("feedback.handle", PROVINCE),
    "POST /feedback/holidays": Rule("feedback.handle", PROVINCE, why="working-day deadlines"),
    "PUT /feedback/holidays/{holiday_id}": Rule("feedback.handle", PROVINCE),
    "DELETE /feedback/holidays/{holiday_id}": Rule("feedback.handle", PROVINCE),
    "POST /feedback/holidays/import": Rule("feedback.handle", PROVINCE),
    "POST /exchange/inbox": Rule(kind=PUBLIC, why="another system: Ed25519-signed messages"),
    "POST /exchange/bulletins/{bulletin_id}/send": perm("exchange.manage"),
    "POST /exchange/peers": perm("exchange.manage"),
    "PATCH /exchange/peers/{peer}": perm("exchange.manage"),
    "DELETE /exchange/peers/{peer}": perm("exchange.manage"),
    "POST /exchange/peers/{peer}/keys": perm("exchange.manage"),
    "POST /exchange/peers/{peer}/keys/{key_id}/revoke": perm("exchange.manage"),
    "POST /exchange/peers/{peer}/retire": perm("exchange.manage"),
    # the outbox of a peer whose scope is COMMUNE_A (World.outbound)
    "POST /exchange/outbox/{message_id}/retry": perm("exchange.manage"),
    "POST /exchange/outbox/{message_id}/send-now": perm("exchange.manage"),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # without the /api/v1 prefix, as in RULES
    security: tuple[str, ...]  # auth schemes the OpenAPI document names
    body: dict | None  # the request body schema (resolved), if any
    content_type: str

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"


def write_routes() -> list[Route]:
    """Every POST/PUT/PATCH/DELETE operation of the mounted API, from its OpenAPI document."""
    from grassroots.config.api import api

    spec = api.get_openapi_schema(path_prefix=API_PREFIX)
    schemas = spec.get("components", {}).get("schemas", {})
    out = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if method not in WRITE_METHODS:
                continue
            security = tuple(sorted(k for s in op.get("security") or [] for k in s))
            body, ctype = None, "application/json"
            content = (op.get("requestBody") or {}).get("content", {})
            if content:
                ctype, media = next(iter(content.items()))
                body = _resolve(media.get("schema", {}), schemas)
            out.append(Route(method, path.removeprefix(API_PREFIX), security, body, ctype))
    return sorted(out, key=lambda r: r.key)


def _resolve(schema: dict, schemas: dict) -> dict:
    if "$ref" in schema:
        return schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


# --- the world every caller meets ------------------------------------------------------------


class World:
    """Objects of every kind in COMMUNE_A (and a few around it), made through the actions."""

    def __init__(self, users: dict):
        from grassroots.accounts.models import RoleAssignment
        from grassroots.alerts import actions as emergency
        from grassroots.broadcast import actions as broadcast
        from grassroots.broadcast.models import Proposal, RelaySource
        from grassroots.broadcast.tests.factories import schedule_body, station
        from grassroots.content.models import BulletinShare
        from grassroots.content.tests.conftest import make_bulletin
        from grassroots.devices.tests.factories import DeviceFactory
        from grassroots.feedback.tests.helpers import make_report
        from grassroots.signage import actions as signage
        from grassroots.signage.tests.helpers import paired_board

        self.users = users
        a = unit(COMMUNE_A)
        station(COMMUNE_A), station(COMMUNE_B)
        self.speaker = DeviceFactory(unit=a, station=station(COMMUNE_A))
        self.board_cred = paired_board(COMMUNE_A)
        self.board_id = self.board_cred["device"]
        from . import device_token

        self.device_token = device_token(self.speaker)
        self.bulletin = make_bulletin(COMMUNE_A, title="Bản nháp của xã", by=users["operator"])
        published = make_bulletin(
            "33", status="published", title="Tin tỉnh gửi xã", targets=[COMMUNE_A]
        )
        self.share = BulletinShare.objects.filter(bulletin=published, unit=a).first()
        body = schedule_body(COMMUNE_A)
        self.item, _ = broadcast.create_item(
            user=users["operator"],
            unit=a,
            data=broadcast.ItemData(
                title=body["title"],
                priority="normal",
                kind="bulletin",
                starts_at=_aware(body["starts_at"]),
                duration_seconds=600,
                media=body["media"],
            ),
        )
        province = schedule_body("33", title="Tỉnh đề xuất", priority="normal")
        broadcast.create_item(
            user=users["admin"],
            unit=unit("33"),
            targets=[a],
            data=broadcast.ItemData(
                title=province["title"],
                priority="normal",
                kind="bulletin",
                starts_at=_aware(province["starts_at"]),
                duration_seconds=600,
                media=province["media"],
            ),
        )
        self.proposal = Proposal.objects.filter(station__unit=a).first()
        self.emergency = emergency.start(
            user=users["operator"], unit_codes=[COMMUNE_A], title="Khẩn", text="Sơ tán"
        )
        from grassroots.live.models import LiveSession

        self.live = LiveSession.objects.create(
            unit=a,
            title="Trực tiếp",
            speaker=users["operator"],
            mount="/live/matrix.ogg",
            until=_aware("2099-01-01T00:00:00+07:00"),
        )
        self.live.area.set([a])
        self.source = RelaySource.objects.create(
            unit=unit("33"), name="VOV1", url="https://stream.example/vov1.ogg"
        )
        self.report = make_report(COMMUNE_A)
        self.other_report = make_report(COMMUNE_A, text="Đèn đường hỏng")
        self.playlist = signage.save_playlist(user=users["operator"], unit=a, data={"name": "Sáng"})
        self.assignment = RoleAssignment.objects.get(user=users["operator"], role__slug="operator")
        self.layout = signage.save_layout(user=users["operator"], unit=a, data={"name": "Sảnh"})
        from grassroots.content import actions as content

        steps = [{"role": "approver", "level": "owner"}]
        self.chain = content.set_chain(user=users["admin"], unit=a, steps=steps)
        from grassroots.feedback.models import Category, Holiday

        self.category = Category.objects.order_by("pk").first()
        self.holiday = Holiday.objects.order_by("pk").first()
        from grassroots.accounts.models import ApiToken

        self.operator_token_id = ApiToken.objects.issue(user=users["operator"], name="other")[0].pk
        self._training_and_planning(a)
        self._exchange(a)

    def _exchange(self, a) -> None:
        """A peer scoped to COMMUNE_A with one key, a message to it waiting in back-off (Gửi
        ngay) and a failed one (Gửi lại); and a key for a new peer (valid bodies)."""
        from datetime import timedelta

        from django.utils import timezone

        from grassroots.exchange import outbound
        from grassroots.exchange.choices import Kind
        from grassroots.exchange.models import OutboundMessage, Peer, PeerKey
        from grassroots.exchange.tests.helpers import Remote, bulletin_body, public_b64

        remote = Remote(code="matrix-peer")
        self.peer = Peer.objects.create(code=remote.code, name="Ngang hàng", unit=a,
                                        url="https://peer.invalid")  # fmt: skip
        self.peer_key = PeerKey.objects.create(
            peer=self.peer, kid=remote.kid(), public_key=public_b64(remote.key)
        )
        self.new_remote = Remote(code="matrix-new")
        # real signed messages (a retry re-signs one signed before a key rotation)
        [self.outbound] = outbound.emit(peers=[self.peer], kind=Kind.BULLETIN, message_id="m-1",
                                        body=bulletin_body(), title="Tin m-1")  # fmt: skip
        OutboundMessage.objects.filter(pk=self.outbound.pk).update(
            attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5)
        )
        [self.failed_outbound] = outbound.emit(peers=[self.peer], kind=Kind.BULLETIN,
                                               message_id="m-2", body=bulletin_body(),
                                               title="Tin m-2")  # fmt: skip
        OutboundMessage.objects.filter(pk=self.failed_outbound.pk).update(
            status="failed", attempts=12, last_error="không kết nối được", error_kind="connect"
        )

    def _training_and_planning(self, a) -> None:
        from datetime import date

        from grassroots.planning.models import EboardSite
        from grassroots.training.models import Course, Session, StaffMember

        self.staff = StaffMember.objects.create(
            unit=a, full_name="Nguyễn Thị Hoa", position="station_staff"
        )
        self.course = Course.objects.create(unit=a, title="Biên tập tin bài", topics=["editing"])
        self.session = Session.objects.create(
            course=self.course,
            starts_on=date(2026, 3, 5),
            ends_on=date(2026, 3, 6),
            place="Hội trường UBND phường",
            trainer="ThS. Nguyễn Văn Bình",
            hours=16,
        )
        self.site = EboardSite.objects.create(unit=a, address="Chợ Phố Hiến", reason="Đông người")
        self.station_a = self.item.stations.first() or station_of(a)

    def param(self, route: Route, name: str, caller: str) -> Any:
        if name == "device_id":
            return self.board_id if route.path.startswith("/boards/") else self.speaker.pk
        if name == "session_id" and route.path.startswith("/live/"):
            return self.live.pk
        if name == "token_id":
            return self.operator_token_id
        values = {
            "bulletin_id": self.bulletin.pk,
            "share_id": self.share.pk if self.share else 0,
            "unit_code": COMMUNE_A,
            "code": COMMUNE_A,
            "item_id": self.item.pk,
            "proposal_id": self.proposal.pk if self.proposal else 0,
            "source_id": self.source.pk,
            "emergency_id": self.emergency.pk,
            "report_id": self.report.pk,
            "playlist_id": self.playlist.pk,
            "layout_id": self.layout.pk,
            "category_id": self.category.pk,
            "holiday_id": self.holiday.pk,
            "user_id": self.users["operator"].pk,
            "assignment_id": self.assignment.pk,
            "staff_id": self.staff.pk,
            "session_id": self.session.pk,
            "site_id": self.site.pk,
            "peer": self.peer.code,
            "key_id": self.peer_key.pk,
            "message_id": (
                self.failed_outbound.pk if route.path.endswith("/retry") else self.outbound.pk
            ),
        }
        return values[name]

    def url(self, route: Route, caller: str) -> str:
        path = re.sub(
            r"\{(\w+)\}", lambda m: str(self.param(route, m.group(1), caller)), route.path
        )
        return API_PREFIX + path

    def body(self, route: Route) -> Any:
        if route.key in BODIES:
            value = BODIES[route.key]
            return value(self) if callable(value) else value
        return minimal_body(route.body) if route.body else None


def station_of(unit_obj):
    from grassroots.broadcast.models import Station

    return Station.objects.get(unit=unit_obj)


def _aware(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def minimal_body(schema: dict) -> dict:
    """A body with every required field, typed from the schema (for routes with no entry)."""
    out: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema.get("properties", {}).get(name, {})
        kinds = {prop.get("type")} | {s.get("type") for s in prop.get("anyOf", [])}
        if "integer" in kinds or "number" in kinds:
            out[name] = 1
        elif "boolean" in kinds:
            out[name] = False
        elif "array" in kinds:
            out[name] = []
        elif "object" in kinds:
            out[name] = {}
        else:
            out[name] = "x"
    return out


def _entry(world: World) -> dict:
    return {
        "entries": [
            {
                "id": "3f0c8a52-7d1e-4d4b-9a41-2b1f7c3d9e10",
                "item": f"s{world.item.pk}-20261201T0700",
                "started_at": "2026-12-01T07:00:00+07:00",
                "status": "played",
            }
        ]
    }


def _new_peer(world: World) -> dict:
    from grassroots.exchange.tests.helpers import public_b64

    remote = world.new_remote
    return {
        "code": remote.code,
        "name": "Hệ thống mới",
        "url": "https://new.invalid",
        "unit_code": COMMUNE_A,
        "public_key": public_b64(remote.key),
        "kid": remote.kid(),
    }


def _new_key(world: World) -> dict:
    from grassroots.exchange.tests.helpers import public_b64

    return {"public_key": public_b64(world.new_remote.key), "kid": world.new_remote.kid()}


# Bodies that pass validation, so the permission check (not a 422) answers.
BODIES: dict[str, Any] = {
    "POST /exchange/peers": _new_peer,
    "POST /exchange/peers/{peer}/keys": _new_key,
    "PATCH /exchange/peers/{peer}": {"pull": False},
    "POST /users": {"username": "nguoimoi", "password": "mat-khau-dai-123!", "unit_code": "11953"},
    "POST /users/{user_id}/assignments": {"role": "viewer", "unit_code": COMMUNE_A},
    "POST /bulletins": {"unit_code": COMMUNE_A, "title": "Tin mới"},
    "POST /bulletins/tts/preview": {"text": "UBND xã thông báo", "audio": True},
    "PUT /bulletins/approval-chains/{unit_code}": {"name": "Một bước", "steps": []},
    "PATCH /bulletins/{bulletin_id}": {"title": "Sửa tiêu đề"},
    "POST /schedules": lambda w: __import__(
        "grassroots.broadcast.tests.factories", fromlist=["schedule_body"]
    ).schedule_body(COMMUNE_A),
    "PATCH /schedules/{item_id}": {"title": "Đổi tên"},
    "PUT /schedules/{item_id}/rank": {"rank": 1},
    "POST /proposals/{proposal_id}/place": {},
    "POST /proposals/{proposal_id}/decline": {"note": "Không phát"},
    "PUT /usage-policies/{code}": {"max_sessions_per_day": 3},
    "POST /relay-sources": {"unit": COMMUNE_A, "name": "VOV2", "url": "https://s.example/v2"},
    "PATCH /relay-sources/{source_id}": {"name": "VOV1 mới", "url": "https://s.example/v1b"},
    "POST /emergencies": {"units": [COMMUNE_A], "title": "Bão", "text": "Vào nhà"},
    "POST /live": {"units": [COMMUNE_A], "title": "Thông báo", "priority": "normal"},
    "POST /devices/{device_id}/commands": {"type": "volume.set", "volume": 50},
    "PATCH /devices/{device_id}": {"volume": 40},
    "POST /devices/{device_id}/asrun": _entry,
    "POST /boards/pair": {"code": "ABCD2345", "unit": COMMUNE_A},
    "POST /boards/{device_id}/state": {"status": "online"},
    "POST /boards/{device_id}/proofs": {"entries": []},
    "PATCH /boards/{device_id}": {"auto_unit_bulletins": True},
    "POST /signage/layouts": {"unit": COMMUNE_A, "name": "Bố cục"},
    "PUT /signage/layouts/{layout_id}": {"name": "Sảnh mới"},
    "POST /signage/playlists": {"unit": COMMUNE_A, "name": "Chiều"},
    "PUT /signage/playlists/{playlist_id}": {"name": "Sáng sớm"},
    "POST /feedback/reports/{report_id}/assign": {"assignee": "operator"},
    "POST /feedback/reports/{report_id}/reroute": {"unit_code": COMMUNE_B, "reason": "Sai xã"},
    "POST /feedback/reports/{report_id}/merge": lambda w: {"into_id": w.other_report.pk},
    "POST /feedback/reports/{report_id}/answer": {"public_answer": "Đã xử lý xong."},
    "POST /feedback/reports/{report_id}/close": {"resolution": "resolved"},
    "POST /feedback/reports/{report_id}/reopen": {"reason": "Chưa xử lý"},
    "POST /training/staff": {"unit": COMMUNE_A, "full_name": "Trần Văn Nam", "position": "other"},
    "PATCH /training/staff/{staff_id}": {"job_title": "Cán bộ đài"},
    "POST /training/courses": {"unit": COMMUNE_A, "title": "Viết tin", "topics": ["news_writing"]},
    "POST /training/sessions": lambda w: {
        "course": w.course.pk,
        "starts_on": "2026-04-02",
        "place": "Hội trường",
        "trainer": "ThS. Bình",
        "hours": 8,
    },
    "POST /training/sessions/{session_id}/attendance": lambda w: {
        "staff": w.staff.pk,
        "result": "passed",
    },
    "POST /planning/investments": {
        "unit": COMMUNE_A,
        "year": 2026,
        "purpose": "eboard",
        "source": "socialised",
        "title": "Bảng tin chợ",
        "planned_amount": 150000000,
    },
    "POST /planning/eboard-sites": {"unit": COMMUNE_A, "address": "Nhà văn hóa", "reason": "Gần"},
    "POST /planning/eboard-sites/{site_id}/review": {"approve": True, "note": "Phù hợp"},
    "POST /planning/eboard-sites/{site_id}/board": lambda w: {"board": w.board_id},
    "POST /planning/inspections": lambda w: {
        "station": w.station_a.pk,
        "kind": "periodic",
        "inspected_on": "2026-11-10",
        "inspector": "Đoàn kiểm tra",
        "period_start": "2026-11-01",
        "period_end": "2026-11-07",
    },
    "POST /feedback/categories": {"code": "moi", "name": "Mới", "deadline_working_days": 5},
    "PUT /feedback/categories/{category_id}": {"name": "Đổi tên"},
    "POST /feedback/holidays": {"date": "2027-03-09", "name": "Nghỉ bù"},
    "PUT /feedback/holidays/{holiday_id}": {"date": "2026-01-01", "name": "Tết"},
    "POST /feedback/holidays/import": {"year": 2027},
}


# --- who calls, what is expected -------------------------------------------------------------


def holds(caller: str, permission: str) -> bool:
    """Whether a demo user holds the permission at all: their built-in role, or a right the
    province granted them (the demo grants `operator` the emergency right on Phố Hiến)."""
    if caller not in ROLE_OF:
        return False
    if permission in DEFAULT_ROLE_PERMISSIONS[ROLE_OF[caller]]:
        return True
    from grassroots.accounts.models import User
    from grassroots.accounts.scope import has_perm_anywhere

    user = User.objects.filter(username=caller).first()
    return bool(user and has_perm_anywhere(user, permission))


def covers_commune_a(caller: str) -> bool:
    return HOME.get(caller, COMMUNE_A) == COMMUNE_A


def expectation(rule: Rule, caller: str) -> str:
    """'allow' (the gate lets it through) or 'deny' (refused, nothing written)."""
    if rule.kind == DEVICE:
        return "allow" if caller == "device" else "deny"
    if rule.kind == BOARD:
        return "allow" if caller == "board" else "deny"
    if caller in ("device", "board"):
        return "deny"
    if rule.kind == SELF:
        return "allow" if caller == "operator" else "deny"  # the token is the operator's
    if rule.kind == PROVINCE:
        return "allow" if holds(caller, rule.permission) and caller not in HOME else "deny"
    if holds(caller, rule.permission) and (rule.kind == ANYWHERE or covers_commune_a(caller)):
        return "allow"
    return "deny"


def headers_for(caller: str, world: World) -> dict:
    if caller == "device":
        token = world.device_token
    elif caller == "board":
        token = world.board_cred["token"]
    else:
        token = token_for(world.users[caller])
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def fingerprint() -> dict[str, int]:
    """Row counts of every model of the project, audit, outbox and task tables included."""
    counts = {}
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label in ("sessions", "axes", "admin", "contenttypes", "auth"):
            continue
        if label in ("accounts.ApiToken",):  # each call issues the caller's own token
            continue
        counts[label] = model._default_manager.count()
    return counts


def send(client, route: Route, world: World, caller: str):
    """One call as `caller`; returns (status, changed model labels), all rolled back after."""
    body = world.body(route)
    with transaction.atomic():
        headers = headers_for(caller, world)
        before = fingerprint()
        if route.content_type.startswith("multipart/"):
            from django.core.files.uploadedfile import SimpleUploadedFile

            data = dict(body or {})
            data["file"] = SimpleUploadedFile("tep.mp3", b"ID3" + b"\0" * 64, "audio/mpeg")
            response = client.generic(
                route.method.upper(),
                world.url(route, caller),
                _multipart_payload(client, data),
                content_type="multipart/form-data; boundary=BoUnDaRyStRiNg",
                **headers,
            )
        else:
            kwargs = {}
            if body is not None:
                kwargs = {"data": json.dumps(body), "content_type": "application/json"}
            response = client.generic(
                route.method.upper(), world.url(route, caller), **kwargs, **headers
            )
        after = fingerprint()
        changed = sorted(k for k in after if after[k] != before.get(k))
        transaction.set_rollback(True)
    return response, changed


def _multipart_payload(client, data: dict) -> bytes:
    from django.test.client import encode_multipart

    return encode_multipart("BoUnDaRyStRiNg", data)


# --- console POST views ----------------------------------------------------------------------

# Public pages (citizens, the board player, Open311 with its own keys) and the session pages.
CONSOLE_SKIP_PREFIXES = ("api/", "admin/", "i18n/", "static", "phan-anh/", "board/", "open311/")
CONSOLE_SKIP_NAMES = {"login", "logout", "healthz", "readyz", "media-asset"}
# Values for slug segments that pick an action inside one view.
SLUG_VALUES = {
    "name": ["gui-duyet", "duyet", "yeu-cau-sua", "xuat-ban", "thu-hoi", "luu-tru"],
    "action": ["giao", "chuyen", "gop", "tra-loi", "dong", "mo-lai", "khoi-phuc"],
}


def console_routes() -> list[tuple[str, str]]:
    """(route pattern, name) of every console page, from the URL configuration."""
    from django.urls import URLResolver, get_resolver

    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from walk(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p.name

    return [
        (route, name)
        for route, name in walk(get_resolver())
        if not route.lstrip("^").startswith(CONSOLE_SKIP_PREFIXES)
        and name not in CONSOLE_SKIP_NAMES
    ]


def console_urls(world: World) -> list[str]:
    """Every console URL with its ids filled from the world (one URL per action slug)."""
    ids = {
        "user_id": world.users["operator"].pk,
        "assignment_id": world.assignment.pk,
        "share_id": world.share.pk if world.share else 0,
        "asset_id": 0,
        "bulletin_id": world.bulletin.pk,
        "station_id": world.item.stations.first().pk if world.item.stations.exists() else 0,
        "emergency_id": world.emergency.pk,
        "playlist_id": world.playlist.pk,
        "report_id": world.report.pk,
        "task_id": "x",
        "item_id": world.item.pk,
        "staff_id": world.staff.pk,
        "session_id": world.session.pk,
        "site_id": world.site.pk,
        "source_id": world.source.pk,
        "layout_id": world.layout.pk,
        "category_id": world.category.pk,
        "holiday_id": world.holiday.pk,
        "unit_code": COMMUNE_A,
        "message_id": world.outbound.pk,
    }
    out = []
    for route, _name in console_routes():
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        choices = [[]]
        for param in params:
            if param == "device_id":
                value = world.board_id if route.startswith("bang-tin") else world.speaker.pk
                choices = [c + [(param, value)] for c in choices]
            elif param in SLUG_VALUES:
                choices = [c + [(param, v)] for c in choices for v in SLUG_VALUES[param]]
            else:
                # a parameter the world has no object for gets 0 (a 404 writes nothing either)
                choices = [c + [(param, ids.get(param, 0))] for c in choices]
        for choice in choices:
            url = route
            for param, value in choice:
                url = re.sub(r"<(?:\w+:)?" + param + ">", str(value), url)
            out.append("/" + url)
    return out


def console_form_data(world: World) -> dict:
    """Every field name the templates use, with a plausible value: the buttons of every form."""
    return {
        "action": "volume.set",
        "volume": "50",
        "screenshot": "1",
        "revoke": "1",
        "layout": "",
        "auto": "on",
        "unit": COMMUNE_A,
        "unit_code": COMMUNE_A,
        "units": COMMUNE_A,
        "role": "viewer",
        "role_id": "1",
        "permissions": "content.view",
        "title": "Tiêu đề",
        "text": "Nội dung",
        "name": "Tên",
        "assignee": "operator",
        "into": str(world.other_report.pk),
        "reason": "Lý do",
        "comment": "Ghi chú",
        "status": "resolved",
        "stars": "5",
        "priority": "normal",
        "kind": "audio",
        "repeat": "1",
        "expires": "30",
        "username": "nguoimoi",
        "password": "mat-khau-dai-123!",
        "active": "on",
        "useful": "1",
        "category": "",
        "order": "1",
        "url": "https://s.example/v3",
        # the editors of approval chains, layouts, report categories and holidays
        "order-0": "1",
        "role-0": "approver",
        "level-0": "owner",
        "name-0": "Bước",
        "don-vi": COMMUNE_A,
        "detach": "1",
        "code": "ma-moi",
        "deadline_working_days": "5",
        "escalation_working_days": "2",
        "is_active": "on",
        "date": "2027-03-09",
        "nam": "2027",
        "dates": "2027-02-06",
        "text_scale": "100",
        "default_duration": "20",
        # the yearly report's pages pick their action by `op`: open a unit's report here
        "op": "mo",
        "fmt": "pdf",
    }
