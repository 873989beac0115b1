"""What a failed delivery says, by kind, against real HTTP servers on loopback (no reply at
all, a timeout, TLS spoken to a plain server, HTML and JSON error pages, a refusal with its
reason, a batch answered per message): one short Vietnamese sentence, the technical detail
bounded and without tags, stored with the message by the real outbox."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from grassroots.exchange import adapters, outbound
from grassroots.exchange.adapters import DeliveryError, FederationAdapter
from grassroots.exchange.choices import DeliveryStatus, Kind
from grassroots.exchange.errors import TECHNICAL_CHARS, ErrorKind
from grassroots.exchange.models import OutboundMessage, Peer

from .helpers import Remote, bulletin_body

pytestmark = pytest.mark.django_db

HTML_404 = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title><style>body{font:13px Arial}"
    + "x" * 3000
    + "</style><script>var a = 1;</script></head><body><h1>Not Found</h1><p>The requested URL "
    "was not found on this server.</p>" + "<p>padding</p>" * 500 + "</body></html>"
)


@contextmanager
def serve(answer: Callable[[BaseHTTPRequestHandler], None]):
    """A real HTTP server on a free loopback port answering every request with `answer`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            self.server.bodies.append(self.rfile.read(length))
            answer(self)

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


def reply(status: int, body: str | bytes, content_type: str):
    def answer(handler: BaseHTTPRequestHandler) -> None:
        data = body.encode() if isinstance(body, str) else body
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def problem(status: int, detail: str, reason: str = ""):
    body = {"type": "about:blank", "title": "x", "status": status, "detail": detail}
    if reason:
        body["reason"] = reason
    return reply(status, json.dumps(body, ensure_ascii=False), "application/problem+json")


def _peer(url: str):
    return Remote(code="province-9").declare(url=url, kinds_out=[Kind.BULLETIN])


def _send(url: str) -> DeliveryError:
    peer = Peer.objects.filter(code="province-9").first() or _peer(url)
    peer.url = url
    with pytest.raises(DeliveryError) as caught:
        FederationAdapter().send(peer, {"id": "m", "version": 1})
    return caught.value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listens_cannot_connect():
    port = _free_port()
    error = _send(f"http://127.0.0.1:{port}")
    assert error.kind == ErrorKind.CONNECT and error.status is None and not error.permanent
    assert error.detail == (
        f"không kết nối được tới 127.0.0.1:{port}; hãy kiểm tra địa chỉ hoặc hệ thống bên kia "
        "có đang chạy"
    )
    assert "HTTP" not in error.detail and "urlopen" not in error.detail
    assert "refused" in error.technical.lower()  # the OS's words, for the administrator


def test_unknown_host_cannot_connect():
    error = _send("http://khong-co-may-nay.invalid")
    assert error.kind == ErrorKind.CONNECT
    assert error.detail.startswith("không kết nối được tới khong-co-may-nay.invalid;")


def test_no_answer_in_time_is_a_timeout(monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts (the kernel does) and never answers
    monkeypatch.setattr(adapters, "TIMEOUT", 0.5)
    try:
        error = _send(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()
    assert error.kind == ErrorKind.TIMEOUT and not error.permanent
    assert "không trả lời trong 0.5 giây; hệ thống bên kia có thể đang quá tải" in error.detail


def test_tls_spoken_to_a_plain_server():
    with serve(reply(200, "{}", "application/json")) as (url, _server):
        error = _send(url.replace("http://", "https://"))
    assert error.kind == ErrorKind.TLS and not error.permanent
    assert "kết nối an toàn (TLS)" in error.detail and "https://" in error.detail


def test_html_error_page_is_one_line_and_its_text_a_bounded_detail():
    with serve(reply(404, HTML_404, "text/html; charset=utf-8")) as (url, _server):
        error = _send(url)
    host = url.removeprefix("http://")
    assert error.detail == f"{host} trả lời HTTP 404 (không có địa chỉ này)"
    assert error.permanent and error.status == 404 and error.kind == ErrorKind.HTTP
    assert error.technical.startswith("404 Not Found Not Found The requested URL")
    assert "<" not in error.technical and "font:" not in error.technical
    assert "var a" not in error.technical and len(error.technical) <= TECHNICAL_CHARS


def test_json_detail_is_the_peers_own_words_said_once():
    detail = "Trường 'body.title' thiếu."
    with serve(problem(422, detail)) as (url, _server):
        error = _send(url)
    assert error.detail.endswith(f"trả lời HTTP 422: {detail}")
    assert error.detail.count("HTTP 422") == 1 and error.permanent


def test_a_refusal_names_its_reason_and_is_permanent():
    with serve(problem(403, "Khoá 'abcd' chưa được khai báo.", "unknown_key")) as (url, _s):
        error = _send(url)
    assert error.kind == ErrorKind.REFUSED and error.reason == "unknown_key" and error.permanent
    assert "từ chối thông điệp (Khoá ký không hợp lệ hoặc đã thu hồi)" in error.detail
    assert "Khoá 'abcd' chưa được khai báo." in error.detail


def test_a_server_error_is_retried_and_a_non_protocol_answer_said_so():
    with serve(problem(503, "Đang bảo trì")) as (url, _server):
        error = _send(url)
    assert not error.permanent and error.status == 503 and "Đang bảo trì" in error.detail
    with serve(reply(200, "<html><body>Cổng đăng nhập</body></html>", "text/html")) as (url, _s):
        error = _send(url)
    assert error.kind == ErrorKind.ANSWER and "không đúng giao thức liên thông" in error.detail
    peer = Peer.objects.get(code="province-9")
    with serve(reply(200, '{"messages": "x"}', "application/json")) as (url, _server):
        peer.url = url
        with pytest.raises(DeliveryError) as caught:
            FederationAdapter().fetch(peer, 0)
    # pydantic's English stays in the technical detail; the sentence is Vietnamese
    assert caught.value.kind == ErrorKind.ANSWER and "validation" in caught.value.technical
    assert "validation" not in caught.value.detail


def test_the_outbox_stores_the_transports_words_once():
    """A single message refused 422 (the path that said 'HTTP 422: HTTP 422: …') and a
    batch answered per message: each row keeps one sentence, its kind, reason and detail."""
    with serve(problem(422, "Trường 'body.title' thiếu.")) as (url, _server):
        peer = _peer(url)
        [row] = outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id="a",
                              body=bulletin_body(), title="A")  # fmt: skip
        assert outbound.push_due() == 0
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.last_error.count("HTTP 422") == 1
    assert (row.error_kind, row.error_status) == ("http", 422)
    assert outbound.advice_for(row).retry  # nothing says it cannot help: offered

    def receipts(handler):
        sent = json.loads(handler.server.bodies[-1])["messages"]
        answer = {"protocol": "grassroots-federation/1.1", "receipts": [
            {"index": 0, "id": sent[0]["id"], "version": 1, "outcome": "refused",
             "status": 409, "reason": "old_version", "detail": "Đã nhận phiên bản 3."},
            {"index": 1, "id": sent[1]["id"], "version": 1, "outcome": "refused",
             "status": 403, "reason": "unknown_key", "detail": "Khoá lạ."},
            {"index": 2, "id": sent[2]["id"], "version": 1, "outcome": "deferred",
             "status": 503, "reason": "deferred", "detail": ""},
        ]}  # fmt: skip
        reply(200, json.dumps(answer, ensure_ascii=False), "application/json")(handler)

    OutboundMessage.objects.all().delete()
    with serve(receipts) as (url, _server):
        peer.url = url
        peer.save()
        for n in range(3):
            outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id=f"b{n}",
                          body=bulletin_body(), title=f"B{n}")  # fmt: skip
        assert outbound.push_due() == 0
    old, key, later = OutboundMessage.objects.order_by("id")
    assert (old.status, old.error_reason) == ("failed", "old_version")
    assert not outbound.advice_for(old).retry
    assert "phiên bản mới hơn" in outbound.advice_for(old).text
    assert (key.status, key.error_reason) == ("failed", "unknown_key")
    assert outbound.advice_for(key).retry and "khoá" in outbound.advice_for(key).text
    assert later.status == "pending" and later.error_kind == "deferred"
    assert "một thông điệp trước nó" in later.last_error and "HTTP" not in later.last_error
