"""Writing the CAP settings (province administrators, `accounts.manage`): sender rules and
feeds. Audited like every mutation."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import Http404

from grassroots.accounts.policies import require
from grassroots.core import audit
from grassroots.core.errors import Problem
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text

from ..models import CERTAINTIES, SEVERITIES, URGENCIES, CapFeed, CapSender
from .ingest import province


def _province_for(user):
    unit = province()
    from grassroots.units.models import Unit

    if not Unit.objects.restrict(user, "accounts.manage").filter(pk=unit.pk).exists():
        raise Http404
    return unit


@transaction.atomic
def save_sender(*, user, sender: str, name: str, trusted: bool, live: tuple[str, str, str],
                priority: tuple[str, str, str], repeat: int,
                repeat_every_minutes: int = 15) -> CapSender:  # fmt: skip
    """Create or change the rule of a CAP `sender` (CAP 1.2 §3.2.1); thresholds are CAP
    values (§3.2.2): severity, urgency, certainty. An alert it puts on air is played again
    every `repeat_every_minutes` (0: once) until its `expires`."""
    require(user, "accounts.manage")
    unit = _province_for(user)
    sender, name = clean_text(sender or "").strip()[:200], clean_text(name or "").strip()[:200]
    if not sender or not name:
        raise Problem(422, "Cần nhập mã người gửi (sender trong bản tin CAP) và tên cơ quan.")
    for value, order, what in zip(
        (*live, *priority), (SEVERITIES, URGENCIES, CERTAINTIES) * 2, ("mức độ", "khẩn cấp",
        "chắc chắn") * 2, strict=True
    ):  # fmt: skip
        if value not in order:
            raise Problem(422, f"Ngưỡng {what} '{value}' không hợp lệ; chọn: {', '.join(order)}.")
    if not (1 <= repeat <= 10):
        raise Problem(422, "Số lần lặp phải từ 1 đến 10.")
    if not (0 <= repeat_every_minutes <= 1440):
        raise Problem(422, "Chu kỳ nhắc lại phải từ 0 (không nhắc lại) đến 1440 phút (một ngày).")
    rule, created = CapSender.objects.get_or_create(
        sender=sender, defaults={"unit": unit, "name": name}
    )
    before = None if created else audit.snapshot(rule)
    rule.name, rule.trusted, rule.repeat = name, trusted, repeat
    rule.repeat_every_minutes = repeat_every_minutes
    rule.live_severity, rule.live_urgency, rule.live_certainty = live
    rule.priority_severity, rule.priority_urgency, rule.priority_certainty = priority
    rule.save()
    audit.record(rule, ChangeAction.CREATE if created else ChangeAction.UPDATE, user=user,
                 before=before)  # fmt: skip
    return rule


OWN_FEED_PATH = "/feeds/cap.atom"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _own_host(host: str) -> str:
    return (urlsplit(f"//{host}").hostname or "").lower()


def is_own_feed(url: str, own_hosts=()) -> bool:
    """Is this the platform's own published feed (reading it back would loop every emergency
    the province publishes into the province again)?"""
    parts = urlsplit(url)
    if parts.path.rstrip("/") != OWN_FEED_PATH:
        return False
    ours = {_own_host(h) for h in own_hosts if h} | LOOPBACK
    site = settings.GRASSROOTS.get("SITE_URL", "")
    if site:
        ours.add((urlsplit(site).hostname or "").lower())
    ours |= {h.lstrip(".").lower() for h in settings.ALLOWED_HOSTS if h not in ("*", "")}
    return (parts.hostname or "").lower() in ours


@transaction.atomic
def save_feed(*, user, name: str, url: str, interval_seconds: int, enabled: bool,
              own_hosts=()) -> CapFeed:  # fmt: skip
    """Create or change a polled CAP feed (Atom or RSS), by its URL. `own_hosts`: the names
    this platform is reached by (the request's host), to refuse its own feed."""
    require(user, "accounts.manage")
    unit = _province_for(user)
    url, name = (url or "").strip()[:500], clean_text(name or "").strip()[:200]
    if not url.startswith(("http://", "https://")) or not name:
        raise Problem(422, "Cần tên và địa chỉ luồng bắt đầu bằng http:// hoặc https://.")
    if is_own_feed(url, own_hosts):
        raise Problem(
            422,
            "Đây là luồng cảnh báo CAP do chính hệ thống này xuất bản (/feeds/cap.atom): đọc lại "
            "nó sẽ tạo vòng lặp phát lại cảnh báo của tỉnh. Hãy nhập luồng của cơ quan khác.",
        )
    if not (30 <= interval_seconds <= 86400):
        raise Problem(422, "Chu kỳ đọc luồng phải từ 30 đến 86400 giây.")
    feed, created = CapFeed.objects.get_or_create(url=url, defaults={"unit": unit, "name": name})
    before = None if created else audit.snapshot(feed)
    feed.name, feed.interval_seconds, feed.enabled = name, interval_seconds, enabled
    feed.next_poll_at = None  # poll soon with the new settings
    feed.save()
    audit.record(feed, ChangeAction.CREATE if created else ChangeAction.UPDATE, user=user,
                 before=before)  # fmt: skip
    return feed


@transaction.atomic
def delete_sender(*, user, pk: int) -> None:
    """Remove a sender rule: its alerts are archived only from now on (as for an unknown sender)."""
    require(user, "accounts.manage")
    _province_for(user)
    rule = CapSender.objects.filter(pk=pk).first()
    if rule is None:
        raise Problem(404, "Quy tắc nguồn này không còn.")
    audit.record(rule, ChangeAction.DELETE, user=user, before=audit.snapshot(rule))
    rule.delete()


@transaction.atomic
def delete_feed(*, user, pk: int) -> None:
    """Remove a polled feed; the alerts read from it stay (their feed becomes empty)."""
    require(user, "accounts.manage")
    _province_for(user)
    feed = CapFeed.objects.filter(pk=pk).first()
    if feed is None:
        raise Problem(404, "Luồng này không còn.")
    audit.record(feed, ChangeAction.DELETE, user=user, before=audit.snapshot(feed))
    feed.delete()
