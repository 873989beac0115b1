"""Long bulletins on a 1920 × 1080 board: paged so all of it is read, previewed before publishing.

The issue's example: a 269-character title and a 2,183-character body.
"""

from __future__ import annotations

import json
import re

import pytest

from grassroots.content import actions as content
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, unit

from .helpers import user

TITLE = (
    "Thông báo về việc tổ chức tiêm phòng vắc xin dại cho chó, mèo; tiêm phòng lở mồm long móng, "
    "tụ huyết trùng cho trâu, bò, lợn đợt 2 năm 2026 trên địa bàn xã và hướng dẫn các hộ chăn "
    "nuôi đăng ký, chuẩn bị chuồng trại, giấy tờ và thực hiện các biện pháp an toàn sinh học."
)[:269]
SENTENCE = (
    "Ủy ban nhân dân xã đề nghị các hộ chăn nuôi đưa vật nuôi đến điểm tiêm đúng giờ, "
    "mang theo sổ theo dõi và thực hiện vệ sinh chuồng trại sau khi tiêm. "
)
BODY = (
    "\n".join(f"{i}. {SENTENCE * 3}".strip() for i in range(1, 40))[:2173].rsplit(" ", 1)[0]
    + " KẾT-THÚC."
)


def draft(code: str = COMMUNE_A, author: str = "operator"):
    return content.create(user=user(author), unit=unit(code), data={"title": TITLE, "body": BODY})


@pytest.mark.django_db
def test_preview_page_carries_the_whole_bulletin_for_the_player(client, users):
    assert len(TITLE) == 269 and 2_100 < len(BODY) <= 2_183
    bulletin = draft()
    client.force_login(users["operator"])
    page = client.get(f"/bang-tin-dien-tu/xem-truoc/ban-tin/{bulletin.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-mode="item"' in html
    data = json.loads(re.search(r'id="preview-item"[^>]*>(.*?)</script>', html, re.S).group(1))
    item = data["items"][0]
    assert item["title"] == TITLE and " ".join(item["paragraphs"]).endswith("KẾT-THÚC.")
    # The editor sees it from the bulletin page, before publishing.
    editor = client.get(f"/ban-tin/{bulletin.pk}/").content.decode()
    assert f"/bang-tin-dien-tu/xem-truoc/ban-tin/{bulletin.pk}/" in editor


@pytest.mark.django_db
def test_preview_of_another_communes_bulletin_is_404(client, users):
    other = draft(COMMUNE_B, "operator2")
    client.force_login(users["operator"])
    assert client.get(f"/bang-tin-dien-tu/xem-truoc/ban-tin/{other.pk}/").status_code == 404


@pytest.mark.browser
def test_long_bulletin_is_paged_until_all_of_it_is_read(browser, live_demo):
    from django.conf import settings
    from django.test import Client

    bulletin = draft()
    web = Client()
    web.force_login(user("operator"))
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": web.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_demo.url,
            }
        ]
    )
    page = context.new_page()
    page.clock.install()
    page.goto(f"{live_demo.url}/bang-tin-dien-tu/xem-truoc/ban-tin/{bulletin.pk}/")
    page.wait_for_function(
        "t => document.getElementById('item-title').textContent === t", arg=TITLE
    )
    pages = page.evaluate("() => window.__boardPages")
    assert pages["pages"] >= 2, pages
    assert page.inner_text("#item-page") == f"Trang 1/{pages['pages']}"
    seen_bottom = []
    for n in range(2, pages["pages"] + 1):
        page.clock.run_for(pages["perPage"] * 1000 + 100)
        assert page.inner_text("#item-page") == f"Trang {n}/{pages['pages']}"
    # On the last page the end of the body is inside the visible box.
    seen_bottom = page.evaluate(
        """() => {
            const box = document.getElementById('item-text');
            const last = box.querySelector('#item-body p:last-child').getBoundingClientRect();
            const frame = box.getBoundingClientRect();
            return [last.bottom <= frame.bottom + 1, last.top >= frame.top - 1,
                    box.querySelector('#item-body p:last-child').textContent];
        }"""
    )
    assert seen_bottom[0] and seen_bottom[1] and seen_bottom[2].endswith("KẾT-THÚC.")
    # The item is not replaced before its last page has been read.
    assert page.evaluate("() => window.__board.current.id") == f"preview-{bulletin.pk}"
    context.close()
