"""Polling a CAP feed over real HTTP: entries embedded or linked, conditional GET, intervals."""

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from grassroots.alerts.cap import feeds
from grassroots.alerts.cap.ingest import province
from grassroots.alerts.models import CapAlert, CapFeed, CapSender, CapState

CAP = Path(__file__).with_name("cap")
NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def atom(base: str) -> bytes:
    flood = (CAP / "vn-flood-warning-geocode.xml").read_bytes().split(b"?>", 1)[1]
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:test</id><title>KTTV</title>'
        b"<updated>2026-11-29T08:30:00+07:00</updated>"
        b"<entry><id>1</id><title>Lu</title><updated>2026-11-29T08:00:00+07:00</updated>"
        b'<content type="application/cap+xml">' + flood + b"</content></entry>"
        b"<entry><id>2</id><title>Bao</title><updated>2026-11-29T08:30:00+07:00</updated>"
        b'<link rel="alternate" type="application/cap+xml" href="'
        + base.encode()
        + b'/cap/storm.xml"/></entry>'
        b"<entry><id>3</id><title>Hong</title><updated>2026-11-29T08:30:00+07:00</updated>"
        b'<link rel="alternate" type="application/cap+xml" href="'
        + base.encode()
        + b'/cap/bad.xml"/></entry>'
        b"</feed>"
    )


@pytest.fixture
def server():
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append((self.path, self.headers.get("If-None-Match", "")))
            if self.path == "/feed.atom":
                if self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                body, kind = atom(base), "application/atom+xml"
            elif self.path == "/cap/storm.xml":
                body, kind = (CAP / "vn-storm-polygon-province.xml").read_bytes(), "application/xml"
            else:
                body, kind = (CAP / "hostile-xxe.xml").read_bytes(), "application/xml"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base, seen
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.django_db
def test_feed_is_polled_with_conditional_get_at_its_interval(demo, server):
    base, seen = server
    CapSender.objects.create(unit=province(), sender="canhbao@nchmf.gov.vn", name="KTTV")
    feed = CapFeed.objects.create(
        unit=province(), name="KTTV", url=f"{base}/feed.atom", interval_seconds=120
    )
    with time_machine.travel(NOW, tick=True):
        assert feeds.poll_due() == 1
        feed.refresh_from_db()
        assert feed.last_status == "2 cảnh báo mới, 1 bị từ chối.", feed.last_status
        assert feed.etag == '"v1"'
        rows = CapAlert.objects.filter(feed=feed)
        assert sorted(rows.values_list("identifier", flat=True)) == [
            "NCHMF-BAO-20261129-07",
            "NCHMF-LU-20261129-001",
        ]
        storm = rows.get(identifier="NCHMF-BAO-20261129-07")
        assert storm.source_url == f"{base}/cap/storm.xml" and storm.units.count() == 104
        assert storm.state == CapState.AWAITING_APPROVAL  # the sender is not trusted
        assert feeds.poll_due() == 0  # not due before its interval
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=True):  # past its interval
        assert feeds.poll_due() == 1
        feed.refresh_from_db()
        assert feed.next_poll_at > timezone.now() + dt.timedelta(seconds=100)
    assert feed.last_status == "Không có gì mới (304)."
    assert seen[-1] == ("/feed.atom", '"v1"')
    assert [p for p, _ in seen].count("/cap/storm.xml") == 1
