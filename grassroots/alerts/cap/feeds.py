"""Polling CAP feeds (Atom or RSS whose entries carry or link CAP 1.2 messages), in the worker.

Each `CapFeed` is fetched at its own interval with a conditional GET (`If-None-Match` with the
last `ETag`, `If-Modified-Since` with the last `Last-Modified`): a 304 costs one round trip.
An entry's CAP message is taken from the entry itself (an `<alert>` inside `<content>`) or
fetched from its link (http/https only, `parse.MAX_BYTES` at most, 10 s timeout) unless a
message from that link was already received. Every message goes through `ingest.receive`
(same validation, same rules, duplicates by (sender, identifier, sent)).
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.error
import urllib.request

from django.utils import timezone
from lxml import etree

from ..models import CapAlert, CapFeed
from .ingest import receive
from .parse import MAX_BYTES, NS, CapError, parse_xml

log = logging.getLogger("grassroots.alerts")
ATOM = "http://www.w3.org/2005/Atom"
TIMEOUT = 10
MAX_ENTRIES = 50
ACCEPT = "application/atom+xml, application/rss+xml, application/cap+xml;q=0.9, */*;q=0.1"


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    if not url.startswith(("http://", "https://")):
        raise CapError("Địa chỉ luồng phải bắt đầu bằng http:// hoặc https://.", 422)
    request = urllib.request.Request(url, headers={"User-Agent": "grassroots-cap/1", **headers})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:  # noqa: S310 - scheme checked
            body = resp.read(MAX_BYTES + 1)
            return resp.status, body, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, b"", {k.lower(): v for k, v in (exc.headers or {}).items()}


def _entries(root) -> list[tuple[bytes | None, str]]:
    """(embedded CAP bytes or None, link) per entry, Atom or RSS 2.0."""
    out: list[tuple[bytes | None, str]] = []
    items = root.findall(f"{{{ATOM}}}entry") or root.findall("channel/item")
    for item in items[:MAX_ENTRIES]:
        alert = item.find(f".//{{{NS}}}alert")
        link = ""
        for el in item.findall(f"{{{ATOM}}}link"):
            if el.get("rel", "alternate") == "alternate" or "cap" in (el.get("type") or ""):
                link = el.get("href", "")
                if "cap" in (el.get("type") or ""):
                    break
        if not link:
            rss = item.find("link")
            link = (rss.text or "").strip() if rss is not None else ""
        embedded = etree.tostring(alert) if alert is not None else None
        out.append((embedded, link))
    return out


def poll(feed: CapFeed) -> str:
    """Fetch one feed now; returns (and stores) a short status in Vietnamese."""
    headers = {"Accept": ACCEPT}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    new = refused = 0
    try:
        status, body, resp_headers = _get(feed.url, headers)
        if status == 304:
            summary = "Không có gì mới (304)."
        elif status != 200:
            summary = f"Máy chủ nguồn trả lỗi HTTP {status}."
        else:
            root = parse_xml(body, what="Luồng CAP")
            for embedded, link in _entries(root):
                try:
                    if embedded is None:
                        if not link or CapAlert.objects.filter(source_url=link).exists():
                            continue
                        code, embedded, _ = _get(link, {"Accept": "application/cap+xml"})
                        if code != 200:
                            refused += 1
                            continue
                    _, created = receive(embedded, feed=feed, source_url=link)
                    new += int(created)
                except CapError as exc:
                    refused += 1
                    log.warning("feed %s: entry %s refused: %s", feed.pk, link, exc.detail)
            feed.etag = resp_headers.get("etag", "")[:200]
            feed.last_modified = resp_headers.get("last-modified", "")[:100]
            summary = f"{new} cảnh báo mới" + (f", {refused} bị từ chối." if refused else ".")
    except CapError as exc:
        summary = exc.detail
    except (OSError, ValueError) as exc:
        summary = f"Không tải được luồng: {exc}"
    now = timezone.now()
    feed.last_polled_at = now
    feed.next_poll_at = now + dt.timedelta(seconds=max(30, feed.interval_seconds))
    feed.last_status = summary[:200]
    feed.save(
        update_fields=[
            "etag",
            "last_modified",
            "last_polled_at",
            "next_poll_at",
            "last_status",
            "updated_at",
        ]
    )
    return summary


def poll_due(now: dt.datetime | None = None) -> int:
    """Poll every enabled feed whose time has come; returns how many were polled."""
    from django.db.models import Q

    now = now or timezone.now()
    due = CapFeed.objects.filter(enabled=True).filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    )
    count = 0
    for feed in due[:20]:
        poll(feed)
        count += 1
    return count
