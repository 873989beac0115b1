"""CAP 1.2 out: the province's emergencies as CAP messages and an Atom feed of them.

Each emergency is one CAP `identifier` (`urn:grassroots:<province code>:emergency:<id>`, sender
`settings.GRASSROOTS["CAP_SENDER"]` or `grassroots@<province code>`):

* `Alert` when it was sent (`sent` = when it went out, or was recorded);
* `Cancel` once it was stopped or expired early (`sent` = when it stopped), with `references`
  naming the `Alert` (CAP 1.2 §3.2.1) — a recipient stops it at once;
* `Update` for an emergency that replaced another (a CAP `Update` received), with
  `references` naming the replaced emergency's `Alert`.

`info` is Vietnamese (`language` vi-VN, §3.2.2): category Safety, the emergency's title as
`event` and `headline`, its text as `description`, severity Extreme / urgency Immediate /
certainty Observed (Thông tư 39 `emergency`: played at once). The area (§3.2.4) lists each
unit as a `geocode` (valueName `VN-ADMIN-CODE`, the administrative code) and one `polygon`
around the communes' centroids (an approximation; see docs/alerts.md). Every message is checked
against the CAP 1.2 XSD in tests.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from lxml import etree

from grassroots.core.text import xml_text

from ..models import Emergency, EmergencyStatus
from . import geo
from .parse import NS

GEOCODE_NAME = "VN-ADMIN-CODE"
ATOM = "http://www.w3.org/2005/Atom"


def _province_code(emergency: Emergency) -> str:
    first = emergency.unit.path.strip("/").split("/")[0]
    from grassroots.units.models import Unit

    return Unit.objects.filter(pk=int(first)).values_list("code", flat=True).first() or "0"


def sender(code: str) -> str:
    return settings.GRASSROOTS.get("CAP_SENDER") or f"grassroots@{code}"


def identifier(code: str, emergency_id: int) -> str:
    return f"urn:grassroots:{code}:emergency:{emergency_id}"


def cap_time(value: dt.datetime) -> str:
    """§3.3.2: "2002-05-24T16:49:00-07:00" (no fraction, explicit offset, never "Z")."""
    local = timezone.localtime(value).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "+00:00" if text.endswith("Z") else text


def _sub(parent, name: str, text: str | None = None):
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        el.text = xml_text(text)
    return el


def _alert_sent(emergency: Emergency) -> dt.datetime:
    return emergency.sent_at or emergency.created_at


def message(emergency: Emergency) -> bytes:
    """The current CAP 1.2 message of an emergency: `Alert`, or `Cancel` once it has stopped."""
    cancel = emergency.status == EmergencyStatus.STOPPED
    code = _province_code(emergency)
    old = emergency.replaces
    return build(
        updates=(identifier(code, old.pk), _alert_sent(old)) if old else None,
        province_code=code,
        number=str(emergency.pk),
        title=emergency.title,
        text=emergency.text,
        units=list(emergency.area.order_by("code")),
        sent=_alert_sent(emergency),
        expires=emergency.expires_at,
        cancelled_at=(emergency.stopped_at or emergency.updated_at) if cancel else None,
    )


def build(
    *,
    province_code: str,
    number: str,
    title: str,
    text: str,
    units: list,
    sent: dt.datetime,
    expires: dt.datetime,
    cancelled_at: dt.datetime | None = None,
    updates: tuple[str, dt.datetime] | None = None,
) -> bytes:
    """A CAP 1.2 message (UTF-8 bytes) for an emergency's values; `cancelled_at` makes it the
    `Cancel` of the `Alert` (§3.2.1 `references`); `updates` (identifier, sent) of the message
    it replaces makes it an `Update`. Also used for the preview before sending."""
    who = sender(province_code)
    cancel = cancelled_at is not None
    root = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    first_id = f"urn:grassroots:{province_code}:emergency:{number}"
    _sub(root, "identifier", f"{first_id}.cancel" if cancel else first_id)
    _sub(root, "sender", who)
    _sub(root, "sent", cap_time(cancelled_at if cancel else sent))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", "Cancel" if cancel else "Update" if updates else "Alert")
    _sub(root, "scope", "Public")
    if cancel:
        _sub(root, "note", "Đã dừng phát khẩn cấp.")
        _sub(root, "references", f"{who},{first_id},{cap_time(sent)}")
    elif updates:
        _sub(root, "references", f"{who},{updates[0]},{cap_time(updates[1])}")
    info = _sub(root, "info")
    _sub(info, "language", "vi-VN")
    _sub(info, "category", "Safety")
    _sub(info, "event", title or "Khẩn cấp")
    _sub(info, "responseType", "None" if cancel else "Monitor")
    _sub(info, "urgency", "Past" if cancel else "Immediate")
    _sub(info, "severity", "Extreme")
    _sub(info, "certainty", "Observed")
    _sub(info, "effective", cap_time(sent))
    _sub(info, "expires", cap_time(expires))
    _sub(info, "senderName", "Hệ thống thông tin nguồn cấp tỉnh")
    _sub(info, "headline", (title or "Khẩn cấp")[:160])
    if text:
        _sub(info, "description", text)
    area = _sub(info, "area")
    _sub(area, "areaDesc", ", ".join(u.name for u in units) or "—")
    communes = []
    for u in units:
        if u.is_commune_level:
            communes.append(u)
        else:
            communes.extend(geo.communes(u))
    ring = geo.centroid_polygon(communes)
    if ring:
        _sub(area, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in ring))
    for u in units:
        g = _sub(area, "geocode")
        _sub(g, "valueName", GEOCODE_NAME)
        _sub(g, "value", u.code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def atom(emergencies, *, base_url: str, province_code: str) -> bytes:
    """An Atom feed (RFC 4287) with one entry per emergency, its CAP message as the content
    and a link to `/api/v1/alerts/{id}.cap` (the usual CAP-feed layout)."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    etree.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:grassroots:{province_code}:cap-feed"
    etree.SubElement(feed, f"{{{ATOM}}}title").text = "Cảnh báo khẩn cấp (CAP 1.2)"
    rows = list(emergencies)
    newest = max((e.updated_at for e in rows), default=timezone.now())
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = cap_time(newest)
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    etree.SubElement(author, f"{{{ATOM}}}name").text = sender(province_code)
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base_url}/feeds/cap.atom")
    for e in rows:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = identifier(province_code, e.pk)
        etree.SubElement(entry, f"{{{ATOM}}}title").text = xml_text(e.title)
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = cap_time(e.updated_at)
        etree.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="alternate",
            type="application/cap+xml",
            href=f"{base_url}/api/v1/alerts/{e.pk}.cap",
        )
        content = etree.SubElement(entry, f"{{{ATOM}}}content", type="application/cap+xml")
        content.append(etree.fromstring(message(e)))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
