"""The console home as a work queue, and a navigation that shows only what each role opens."""

import re

import pytest

from grassroots.content import actions as content
from grassroots.core.testing import COMMUNE_A
from grassroots.core.testing import unit as get_unit

DEMO = ["admin", "editor", "approver", "viewer", "operator", "operator2"]


def nav_links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)" data-nav="', html)


@pytest.mark.django_db
@pytest.mark.parametrize("username", DEMO)
def test_every_navigation_link_opens_for_the_role(client, users, username):
    client.force_login(users[username])
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    links = nav_links(html)
    assert links, "the navigation shows something to every demo role"
    for href in links:
        assert client.get(href).status_code == 200, href
    # six groups at most, as dropdowns
    assert html.count('class="nav-item dropdown"') <= 6
    # "Khẩn cấp" is highlighted only for roles that may start one
    can = username in ("admin", "operator")
    assert ('id="nav-emergency"' in html) is can


@pytest.mark.django_db
def test_roles_do_not_see_links_that_would_answer_403(client, users):
    client.force_login(users["editor"])
    links = nav_links(client.get("/").content.decode())
    assert "/ban-tin/cho-duyet/" not in links and "/nguoi-dung/" not in links
    assert "/nhat-ky/" not in links and "/ban-tin/moi/" in links
    client.force_login(users["viewer"])
    links = nav_links(client.get("/").content.decode())
    assert "/ban-tin/moi/" not in links and "/vai-tro/" not in links
    assert "/dai-truyen-thanh/bao-cao-phat/" in links and "/ke-hoach-chuyen-doi/" in links


@pytest.mark.django_db
def test_province_viewer_home_shows_names_not_codes(client, users):
    client.force_login(users["viewer"])
    html = client.get("/").content.decode()
    assert "accounts.view" not in html and "kpi.view" not in html
    assert "Đơn vị trong phạm vi" not in html
    assert "Người xem" in html and "Tỉnh Hưng Yên" in html and "Xem thiết bị" in html
    assert 'data-work="offline"' in html and 'data-work="approvals"' not in html


@pytest.mark.django_db
def test_returned_bulletin_is_a_notice_and_a_counter_for_its_author(client, users):
    b = content.create(user=users["editor"], unit=get_unit("33"), data={"title": "Tin cần sửa"})
    content.submit(bulletin=b, user=users["editor"])
    client.force_login(users["approver"])
    html = client.get("/").content.decode()
    assert re.search(r'data-work="approvals".*?work-count">1<', html, re.S)
    assert "Tin cần sửa" in html
    content.request_changes(bulletin=b, user=users["approver"], comment="Thiếu ngày giờ.")
    client.force_login(users["editor"])
    html = client.get("/").content.decode()
    assert 'id="returned-notice"' in html and f'href="/ban-tin/{b.pk}/"' in html
    assert re.search(r"Nội dung <span[^>]*nav-count\">1<", html)


@pytest.mark.django_db
def test_operator_home_lists_new_inbox_items_to_pick_up(client, users):
    from grassroots.signage.tests.helpers import approved_bulletin

    b = approved_bulletin("33", "Lịch tiêm chủng", author="editor", targets=[COMMUNE_A])
    content.publish(bulletin=b, user=users["approver"])
    client.force_login(users["operator"])
    html = client.get("/").content.decode()
    assert re.search(r'data-work="inbox".*?work-count">1<', html, re.S)
    assert "Lịch tiêm chủng" in html
    client.force_login(users["operator2"])
    html = client.get("/").content.decode()
    assert re.search(r'data-work="inbox".*?work-count">0<', html, re.S)


@pytest.mark.django_db
def test_a_403_is_logged_as_one_line_without_a_traceback(client, users, caplog):
    client.force_login(users["editor"])
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/nguoi-dung/").status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None and record.exc_text is None
    line = record.getMessage()
    assert "\n" not in line and "/nguoi-dung/" in line and "user=editor" in line
    assert "quản lý người dùng" in line


@pytest.mark.django_db
def test_home_and_navigation_in_english(client, users):
    client.force_login(users["viewer"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("Waiting work", "Monitoring", "Bulletin airplay report", "View devices"):
        assert text in html, text
    for text in ("Việc đang chờ", "Giám sát", "Xem thiết bị"):
        assert text not in html, text


def test_favicon_is_served_not_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("core/favicon.svg")
    html = client.get("/dang-nhap/").content.decode()
    assert 'rel="icon"' in html and "· grassroots" not in html


@pytest.mark.django_db
def test_central_home_names_the_national_admin_and_shows_the_exchange(client, users, settings):
    """At the centre the admin role (same code) is named for the level, and the home page has
    no loudspeaker or device work but the failed messages to the provinces; at a province the
    name comes back and the device cards are there."""
    from grassroots.accounts.demo import ensure_roles
    from grassroots.accounts.models import Role
    from grassroots.exchange import outbound
    from grassroots.exchange.choices import DeliveryStatus, Kind
    from grassroots.exchange.models import OutboundMessage
    from grassroots.exchange.tests.helpers import Remote, bulletin_body

    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central"}
    ensure_roles()  # what `load_demo` does at the centre's start
    admin = Role.objects.get(slug="province_admin")
    assert admin.name == "Quản trị cấp trung ương"
    peer = Remote(code="province-x").declare(kinds_out=[Kind.BULLETIN], name="Hệ thống tỉnh X")
    [row] = outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id="m",
                          body=bulletin_body(), title="Tin lỗi")  # fmt: skip
    OutboundMessage.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED)
    client.force_login(users["admin"])
    html = client.get("/").content.decode()
    scope = re.search(r'id="home-scope">(.*?)</p>', html, re.S).group(1)
    assert "Quản trị cấp trung ương" in scope and "Quản trị cấp tỉnh" not in scope
    for key in ("offline", "faults", "emergencies", "inbox", "proposals"):
        assert f'data-work="{key}"' not in html
    assert re.search(r'data-work="exchange_failed".*?work-count">1<', html, re.S)
    assert f"?status=failed#message-{row.pk}" in html
    assert html.count('class="nav-item dropdown"') <= 6
    # an administrator's own name for the role is never overwritten
    Role.objects.filter(pk=admin.pk).update(name="Quản trị viên")
    ensure_roles()
    assert Role.objects.get(pk=admin.pk).name == "Quản trị viên"
    Role.objects.filter(pk=admin.pk).update(name="Quản trị cấp trung ương")
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "province"}
    ensure_roles()
    assert Role.objects.get(pk=admin.pk).name == "Quản trị cấp tỉnh"
    html = client.get("/").content.decode()
    assert 'data-work="offline"' in html and 'data-work="exchange_failed"' not in html
