"""Reading CAP 1.2 messages safely: size limit, hardened parser, XSD validation, plain values.

A CAP message (OASIS Common Alerting Protocol 1.2, 1 July 2010) is untrusted input from the
network. `parse(data)` refuses, with a `CapError` carrying a Vietnamese message, anything that is:

* larger than `MAX_BYTES` (checked before parsing);
* not well-formed XML, or holding a DOCTYPE (CAP needs none; a DTD is how XXE and "billion
  laughs" attacks come in) — the parser never loads a DTD, never resolves an entity, never
  touches the network, and keeps libxml2's limits on (`huge_tree=False`);
* not an `<alert>` in the CAP 1.2 namespace `urn:oasis:names:tc:emergency:cap:1.2` (§3.3.1);
* invalid against the official CAP 1.2 XML Schema shipped beside this module
  (`CAP-v1.2.xsd`, OASIS, §4).

It returns a `CapMessage`: the alert block (§3.2.1), its `info` blocks (§3.2.2) with their
areas (§3.2.4). Times are aware datetimes; text is cleaned (`core.text.clean_text`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from grassroots.core.text import clean_text

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_BYTES = 512 * 1024
XSD_PATH = Path(__file__).with_name("CAP-v1.2.xsd")


class CapError(ValueError):
    """A CAP message refused; `detail` is Vietnamese, `status` the HTTP status to answer."""

    def __init__(self, detail: str, status: int = 422):
        super().__init__(detail)
        self.detail = detail
        self.status = status


def hardened_parser() -> etree.XMLParser:
    """An lxml parser that reads no DTD, expands no entity and opens no file or URL."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@functools.cache
def schema() -> etree.XMLSchema:
    """The CAP 1.2 XML Schema (read once, from the repository, never from the network)."""
    return etree.XMLSchema(etree.parse(str(XSD_PATH), hardened_parser()))


def parse_xml(data: bytes, *, what: str = "Tệp CAP") -> etree._Element:
    """Well-formed XML without DTD, or `CapError` (413 when larger than `MAX_BYTES`)."""
    if len(data) > MAX_BYTES:
        raise CapError(
            f"{what} quá lớn ({len(data) // 1024} KB); tối đa {MAX_BYTES // 1024} KB.", 413
        )
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise CapError(
            f"{what} có khai báo DOCTYPE/ENTITY; CAP không dùng DTD nên tệp bị từ chối "
            "(có thể là tấn công XXE hoặc 'billion laughs').",
            400,
        )
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise CapError(f"{what} không phải XML hợp lệ: {str(exc)[:200]}", 400) from None
    if root is None:
        raise CapError(f"{what} rỗng.", 400)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise CapError(f"{what} có khai báo DOCTYPE; CAP không dùng DTD.", 400)
    return root


def validate(root: etree._Element) -> None:
    """Namespace (§3.3.1) then the CAP 1.2 schema; `CapError` 422 names the first error."""
    if root.tag != f"{{{NS}}}alert":
        found = etree.QName(root).namespace or "(không có namespace)"
        raise CapError(
            "Không phải bản tin CAP 1.2: phần tử gốc phải là <alert> trong namespace "
            f"{NS} (tìm thấy <{etree.QName(root).localname}> trong {found}).",
            422,
        )
    xsd = schema()
    if not xsd.validate(root):
        err = xsd.error_log.last_error
        where = f" (dòng {err.line})" if err is not None and err.line else ""
        message = err.message if err is not None else ""
        raise CapError(f"Bản tin CAP không đúng lược đồ CAP 1.2{where}: {message[:300]}", 422)


@dataclass
class Area:
    """CAP 1.2 §3.2.4: `polygons` are lists of (lat, lon); `circles` are (lat, lon, km)."""

    desc: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Info:
    """CAP 1.2 §3.2.2 (the elements this platform uses)."""

    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    effective: dt.datetime | None = None
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    areas: list[Area] = field(default_factory=list)


@dataclass
class CapMessage:
    """CAP 1.2 §3.2.1: one alert message."""

    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    scope: str
    references: list[tuple[str, str, str]]
    note: str
    infos: list[Info]

    def info_for(self, language: str = "vi") -> Info | None:
        """The `info` block in this language (§3.2.2 `language`, default "en-US"), or None."""
        for info in self.infos:
            if info.language.lower().split("-")[0] == language:
                return info
        return None


def _t(el, name: str) -> str:
    found = el.find(f"{{{NS}}}{name}")
    return clean_text((found.text or "").strip()) if found is not None else ""


def _all(el, name: str) -> list:
    return el.findall(f"{{{NS}}}{name}")


def _time(value: str) -> dt.datetime | None:
    # §3.3.2: "2002-05-24T16:49:00-07:00"; the schema already checked the pattern
    return dt.datetime.fromisoformat(value) if value else None


def _points(text: str) -> list[tuple[float, float]]:
    points = []
    for pair in text.split():
        lat, lon = pair.split(",")[:2]
        points.append((float(lat), float(lon)))
    return points


def _circle(text: str) -> tuple[float, float, float]:
    centre, radius = text.split()
    lat, lon = centre.split(",")[:2]
    return float(lat), float(lon), float(radius)


def _area(el) -> Area:
    try:
        return Area(
            desc=_t(el, "areaDesc"),
            polygons=[_points(p.text or "") for p in _all(el, "polygon")],
            circles=[_circle(c.text or "") for c in _all(el, "circle")],
            geocodes=[(_t(g, "valueName"), _t(g, "value")) for g in _all(el, "geocode")],
        )
    except ValueError:
        raise CapError(
            "Vùng cảnh báo có polygon/circle sai định dạng (CAP 1.2 §3.2.4: "
            "'vĩ độ,kinh độ' cách nhau bởi dấu cách; circle thêm bán kính km).",
            422,
        ) from None


def _references(text: str) -> list[tuple[str, str, str]]:
    """§3.2.1 `references`: space-separated "sender,identifier,sent" triples."""
    out = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
    return out


def read(root: etree._Element) -> CapMessage:
    """The values of a validated `<alert>` element."""
    infos = []
    for el in _all(root, "info"):
        infos.append(
            Info(
                language=_t(el, "language") or "en-US",
                categories=[clean_text(c.text or "") for c in _all(el, "category")],
                event=_t(el, "event"),
                urgency=_t(el, "urgency"),
                severity=_t(el, "severity"),
                certainty=_t(el, "certainty"),
                headline=_t(el, "headline"),
                description=_t(el, "description"),
                instruction=_t(el, "instruction"),
                sender_name=_t(el, "senderName"),
                effective=_time(_t(el, "effective")),
                onset=_time(_t(el, "onset")),
                expires=_time(_t(el, "expires")),
                areas=[_area(a) for a in _all(el, "area")],
            )
        )
    return CapMessage(
        identifier=_t(root, "identifier"),
        sender=_t(root, "sender"),
        sent=_time(_t(root, "sent")),  # type: ignore[arg-type]
        status=_t(root, "status"),
        msg_type=_t(root, "msgType"),
        scope=_t(root, "scope"),
        references=_references(_t(root, "references")),
        note=_t(root, "note"),
        infos=infos,
    )


def parse(data: bytes) -> CapMessage:
    """Parse, validate and read one CAP 1.2 message; `CapError` with a Vietnamese reason."""
    root = parse_xml(data)
    validate(root)
    return read(root)
