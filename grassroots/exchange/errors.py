"""What went wrong handing a message to a peer (or fetching from it), said once, at the
transport: a short Vietnamese sentence by kind for the console, a bounded technical detail for
the administrator (the peer's answer, tags stripped, or the network error), whether trying
again can help and, when a retry cannot, what to do instead.

Every exchange error is a `DeliveryError`, built by `connection_error` (no HTTP reply: cannot
connect, timeout, TLS), `http_error` (an HTTP error status, with the peer's own problem+json
`detail` and refusal `reason` when it gave them), `answer_error` (a 2xx answer that is not the
protocol) or `receipt_error` (one message of a batch refused or deferred). The outbox stores
`detail`, `kind`, `reason`, `status` and `technical` with the message (`OutboundMessage.
last_error`, `error_kind`, `error_reason`, `error_status`, `error_detail`); `advice` turns them
back into what the console says and whether it offers *Gửi lại*.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import urllib.error
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grassroots.core.text import clean_text

from .choices import Refusal

DETAIL_CHARS = 300  # the peer's own words kept in the one-line sentence
TECHNICAL_CHARS = 500  # the technical detail kept for the administrator
SUMMARY_CHARS = 160  # what a page shows of an error on one line


class ErrorKind(models.TextChoices):
    """How a delivery failed (`OutboundMessage.error_kind`)."""

    ADDRESS = "address", gettext_lazy("Địa chỉ không hợp lệ")
    CONNECT = "connect", gettext_lazy("Không kết nối được")
    TIMEOUT = "timeout", gettext_lazy("Quá thời gian chờ")
    TLS = "tls", gettext_lazy("Lỗi kết nối an toàn (TLS)")
    HTTP = "http", gettext_lazy("Lỗi HTTP")
    ANSWER = "answer", gettext_lazy("Trả lời sai giao thức")
    REFUSED = "refused", gettext_lazy("Bên nhận từ chối")
    DEFERRED = "deferred", gettext_lazy("Bên nhận chưa nhận lúc này")


class DeliveryError(Exception):
    """A message could not be handed over (or a page, a file could not be fetched).

    `detail`: one short Vietnamese sentence (what the console shows); `kind`: an `ErrorKind`;
    `status`: the HTTP status the peer answered (None when no HTTP reply came); `reason`: the
    peer's refusal reason (`Refusal`), when it gave one; `technical`: at most TECHNICAL_CHARS of
    the peer's answer (tags stripped) or of the network error, for the administrator.
    `permanent` when retrying the same message cannot help by itself (the peer read it and
    refused it: 4xx except 408/429); otherwise it is retried with back-off."""

    def __init__(
        self,
        detail: str,
        *,
        permanent: bool = False,
        status: int | None = None,
        kind: str = ErrorKind.CONNECT,
        reason: str = "",
        technical: str = "",
    ):
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.status = status
        self.kind = str(kind)
        self.reason = reason
        self.technical = technical


def host_of(url: str) -> str:
    """`host[:port]` of an address, for sentences ("không kết nối được tới …")."""
    try:
        parts = urlsplit(url)
        return parts.netloc.rsplit("@", 1)[-1] or url[:100]
    except ValueError:
        return url[:100]


def bounded(text: str, limit: int = TECHNICAL_CHARS) -> str:
    """One line of clean text, at most `limit` characters (an ellipsis when cut)."""
    text = " ".join(clean_text(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_text(body: bytes | str, content_type: str = "") -> str:
    """What a person reads of an answer body: the text of an HTML page (without its scripts
    and styles), else the body decoded; bounded."""
    if isinstance(body, bytes):
        charset = "utf-8"
        match = re.search(r"charset=([\w-]+)", content_type or "")
        if match:
            charset = match.group(1)
        try:
            text = body[:20_000].decode(charset, "replace")
        except LookupError:
            text = body[:20_000].decode("utf-8", "replace")
    else:
        text = body[:20_000]
    if "html" in (content_type or "") or re.match(
        r"\s*<(!doctype|html|head|body|\?xml)", text, re.I
    ):
        import lxml.html
        from lxml import etree

        try:
            document = lxml.html.document_fromstring(text)
            etree.strip_elements(document, "script", "style", with_tail=False)
            text = " ".join(document.itertext())  # block elements apart
        except (etree.ParserError, ValueError):
            text = re.sub(r"<[^>]*>", " ", text)
    return bounded(text)


# what an HTTP status means, when the peer gave no detail of its own
STATUS_MEANING = {
    400: gettext_lazy("yêu cầu không hợp lệ"),
    401: gettext_lazy("chưa xác thực"),
    403: gettext_lazy("không được phép"),
    404: gettext_lazy("không có địa chỉ này"),
    405: gettext_lazy("địa chỉ này không nhận thông điệp"),
    408: gettext_lazy("hết thời gian chờ yêu cầu"),
    409: gettext_lazy("xung đột với dữ liệu đã có"),
    413: gettext_lazy("thông điệp quá lớn"),
    415: gettext_lazy("không nhận kiểu dữ liệu này"),
    422: gettext_lazy("không xử lý được nội dung"),
    429: gettext_lazy("gửi quá nhiều, cần chờ"),
    500: gettext_lazy("lỗi bên trong hệ thống bên kia"),
    502: gettext_lazy("cổng trung gian không nhận được trả lời"),
    503: gettext_lazy("hệ thống tạm ngừng phục vụ"),
    504: gettext_lazy("cổng trung gian chờ quá lâu"),
}


def status_meaning(status: int) -> str:
    if status in STATUS_MEANING:
        return str(STATUS_MEANING[status])
    if 500 <= status < 600:
        return _("lỗi phía hệ thống bên kia")
    return _("yêu cầu bị từ chối")


def is_permanent(status: int) -> bool:
    """4xx: the peer read the message and refused it; 408/429 and 5xx: try again later."""
    return 400 <= status < 500 and status not in (408, 429)


def connection_error(url: str, exc: BaseException, *, timeout: float) -> DeliveryError:
    """No HTTP reply at all: the address does not resolve or refuses the connection, the peer
    did not answer in time, or the TLS handshake failed. Retried with back-off."""
    host = host_of(url)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    technical = bounded(f"{type(reason).__name__}: {reason}")
    if isinstance(reason, ssl.SSLCertVerificationError):
        return DeliveryError(
            _("chứng chỉ TLS của %(host)s không hợp lệ (%(why)s); hãy kiểm tra chứng chỉ của "
              "hệ thống bên kia hoặc địa chỉ đã khai báo")
            % {"host": host, "why": bounded(reason.verify_message or str(reason), 80)},
            kind=ErrorKind.TLS, technical=technical,
        )  # fmt: skip
    if isinstance(reason, ssl.SSLError):
        return DeliveryError(
            _("không thiết lập được kết nối an toàn (TLS) tới %(host)s; hãy kiểm tra địa chỉ "
              "(https:// hay http://) và cấu hình TLS của hệ thống bên kia") % {"host": host},
            kind=ErrorKind.TLS, technical=technical,
        )  # fmt: skip
    if isinstance(reason, TimeoutError | socket.timeout):
        return DeliveryError(
            _("%(host)s không trả lời trong %(s)s giây; hệ thống bên kia có thể đang quá tải, "
              "sẽ thử lại sau") % {"host": host, "s": f"{timeout:g}"},
            kind=ErrorKind.TIMEOUT, technical=technical,
        )  # fmt: skip
    return DeliveryError(
        _("không kết nối được tới %(host)s; hãy kiểm tra địa chỉ hoặc hệ thống bên kia có đang "
          "chạy") % {"host": host},
        kind=ErrorKind.CONNECT, technical=technical,
    )  # fmt: skip


def http_error(url: str, status: int, body: bytes, content_type: str = "") -> DeliveryError:
    """An HTTP error status. The peer's problem+json `detail` is its own words (and a
    federation `reason` says it read and refused the message); otherwise what the status
    means, the body's text kept as the technical detail."""
    host = host_of(url)
    problem: dict[str, Any] = {}
    if "json" in content_type or body.lstrip()[:1] == b"{":
        try:
            data = json.loads(body)
            problem = data if isinstance(data, dict) else {}
        except ValueError:
            problem = {}
    words = bounded(str(problem.get("detail") or problem.get("title") or ""), DETAIL_CHARS)
    reason = str(problem.get("reason") or "")
    reason = reason if reason in Refusal.values else ""
    technical = bounded(
        json.dumps(problem, ensure_ascii=False) if problem else plain_text(body, content_type)
    )
    permanent = is_permanent(status)
    if reason and permanent:
        return DeliveryError(
            _("%(host)s từ chối thông điệp (%(reason)s): %(detail)s")
            % {"host": host, "reason": Refusal(reason).label, "detail": words or "—"},
            permanent=True, status=status, kind=ErrorKind.REFUSED, reason=reason,
            technical=technical,
        )  # fmt: skip
    if words:
        text = _("%(host)s trả lời HTTP %(status)s: %(detail)s") % {
            "host": host, "status": status, "detail": words,
        }  # fmt: skip
    else:
        text = _("%(host)s trả lời HTTP %(status)s (%(meaning)s)") % {
            "host": host, "status": status, "meaning": status_meaning(status),
        }  # fmt: skip
    return DeliveryError(
        text, permanent=permanent, status=status, kind=ErrorKind.HTTP, reason=reason,
        technical=technical,
    )  # fmt: skip


def answer_error(url: str, exc: BaseException) -> DeliveryError:
    """A 2xx answer that is not what the protocol says (not JSON, not a receipt or a page of
    messages): the address is likely not an exchange inbox. Retried (it may be a proxy's page
    for a while)."""
    return DeliveryError(
        _("%(host)s trả lời không đúng giao thức liên thông; hãy kiểm tra địa chỉ có phải của "
          "hệ thống thông tin nguồn bên kia") % {"host": host_of(url)},
        kind=ErrorKind.ANSWER, technical=bounded(f"{type(exc).__name__}: {exc}"),
    )  # fmt: skip


def receipt_error(receipt: dict[str, Any], *, host: str) -> DeliveryError:
    """One message of a batch not taken: refused for good (4xx) or not yet (deferred, 503).
    A receipt made from a single send's error (`adapters.send_each`) carries that error."""
    if isinstance(receipt.get("error"), DeliveryError):
        return receipt["error"]
    status = int(receipt.get("status") or 503)
    words = bounded(str(receipt.get("detail") or ""), DETAIL_CHARS)
    reason = str(receipt.get("reason") or "")
    reason = reason if reason in Refusal.values else ""
    technical = bounded(json.dumps(
        {k: receipt.get(k) for k in ("outcome", "status", "reason", "detail")}, ensure_ascii=False
    ))  # fmt: skip
    permanent = receipt.get("outcome") == "refused" and is_permanent(status)
    if permanent:
        label = Refusal(reason).label if reason else status_meaning(status)
        return DeliveryError(
            _("%(host)s từ chối thông điệp (%(reason)s): %(detail)s")
            % {"host": host, "reason": label, "detail": words or "—"},
            permanent=True, status=status, kind=ErrorKind.REFUSED, reason=reason,
            technical=technical,
        )  # fmt: skip
    if receipt.get("outcome") == "deferred" and not words:
        text = _("%(host)s chưa xem thông điệp này vì một thông điệp trước nó trong lô chưa "
                 "nhận được; sẽ gửi lại sau") % {"host": host}  # fmt: skip
    else:
        text = _("%(host)s chưa nhận thông điệp lúc này (%(detail)s); sẽ gửi lại sau") % {
            "host": host, "detail": words or status_meaning(status),
        }  # fmt: skip
    return DeliveryError(
        text, status=status, kind=ErrorKind.DEFERRED, reason=reason, technical=technical
    )


@dataclass(frozen=True)
class Advice:
    """What the console says under a failed message: `text` (what to do), and whether the
    *Gửi lại* button is offered (`retry`: sending the same signed message again can succeed,
    possibly once the peer has fixed something)."""

    text: str
    retry: bool


_FIX_THEN_RETRY = {
    Refusal.UNKNOWN_PEER: gettext_lazy(
        "Bên nhận chưa khai báo hệ thống này (hoặc đã ngừng liên thông). Hãy đề nghị bên nhận "
        "khai báo mã và khoá của hệ thống này (trang Hệ thống liên thông); khi họ đã khai báo, "
        "bấm Gửi lại."
    ),
    Refusal.UNKNOWN_KEY: gettext_lazy(
        "Bên nhận không có khoá ký hiện tại của hệ thống này (chưa thêm, hoặc đã thu hồi). Hãy "
        "gửi khoá của hệ thống này (trang Hệ thống liên thông) cho bên nhận; khi họ đã thêm "
        "khoá, bấm Gửi lại."
    ),
    Refusal.BAD_SIGNATURE: gettext_lazy(
        "Chữ ký không khớp với khoá bên nhận khai báo cho hệ thống này, hoặc nội dung bị thay "
        "đổi trên đường truyền (proxy). Hãy đối chiếu khoá với bên nhận; khi đã khớp, bấm Gửi "
        "lại."
    ),
    Refusal.KIND_NOT_ALLOWED: gettext_lazy(
        "Bên nhận không cho phép hệ thống này gửi loại tin này. Khi bên nhận đã cho phép, bấm "
        "Gửi lại; nếu họ không cần loại tin này, hãy bỏ nó khỏi các loại tin gửi tới hệ thống "
        "đó."
    ),
    Refusal.OUT_OF_SCOPE: gettext_lazy(
        "Đơn vị trong thông điệp nằm ngoài phạm vi bên nhận khai báo cho hệ thống này. Khi bên "
        "nhận đã sửa phạm vi, bấm Gửi lại."
    ),
}

_NO_RETRY = {
    Refusal.OLD_VERSION: gettext_lazy(
        "Bên nhận đã có phiên bản mới hơn của thông điệp này: không cần gửi lại."
    ),
    Refusal.CONFLICT: gettext_lazy(
        "Bên nhận đã nhận phiên bản này với nội dung khác; gửi lại vẫn bị từ chối. Hãy gửi lại "
        "nội dung (một phiên bản mới: sửa hoặc gửi xuống lại bản tin)."
    ),
    Refusal.WRONG_DESTINATION: gettext_lazy(
        "Bên nhận không phải hệ thống có mã ghi trong thông điệp (mã hệ thống đã khai báo khác "
        "mã bên nhận tự đặt); gửi lại vẫn bị từ chối. Hãy khai báo đúng mã rồi gửi lại nội dung."
    ),
    Refusal.MALFORMED: gettext_lazy(
        "Bên nhận không đọc được thông điệp (hai bên có thể dùng phiên bản giao thức khác "
        "nhau); gửi lại vẫn bị từ chối. Hãy đối chiếu phiên bản phần mềm với bên nhận."
    ),
    Refusal.BAD_HASH: gettext_lazy(
        "Mã băm nội dung không khớp ở bên nhận (nội dung bị thay đổi trên đường truyền, hoặc hai "
        "bên tính khác nhau); gửi lại vẫn bị từ chối. Hãy đối chiếu phiên bản phần mềm với bên "
        "nhận."
    ),
    Refusal.MEDIA: gettext_lazy(
        "Tệp đính kèm không khớp mã băm, kích thước hoặc kiểu đã khai; gửi lại vẫn bị từ chối. "
        "Hãy sửa tệp rồi gửi lại nội dung (một phiên bản mới)."
    ),
    Refusal.UNROUTABLE: gettext_lazy(
        "Bên nhận không xác định được xã, phường chịu trách nhiệm; gửi lại vẫn bị từ chối. Hãy "
        "gửi lại với mã xã hoặc vị trí (một phiên bản mới)."
    ),
}

_HTTP_FIX = {
    404: gettext_lazy(
        "Không có hộp thư liên thông ở địa chỉ đã khai báo. Hãy sửa địa chỉ của hệ thống liên "
        "thông (trang Hệ thống liên thông), rồi bấm Gửi lại."
    ),
    405: gettext_lazy(
        "Địa chỉ đã khai báo không nhận thông điệp liên thông. Hãy sửa địa chỉ của hệ thống liên "
        "thông (trang Hệ thống liên thông), rồi bấm Gửi lại."
    ),
    401: gettext_lazy(
        "Bên kia (hoặc cổng trung gian trước nó) đòi xác thực. Hãy liên hệ quản trị bên nhận; "
        "khi đã mở quyền, bấm Gửi lại."
    ),
    403: gettext_lazy(
        "Bên kia (hoặc cổng trung gian trước nó) không cho phép gửi tới. Hãy liên hệ quản trị bên "
        "nhận; khi đã mở quyền, bấm Gửi lại."
    ),
    413: gettext_lazy(
        "Thông điệp lớn hơn mức bên nhận (hoặc cổng trung gian) cho phép. Hãy đề nghị bên nhận "
        "nâng giới hạn (hộp thư liên thông nhận tới 10 MB); sau đó bấm Gửi lại."
    ),
}


def advice(*, status: str, kind: str, reason: str, http_status: int | None) -> Advice:
    """What the console says under a message in state `status` (a `DeliveryStatus`) whose
    last error was of `kind`, `reason`, `http_status`, and whether *Gửi lại* is offered. A
    message that failed for a transient cause (the peer down, a timeout, its fault) is simply
    sent again; a refusal names what must change first, and a refusal that a retry of the same
    signed message can never overcome (old version, conflict, malformed…) is not offered a
    retry: a new version of the content is what helps."""
    if status != "failed":
        return Advice("", False)
    if kind == ErrorKind.REFUSED or (kind == ErrorKind.HTTP and reason):
        if reason in _NO_RETRY:
            return Advice(str(_NO_RETRY[Refusal(reason)]), False)
        if reason in _FIX_THEN_RETRY:
            return Advice(str(_FIX_THEN_RETRY[Refusal(reason)]), True)
    if http_status is not None and is_permanent(http_status):
        if http_status in _HTTP_FIX:
            return Advice(str(_HTTP_FIX[http_status]), True)
        return Advice(
            _("Bên nhận từ chối thông điệp; gửi lại chỉ có ích khi bên nhận đã sửa nguyên nhân. "
              "Hãy liên hệ quản trị bên nhận."),
            True,
        )  # fmt: skip
    return Advice("", True)


def summary(last_error: str, technical: str = "") -> tuple[str, str]:
    """What a page shows of a stored error: one short line, and the detail behind it (shown
    on demand). Rows stored before errors were said here may hold a whole HTML page: its text
    is shown, tags stripped."""
    line = last_error or ""
    more = technical or ""
    if "<" in line:
        text = plain_text(line.encode(), "text/html")
        line, more = text, more or text
    short = bounded(line, SUMMARY_CHARS)
    if short != line and not more:
        more = bounded(line)
    return short, more
