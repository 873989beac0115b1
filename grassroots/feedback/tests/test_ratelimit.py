"""Finding 14.11: sliding-window limits on every public or guessable endpoint.

The fixed 10-minute window let 10 citizen reports in within 5 s around its edge; direct
tracking URLs were never limited (25 of 25 misses); wrong device enrolment codes neither.
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from grassroots.core.testing import assert_problem
from grassroots.feedback import ratelimit
from grassroots.feedback.models import Report

from .helpers import make_report
from .test_citizen import post

pytestmark = pytest.mark.django_db
EDGE = datetime(2026, 12, 1, 3, 20, tzinfo=UTC)  # a multiple of 600 s: a window boundary


def test_no_burst_around_a_window_edge(client):
    assert EDGE.timestamp() % 600 == 0
    with time_machine.travel(EDGE.timestamp() - 3, tick=False):
        for _ in range(5):
            assert post(client).status_code == 302
    with time_machine.travel(EDGE.timestamp() + 2, tick=False):
        response = post(client)
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
    assert Report.objects.count() == 5
    # Once the earlier hits have slid out of the window, reports are accepted again.
    with time_machine.travel(EDGE.timestamp() + 600, tick=False):
        assert post(client).status_code == 302


def test_sliding_counter_weighs_the_previous_window():
    kind, who = "ip", "10.9.9.9"
    start = EDGE.timestamp()
    for i in range(5):
        assert ratelimit.hit(kind, who, now=start + i)
    assert not ratelimit.hit(kind, who, now=start + 600 + 1)  # previous still weighs ~5
    assert ratelimit.hit(kind, who, now=start + 600 + 300)  # half slid out: 2.5 + 1 <= 5
    # Refused hits are not counted: waiting is enough.
    assert ratelimit.check(kind, who, now=start + 600 + 301)[0]


def test_direct_tracking_urls_are_limited(client):
    report = make_report()
    for i in range(20):
        assert client.get(f"/phan-anh/theo-doi/PA-0000-{i:04d}/").status_code == 404
    blocked = client.get(f"/phan-anh/theo-doi/PA-0000-{99:04d}/")
    assert blocked.status_code == 429 and blocked["Retry-After"]
    # A blocked address learns nothing, not even about a real code.
    assert client.get(f"/phan-anh/theo-doi/{report.tracking_code}/").status_code == 429
    assert client.get(f"/phan-anh/theo-doi/?ma={report.tracking_code}").status_code == 429
    other = Client(REMOTE_ADDR="10.0.7.7")
    assert other.get(f"/phan-anh/theo-doi/{report.tracking_code}/").status_code == 200


def test_wrong_enrolment_codes_are_limited(client, demo):
    url = "/api/v1/devices/enrol"
    for i in range(10):
        res = client.post(url, {"code": f"WRONG{i:03d}"}, content_type="application/json")
        assert_problem(res, 404)
    res = client.post(url, {"code": "WRONG999"}, content_type="application/json")
    body = assert_problem(res, 429)
    assert "sai mã đăng ký" in body["detail"] and int(res["Retry-After"]) > 0
    other = Client(REMOTE_ADDR="10.0.8.8")
    res = other.post(url, {"code": "WRONG999"}, content_type="application/json")
    assert_problem(res, 404)
