"""Finding 14.12 (pages): a Content-Security-Policy on every page, a Vietnamese CSRF refusal,
and (14.9) huge ids in page addresses answer 400, not 500."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _script_src(response) -> str:
    csp = response["Content-Security-Policy"]
    parts = dict(p.strip().split(" ", 1) for p in csp.split(";") if p.strip())
    return parts["script-src"]


@pytest.mark.parametrize(
    "url, who",
    [
        ("/", "operator"),
        ("/ban-tin/", "editor"),
        ("/xu-ly-phan-anh/", "operator"),
        ("/bang-tin-dien-tu/", "operator"),
        ("/dang-nhap/", None),
        ("/phan-anh/", None),
        ("/phan-anh/theo-doi/", None),
        ("/api/v1/docs", "admin"),
    ],
)
def test_every_page_sends_a_csp_without_inline_scripts(client, users, url, who):
    if who:
        client.force_login(users[who])
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert _script_src(response) == "'self'"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    html = response.content.decode()
    # The policy forbids inline code, so the pages must not rely on any.
    assert "<script>" not in html and " onchange=" not in html and " onsubmit=" not in html


def test_board_player_keeps_its_own_stricter_policy(client):
    response = client.get("/board/")
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/phan-anh/", "/dang-nhap/"])
def test_csrf_failure_is_vietnamese(users, url):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(url, {"text": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Không gửi được biểu mẫu" in html and "tải lại trang" in html
    assert "CSRF verification failed" not in html and "Forbidden" not in html


def test_csrf_failure_on_the_api_is_problem_json(users):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["admin"])
    response = strict.post(
        "/api/v1/bulletins",
        data="{}",
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "url",
    [
        "/ban-tin/9223372036854775808/",
        "/xu-ly-phan-anh/9223372036854775808/",
        "/phan-anh/ban-tin/9223372036854775808/",
    ],
)
def test_huge_ids_in_page_addresses_are_400(client, users, url):
    client.force_login(users["admin"])
    response = client.get(url)
    assert response.status_code < 500, response.status_code
