"""Officer console pages: inbox in scope, actions from the detail page, moderation, keys."""

import pytest

from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.feedback.choices import ReportStatus, Resolution
from grassroots.feedback.models import Open311Key, Report

from .helpers import make_report


@pytest.fixture
def officer(client, users):
    client.force_login(users["operator"])
    return client


@pytest.mark.django_db
def test_inbox_shows_only_the_officers_units(officer):
    mine, other = make_report(COMMUNE_A), make_report(COMMUNE_B)
    html = officer.get("/xu-ly-phan-anh/").content.decode()
    assert mine.tracking_code in html and other.tracking_code not in html
    assert officer.get(f"/xu-ly-phan-anh/{other.pk}/").status_code == 404


@pytest.mark.django_db
def test_inbox_needs_login_and_permission(client, users):
    assert client.get("/xu-ly-phan-anh/").status_code == 302
    from grassroots.core.testing import make_user

    client.force_login(make_user("khac", permissions=["units.view"], unit_code=COMMUNE_A))
    assert client.get("/xu-ly-phan-anh/").status_code == 403


@pytest.mark.django_db
def test_nav_link_points_to_the_inbox(officer):
    assert 'href="/xu-ly-phan-anh/"' in officer.get("/").content.decode()


@pytest.mark.django_db
def test_answer_assign_close_reopen_from_the_detail_page(officer, users):
    r = make_report(COMMUNE_A)
    url = f"/xu-ly-phan-anh/{r.pk}/"
    assert "Gửi trả lời" in officer.get(url).content.decode()
    officer.post(url + "giao/", {"assignee": users["operator"].pk})
    r.refresh_from_db()
    assert r.assignee == users["operator"] and r.status == ReportStatus.IN_PROGRESS
    resp = officer.post(url + "tra-loi/", {"public_answer": "Đã xử lý", "resolution": ""})
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == ReportStatus.ANSWERED and r.answered_by == users["operator"]
    officer.post(url + "dong/", {"resolution": "resolved", "note": ""})
    r.refresh_from_db()
    assert r.status == ReportStatus.CLOSED
    officer.post(url + "mo-lai/", {"reason": "Dân báo chưa xong"})
    r.refresh_from_db()
    assert r.status == ReportStatus.IN_PROGRESS
    assert ObjectChange.objects.filter(object_id=str(r.pk), user=users["operator"]).count() >= 4


@pytest.mark.django_db
def test_errors_are_shown_in_vietnamese(officer):
    r = make_report(COMMUNE_A)
    resp = officer.post(f"/xu-ly-phan-anh/{r.pk}/tra-loi/", {"public_answer": ""}, follow=True)
    assert "Hãy viết nội dung trả lời" in resp.content.decode()
    resp = officer.post(f"/xu-ly-phan-anh/{r.pk}/chuyen/", {"unit_code": COMMUNE_B}, follow=True)
    assert "Hãy ghi lý do chuyển đơn vị" in resp.content.decode()
    assert officer.post(f"/xu-ly-phan-anh/{r.pk}/khong-co/").status_code == 404


@pytest.mark.django_db
def test_reroute_and_merge_from_the_console(officer):
    a, b = make_report(COMMUNE_A), make_report(COMMUNE_A)
    officer.post(f"/xu-ly-phan-anh/{b.pk}/gop/", {"into": a.tracking_code.lower()})
    b.refresh_from_db()
    assert b.merged_into == a and b.resolution == Resolution.DUPLICATE
    resp = officer.post(
        f"/xu-ly-phan-anh/{a.pk}/chuyen/", {"unit_code": COMMUNE_B, "reason": "Không thuộc xã"}
    )
    assert resp.status_code == 302 and resp["Location"] == "/xu-ly-phan-anh/"  # handed over
    assert Report.objects.get(pk=a.pk).unit.code == COMMUNE_B


@pytest.mark.django_db
def test_moderation_queue_and_restore(officer):
    r = make_report(COMMUNE_A, text="Nội dung quảng cáo rác")
    officer.post(f"/xu-ly-phan-anh/{r.pk}/dong/", {"resolution": "hidden_abuse"})
    assert r.tracking_code in officer.get("/xu-ly-phan-anh/kiem-duyet/").content.decode()
    officer.post(f"/xu-ly-phan-anh/{r.pk}/khoi-phuc/")
    r.refresh_from_db()
    assert r.resolution == "" and r.status == ReportStatus.IN_PROGRESS
    assert r.tracking_code not in officer.get("/xu-ly-phan-anh/kiem-duyet/").content.decode()


@pytest.mark.django_db
def test_viewer_sees_everything_below_but_cannot_act(client, users):
    r = make_report(COMMUNE_B)
    client.force_login(users["viewer"])
    html = client.get(f"/xu-ly-phan-anh/{r.pk}/").content.decode()
    assert "Bạn chỉ có quyền xem" in html
    assert (
        client.post(f"/xu-ly-phan-anh/{r.pk}/dong/", {"resolution": "resolved"}).status_code == 403
    )


@pytest.mark.django_db
def test_keys_page_issues_a_key_once(client, users):
    client.force_login(users["admin"])
    html = client.post("/xu-ly-phan-anh/open311/", {"name": "Ứng dụng quốc gia"}).content.decode()
    key = Open311Key.objects.get()
    assert 'id="new-key">o311_' in html and key.prefix in html
    assert (
        "o311_" not in client.get("/xu-ly-phan-anh/open311/").content.decode().split("<tbody>")[0]
    )
    client.post("/xu-ly-phan-anh/open311/", {"revoke": key.pk})
    key.refresh_from_db()
    assert key.revoked_at is not None
    client.force_login(users["operator"])
    assert client.get("/xu-ly-phan-anh/open311/").status_code == 403
