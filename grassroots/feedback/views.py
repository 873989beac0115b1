"""Pages: the citizen app at /phan-anh/ and the officer console at /xu-ly-phan-anh/."""

from __future__ import annotations

import json
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST

from grassroots.accounts.models import User
from grassroots.accounts.policies import require
from grassroots.accounts.scope import has_perm_anywhere
from grassroots.units.models import Unit

from . import actions, geo, ratelimit
from .choices import Channel, ReportStatus, Resolution
from .forms import AnswerForm, CitizenReportForm, CloseForm, RatingForm
from .models import BulletinRating, Open311Key, Photo, Report
from .policies import HANDLE, VIEW, handlers_of, visible_report

# --- citizen app ---------------------------------------------------------------------------------


def client_ip(request) -> str:
    """The client address as the WSGI server saw it (set the proxy to pass the real one)."""
    return request.META.get("REMOTE_ADDR", "") or ""


def _communes():
    return geo.communes().only("code", "name")


@never_cache
def citizen_home(request):
    """The report form; POST stores the report and shows its tracking code."""
    status = 200
    page_error = ""
    retry_after = 0
    if request.method == "POST":
        form = CitizenReportForm(request.POST, request.FILES)
        if form.is_bot:
            form = CitizenReportForm()
            page_error = "Không gửi được phản ánh. Hãy tải lại trang rồi thử lại."
            status = 400
        elif not (allowed := ratelimit.check("ip", client_ip(request)))[0]:
            minutes = max(1, (allowed[1] + 59) // 60)
            page_error = (
                f"Bạn đã gửi nhiều phản ánh trong thời gian ngắn. Hãy đợi khoảng {minutes} phút "
                "rồi gửi tiếp; các phản ánh đã gửi vẫn được lưu."
            )
            status = 429
            retry_after = allowed[1]
        elif form.is_valid():
            phone = form.cleaned_data["phone"]
            if phone and not ratelimit.hit("phone", phone):
                form.add_error(
                    "phone",
                    "Số điện thoại này đã gửi nhiều phản ánh trong thời gian ngắn; "
                    "hãy thử lại sau một giờ.",
                )
                status = 429
            else:
                data = form.cleaned_data
                lat, lon = data.get("latitude"), data.get("longitude")
                if data["share_location"] and lat is None:
                    located = [p for p in form.processed_photos if p.latitude is not None]
                    if located:
                        lat, lon = located[0].latitude, located[0].longitude
                report = actions.submit_report(
                    category=data["category"],
                    text=data["text"],
                    unit=form.unit,
                    photos=form.processed_photos,
                    latitude=lat,
                    longitude=lon,
                    share_location=data["share_location"],
                    address=data["address"],
                    name=data["name"],
                    phone=phone,
                    email=data["email"],
                    channel=Channel.WEB,
                    ip=client_ip(request) or None,
                )
                return redirect(reverse("feedback-track", args=[report.tracking_code]) + "?moi=1")
        else:
            status = 400
    else:
        form = CitizenReportForm()
    response = render(
        request,
        "feedback/citizen/form.html",
        {
            "form": form,
            "communes": _communes(),
            "max_text": actions.MAX_TEXT,
            "page_error": page_error,
        },
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _normalise_code(code: str) -> str:
    code = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if code.startswith("PA") and len(code) == 10:
        return f"PA-{code[2:6]}-{code[6:]}"
    return code


MISS_LIMIT = "Bạn đã tra cứu sai mã nhiều lần. Hãy kiểm tra lại mã theo dõi và thử lại sau một giờ."


def citizen_lookup(request):
    """Find a report by its tracking code; repeated misses from one address are slowed down."""
    code = request.GET.get("ma", "").strip()[:30]
    error = ""
    status = 200
    if code and ratelimit.blocked("lookup_miss", client_ip(request)):
        error, status = MISS_LIMIT, 429
    elif code:
        normal = _normalise_code(code)
        if Report.objects.public().filter(tracking_code=normal).exists():
            return redirect("feedback-track", normal)
        if ratelimit.hit("lookup_miss", client_ip(request)):
            error = (
                "Không tìm thấy phản ánh với mã này. "
                "Hãy kiểm tra lại mã theo dõi (dạng PA-XXXX-XXXX)."
            )
            status = 404
        else:
            error, status = MISS_LIMIT, 429
    return render(
        request, "feedback/citizen/lookup.html", {"code": code, "error": error}, status=status
    )


class TooManyMisses(Exception):
    """This address guessed too many tracking codes; it must wait before looking up more."""


def _too_many_misses(request):
    response = render(
        request, "feedback/citizen/lookup.html", {"code": "", "error": MISS_LIMIT}, status=429
    )
    response["Retry-After"] = "600"
    return response


def _citizen_report(request, code: str) -> Report:
    """The public report with this tracking code; direct addresses are limited like the form
    (a guessable URL: every miss counts, and a blocked address sees no report at all)."""
    if ratelimit.blocked("lookup_miss", client_ip(request)):
        raise TooManyMisses
    report = (
        Report.objects.public()
        .select_related("category", "unit", "origin_unit", "merged_into")
        .filter(tracking_code=_normalise_code(code))
        .first()
    )
    if report is None:
        ratelimit.hit("lookup_miss", client_ip(request))
        raise Http404
    return report


@never_cache
def citizen_track(request, code):
    """Status, timeline and answer of one report; the rating form once answered."""
    try:
        report = _citizen_report(request, code)
    except TooManyMisses:
        return _too_many_misses(request)
    events = report.events.filter(public=True).select_related("to_unit")
    return render(
        request,
        "feedback/citizen/track.html",
        {
            "report": report,
            "events": events,
            "photos": report.photos.all(),
            "rating": actions.already_rated(report),
            "rating_form": RatingForm(),
            "just_sent": request.GET.get("moi") == "1",
        },
    )


@require_POST
def citizen_rate(request, code):
    """The citizen rates the answer (whoever holds the tracking code)."""
    try:
        report = _citizen_report(request, code)
    except TooManyMisses:
        return _too_many_misses(request)
    form = RatingForm(request.POST)
    if not ratelimit.hit("rating", client_ip(request)):
        messages.error(request, "Bạn đánh giá quá nhiều lần; hãy thử lại sau.")
    elif form.is_valid():
        try:
            actions.rate(
                report=report,
                stars=form.cleaned_data["stars"],
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, "Cảm ơn bạn đã đánh giá!")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Hãy chọn số sao (1 đến 5) trước khi gửi đánh giá.")
    return redirect("feedback-track", report.tracking_code)


@cache_control(private=True, max_age=3600)
def citizen_photo(request, token):
    """A report photo by its unguessable token; never for reports hidden for abuse."""
    photo = (
        Photo.objects.select_related("report")
        .exclude(report__resolution=Resolution.HIDDEN_ABUSE)
        .filter(token=token[:40])
        .first()
    )
    if photo is None:
        raise Http404
    return FileResponse(photo.image.open("rb"), content_type="image/jpeg")


def _bulletin_title(bulletin_id: int) -> str:
    """The bulletin's title when the content app has one (no hard dependency on it)."""
    try:
        from django.apps import apps

        model = apps.get_model("content", "Bulletin")
        obj = model.objects.filter(pk=bulletin_id).first()
        return str(getattr(obj, "title", "") or obj or "") if obj else ""
    except Exception:  # noqa: BLE001 - the content app may not have the model yet
        return ""


@never_cache
def bulletin_rate(request, bulletin_id: int):
    """Useful / not useful on a bulletin, one vote per browser (voting again changes it)."""
    voted = None
    response_status = 200
    if request.method == "POST":
        choice = request.POST.get("useful")
        if choice not in ("1", "0"):
            messages.error(request, "Hãy chọn “Hữu ích” hoặc “Chưa hữu ích”.")
            response_status = 400
        elif not ratelimit.hit("rating", client_ip(request)):
            messages.error(request, "Bạn đánh giá quá nhiều lần; hãy thử lại sau.")
            response_status = 429
        else:
            vote = actions.rate_bulletin(
                bulletin_id=bulletin_id,
                fingerprint=actions.voter_fingerprint(request),
                useful=choice == "1",
            )
            voted = vote.useful
            messages.success(request, "Cảm ơn bạn đã đánh giá bản tin!")
    counts = BulletinRating.objects.filter(bulletin_id=bulletin_id).aggregate(
        n_useful=Count("id", filter=Q(useful=True)),
        n_not_useful=Count("id", filter=Q(useful=False)),
    )
    response = render(
        request,
        "feedback/citizen/bulletin.html",
        {
            "bulletin_id": bulletin_id,
            "title": _bulletin_title(bulletin_id),
            "voted": voted,
            "counts": counts,
        },
        status=response_status,
    )
    if not request.COOKIES.get("gr_voter"):
        response.set_cookie(
            "gr_voter",
            secrets.token_urlsafe(16),
            max_age=3 * 365 * 86400,
            httponly=True,
            samesite="Lax",
            path="/phan-anh/",
        )
    return response


def manifest(request):
    """The web app manifest: installable, standalone, scoped to /phan-anh/."""
    data = {
        "name": "Phản ánh, kiến nghị — Hưng Yên",
        "short_name": "Phản ánh",
        "description": "Gửi phản ánh, kiến nghị đến chính quyền xã, phường và theo dõi trả lời.",
        "lang": "vi",
        "start_url": "/phan-anh/",
        "scope": "/phan-anh/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#a4161a",
        "icons": [
            {"src": static("feedback/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("feedback/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    return HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )


SERVICE_WORKER = """// grassroots citizen app: keeps the shell for a weak network.
const CACHE = "phan-anh-v1";
const SHELL = ["/phan-anh/", "/phan-anh/theo-doi/", %(assets)s];
self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys().then((keys) =>
    Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))
  ).then(() => self.clients.claim()));
});
self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;  // reports always go to the server
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    e.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
    return;
  }
  e.respondWith(fetch(req).catch(() =>
    caches.match(req).then((hit) => hit || caches.match("/phan-anh/"))
  ));
});
"""


def service_worker(request):
    """The service worker, served from /phan-anh/ so its scope is the citizen app."""
    assets = ", ".join(
        json.dumps(static(p))
        for p in (
            "vendor/bootstrap/bootstrap.min.css",
            "feedback/citizen.js",
            "feedback/icon-192.png",
        )
    )
    response = HttpResponse(
        SERVICE_WORKER % {"assets": assets}, content_type="application/javascript"
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/phan-anh/"
    return response


# --- officer console -----------------------------------------------------------------------------


def _inbox_qs(user):
    return Report.objects.restrict(user, VIEW).select_related(
        "category", "unit", "origin_unit", "assignee"
    )


@login_required
def inbox(request):
    """Reports of the officer's units, open first, with the deadline in sight."""
    require(request.user, VIEW)
    qs = _inbox_qs(request.user)
    state = request.GET.get("trang-thai", "mo")
    if state == "mo":
        qs = qs.open()
    elif state in ReportStatus.values:
        qs = qs.filter(status=state)
    if request.GET.get("qua-han"):
        qs = qs.overdue()
    unit_code = request.GET.get("don-vi", "").strip()[:16]
    if unit_code:  # handled by or sent from the unit or a unit under it
        chosen = Unit.objects.filter(code=unit_code, valid_to__isnull=True).first()
        path = chosen.path if chosen else "-"
        qs = qs.filter(Q(unit__path__startswith=path) | Q(origin_unit__path__startswith=path))
    q = request.GET.get("q", "").strip()[:100]
    if q:
        qs = qs.filter(Q(tracking_code__icontains=q) | Q(text__icontains=q))
    qs = qs.order_by("due_at") if state == "mo" else qs
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = _inbox_qs(request.user).aggregate(
        open=Count("id", filter=Q(status__in=ReportStatus.open_states())),
        overdue=Count(
            "id",
            filter=Q(status__in=ReportStatus.open_states(), due_at__lt=timezone.now()),
        ),
        hidden=Count("id", filter=Q(resolution=Resolution.HIDDEN_ABUSE)),
    )
    return render(
        request,
        "feedback/console/inbox.html",
        {
            "page": page,
            "state": state,
            "states": ReportStatus.choices,
            "overdue_only": bool(request.GET.get("qua-han")),
            "unit_code": unit_code,
            "q": q,
            "counts": counts,
            "now": timezone.now(),
            "can_keys": has_perm_anywhere(request.user, "accounts.manage"),
        },
    )


@login_required
def moderation(request):
    """Reports hidden for abuse: kept, never public, restorable."""
    require(request.user, HANDLE)
    qs = (
        Report.objects.restrict(request.user, HANDLE)
        .filter(resolution=Resolution.HIDDEN_ABUSE)
        .select_related("category", "unit")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "feedback/console/moderation.html", {"page": page})


@login_required
def detail(request, report_id: int):
    """One report with its timeline and, for handlers, the action forms."""
    report = visible_report(request.user, report_id)
    can_handle = Report.objects.restrict(request.user, HANDLE).filter(pk=report.pk).exists()
    ancestors = (
        [u for u in report.unit.ancestors() if has_unit_perm(request.user, u)] if can_handle else []
    )
    return render(
        request,
        "feedback/console/detail.html",
        {
            "report": report,
            "events": report.events.select_related("user", "from_unit", "to_unit"),
            "photos": report.photos.all(),
            "ratings": report.ratings.all(),
            "can_handle": can_handle,
            "officers": handlers_of(report.unit) if can_handle else [],
            # always empty: the answer already sent is shown above, never re-sent by accident
            "answer_form": AnswerForm(),
            "close_form": CloseForm(),
            "reroute_units": Unit.objects.current()
            .filter(Q(pk__in=[u.pk for u in ancestors]) | Q(pk__in=_communes().values("pk")))
            .exclude(pk=report.unit_id)
            if can_handle
            else [],
            "now": timezone.now(),
        },
    )


def has_unit_perm(user, unit) -> bool:
    """Whether the user handles feedback on this unit."""
    from grassroots.accounts.scope import covers

    return covers(user, HANDLE, unit)


@login_required
@require_POST
def act(request, report_id: int, action: str):
    """One officer action from the detail page; the rules live in actions.py."""
    report = visible_report(request.user, report_id, HANDLE)
    post = request.POST
    try:
        if action == "giao":
            raw = post.get("assignee", "")
            assignee = User.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if assignee is None:
                raise ValidationError("Hãy chọn cán bộ xử lý.")
            actions.assign(report=report, user=request.user, assignee=assignee)
            messages.success(request, f"Đã giao cho {assignee}.")
        elif action == "chuyen":
            unit = Unit.objects.filter(
                code=post.get("unit_code", ""), valid_to__isnull=True
            ).first()
            if unit is None:
                raise ValidationError("Hãy chọn đơn vị nhận.")
            actions.reroute(
                report=report, user=request.user, unit=unit, reason=post.get("reason", "")
            )
            messages.success(request, f"Đã chuyển đến {unit.name}.")
        elif action == "gop":
            into = (
                Report.objects.restrict(request.user, HANDLE)
                .filter(tracking_code=_normalise_code(post.get("into", "")))
                .first()
            )
            if into is None:
                raise ValidationError("Không tìm thấy phản ánh gốc trong phạm vi của bạn.")
            actions.merge(report=report, into=into, user=request.user)
            messages.success(request, f"Đã gộp vào {into.tracking_code}.")
        elif action == "tra-loi":
            form = AnswerForm(post)
            if not form.is_valid():
                raise ValidationError("Trả lời chưa hợp lệ.")
            data = form.cleaned_data
            sent = (report.public_answer or "").strip(), (report.private_answer or "").strip()
            posted = (
                (data.get("public_answer") or "").strip(),
                (data.get("private_answer") or "").strip(),
            )
            if any(sent) and posted == sent:  # a double click or a resent form
                raise ValidationError("Trả lời này đã được gửi rồi; không gửi lại lần nữa.")
            actions.answer(report=report, user=request.user, **form.cleaned_data)
            messages.success(request, "Đã gửi trả lời.")
        elif action == "dong":
            form = CloseForm(post)
            if not form.is_valid():
                raise ValidationError("Hãy chọn kết quả xử lý.")
            actions.close(report=report, user=request.user, **form.cleaned_data)
            messages.success(request, "Đã đóng phản ánh.")
        elif action == "mo-lai":
            actions.reopen(report=report, user=request.user, reason=post.get("reason", "") or "")
            messages.success(request, "Đã mở lại phản ánh.")
        elif action == "khoi-phuc":
            actions.restore(report=report, user=request.user)
            messages.success(request, "Đã khôi phục phản ánh.")
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "Bạn không có quyền làm việc này.")
    if Report.objects.restrict(request.user, VIEW).filter(pk=report.pk).exists():
        return redirect("feedback-detail", report.pk)
    return redirect("feedback-inbox")


@login_required
def open311_keys(request):
    """Issue and revoke Open311 keys; a new key is shown once."""
    require(request.user, "accounts.manage")
    new_key = ""
    if request.method == "POST":
        if request.POST.get("revoke"):
            raw = request.POST["revoke"]
            key = (
                Open311Key.objects.filter(pk=int(raw), revoked_at__isnull=True).first()
                if raw.isdigit()
                else None
            )
            if key:
                actions.revoke_open311_key(key=key, user=request.user)
                messages.success(request, f"Đã thu hồi khoá {key.name}.")
        else:
            try:
                _, new_key = actions.issue_open311_key(
                    name=request.POST.get("name", ""), user=request.user
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "feedback/console/keys.html",
        {"keys": Open311Key.objects.all()[:200], "new_key": new_key},
    )
