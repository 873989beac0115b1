"""Training records: the "staff trained" indicator, who needs training, the XLSX attendance
import (all or nothing, per-row Vietnamese errors), the API and the console, on hand-made data."""

import datetime as dt
from decimal import Decimal

import pytest

from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, make_user, unit
from grassroots.training import actions
from grassroots.training.choices import Position, Result
from grassroots.training.models import Attendance, StaffMember
from grassroots.training.querysets import needing_training, staff_trained, staff_trained_by_unit

from .helpers import session, staff, workbook

pytestmark = pytest.mark.django_db
Y2026 = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 12, 31)}


@pytest.fixture
def officer(users):
    """Manages training on COMMUNE_A only (sees the province's courses through nothing)."""
    return make_user(
        "daotao", permissions=["training.view", "training.manage"], unit_code=COMMUNE_A
    )


def _passed(s, person, result=Result.PASSED):
    return Attendance.objects.create(session=s, staff=person, result=result)


def test_indicator_counts_required_staff_in_post_during_the_period(users):
    a1 = staff(COMMUNE_A, "Nguyễn Thị Hoa")  # trained in 2026
    staff(COMMUNE_A, "Trần Văn Nam")  # required, not trained
    a3 = staff(COMMUNE_A, "Lê Văn Tùng", start=dt.date(2025, 1, 1))  # failed: not trained
    staff(COMMUNE_A, "Phạm Văn Cũ", end=dt.date(2025, 12, 31))  # left before 2026: not counted
    staff(COMMUNE_A, "Đỗ Thị Mới", start=dt.date(2027, 2, 1))  # starts after: not counted
    staff(COMMUNE_A, "Vũ Văn Bảo vệ", position=Position.OTHER, requires=False)  # not required
    b1 = staff(COMMUNE_B, "Hoàng Thị Lan")
    s2026 = session()
    s2025 = session(starts=dt.date(2025, 5, 1), ends=dt.date(2025, 5, 2))
    _passed(s2026, a1)
    _passed(s2026, a3, Result.FAILED)
    _passed(s2025, b1)  # trained, but in 2025

    share = staff_trained(unit(COMMUNE_A), **Y2026)
    assert (share.trained, share.required, share.percent) == (1, 3, 33.3)
    share_b = staff_trained(unit(COMMUNE_B), **Y2026)
    assert (share_b.trained, share_b.required) == (0, 1)
    assert (
        staff_trained(unit(COMMUNE_B), start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)).ratio
        == 1.0
    )
    province = staff_trained(unit("33"), **Y2026)
    assert (province.trained, province.required) == (1, 4)
    # A commune with nobody on record: no data, not 0 %.
    other = unit("33").children.exclude(code__in=[COMMUNE_A, COMMUNE_B]).first()
    assert staff_trained(other, **Y2026) is None
    by_unit = staff_trained_by_unit([unit(COMMUNE_A), other], **Y2026)
    assert by_unit[other.pk] is None and by_unit[unit(COMMUNE_A).pk].trained == 1

    names = sorted(p.full_name for p in needing_training(StaffMember.objects.all(), **Y2026))
    assert names == ["Hoàng Thị Lan", "Lê Văn Tùng", "Trần Văn Nam"]


def _people():
    return (
        staff(COMMUNE_A, "Nguyễn Thị Hoa"),
        staff(COMMUNE_A, "Trần Văn Nam"),
        staff(COMMUNE_B, "Lê Thị Thu"),
    )


GOOD_ROWS = [
    [1, COMMUNE_A, "Nguyễn Thị Hoa", "Cán bộ VH-XH", dt.date(2026, 3, 5), "Đạt", 8.5, None],
    [2, None, "tran van nam", "Cán bộ đài", "06/03/2026", "Không đạt", "4,5", None],
    [3, COMMUNE_B, "Lê Thị Thu", "Cán bộ đài", None, "dat", None, None],
]


def test_import_reads_titles_merged_cells_text_dates_and_saves_every_row(users):
    hoa, nam, thu = _people()
    s = session()
    data = workbook(GOOD_ROWS, merge=["B3:B4"])  # COMMUNE_A merged over Hoa's and Nam's rows
    result = actions.import_attendance(user=users["admin"], session=s, data=data)
    assert (result.created, result.updated) == (3, 0)
    got = {a.staff_id: a for a in Attendance.objects.filter(session=s)}
    assert got[hoa.pk].result == "passed" and got[hoa.pk].score == Decimal("8.5")
    assert got[hoa.pk].attended_on == dt.date(2026, 3, 5)
    assert got[nam.pk].result == "failed" and got[nam.pk].attended_on == dt.date(2026, 3, 6)
    assert got[nam.pk].score == Decimal("4.5")
    assert got[thu.pk].result == "passed"
    # The same list again updates, it does not duplicate.
    again = actions.import_attendance(user=users["admin"], session=s, data=data)
    assert (again.created, again.updated) == (0, 3)
    assert Attendance.objects.filter(session=s).count() == 3


def test_a_bad_file_saves_nothing_and_names_every_bad_row_in_vietnamese(users):
    _people()
    s = session()
    rows = [
        [1, COMMUNE_A, "Nguyễn Thị Hoa", "", "05/03/2026", "Đạt", 9, None],  # fine
        [2, COMMUNE_A, "Trần Văn Nam", "", "31/02/2026", "Đạt", None, None],  # impossible day
        [3, COMMUNE_A, "Ngô Văn Lạ", "", None, "Đạt", None, None],  # not on the roster
        [4, "99999", "Lê Thị Thu", "", None, "Đạt", None, None],  # no such unit
        [5, COMMUNE_B, "Lê Thị Thu", "", None, "Giỏi", 11, None],  # bad result and score
        [6, COMMUNE_A, "Nguyễn Thị Hoa", "", "10/03/2026", "Đạt", None, None],  # twice, late
    ]
    before = (Attendance.objects.count(), ObjectChange.objects.count())
    with pytest.raises(actions.Problem) as caught:
        actions.import_attendance(user=users["admin"], session=s, data=workbook(rows))
    assert (Attendance.objects.count(), ObjectChange.objects.count()) == before
    errors = caught.value.extra["errors"]
    by_row = {}
    for e in errors:
        by_row.setdefault(e["row"], []).append(e["message"])
    assert set(by_row) == {4, 5, 6, 7, 8}  # sheet rows: title, header, then row 1 at 3
    assert "31/02/2026" in by_row[4][0] and "ngày có thật" in by_row[4][0]
    assert "chưa có trong danh sách cán bộ" in by_row[5][0]
    assert "không có đơn vị mã '99999'" in by_row[6][0]
    assert any("'Giỏi' không hợp lệ" in m for m in by_row[7])
    assert any("Điểm" in m for m in by_row[7])
    assert "đã có ở dòng 3" in by_row[8][0]
    assert "Dòng 4:" in by_row[4][0]
    assert caught.value.status == 422 and "chưa lưu" in caught.value.detail


def test_a_file_without_the_required_columns_says_which_and_the_template(users):
    s = session()
    data = workbook([[1, COMMUNE_A, "Nguyễn Thị Hoa"]], headers=["STT", "Mã đơn vị", "Tên"])
    with pytest.raises(actions.Problem) as caught:
        actions.import_attendance(user=users["admin"], session=s, data=data)
    messages = " ".join(e["message"] for e in caught.value.extra["errors"])
    assert "Thiếu cột 'Họ và tên'" in messages and "Thiếu cột 'Kết quả'" in messages
    with pytest.raises(actions.Problem) as junk:
        actions.import_attendance(user=users["admin"], session=s, data=b"not a workbook")
    assert "Không đọc được tệp" in junk.value.extra["errors"][0]["message"]


def test_import_refuses_people_outside_the_officers_units(officer):
    _people()
    s = session(COMMUNE_A)
    rows = [
        [1, COMMUNE_A, "Nguyễn Thị Hoa", "", None, "Đạt", None, None],
        [2, COMMUNE_B, "Lê Thị Thu", "", None, "Đạt", None, None],
    ]
    with pytest.raises(actions.Problem) as caught:
        actions.import_attendance(user=officer, session=s, data=workbook(rows))
    assert [e["row"] for e in caught.value.extra["errors"]] == [4]
    assert Attendance.objects.count() == 0


# --- API ---------------------------------------------------------------------------------------


def test_api_roster_is_scoped_and_audited(client, officer, users):
    body = {
        "unit": COMMUNE_A,
        "full_name": "Bùi Thị Mai",
        "position": "culture_officer",
        "start_date": "2026-02-01",
    }
    before = ObjectChange.objects.count()
    r = call(client, "post", "/api/v1/training/staff", user=officer, body=body)
    assert r.status_code == 201, r.content
    assert r.json()["requires_training"] is True and r.json()["unit"]["code"] == COMMUNE_A
    assert ObjectChange.objects.count() == before + 1
    other = staff(COMMUNE_B, "Lê Thị Thu")
    assert_problem(
        call(
            client, "post", "/api/v1/training/staff", user=officer, body={**body, "unit": COMMUNE_B}
        ),
        404,
    )
    assert_problem(
        call(
            client,
            "patch",
            f"/api/v1/training/staff/{other.pk}",
            user=officer,
            body={"full_name": "X"},
        ),
        404,
    )
    bad = call(
        client,
        "post",
        "/api/v1/training/staff",
        user=officer,
        body={**body, "start_date": "2026-02-30"},
    )
    assert assert_problem(bad, 422)["errors"][0]["field"].endswith("start_date")
    listed = call(client, "get", "/api/v1/training/staff", user=officer).json()
    assert [s["full_name"] for s in listed] == ["Bùi Thị Mai"]
    assert_problem(
        call(client, "post", "/api/v1/training/staff", user=users["viewer"], body=body), 403
    )
    assert_problem(call(client, "get", "/api/v1/training/staff"), 401)


def test_api_course_session_attendance_import_and_indicator(client, users):
    admin = users["admin"]
    hoa, nam, thu = _people()
    r = call(
        client,
        "post",
        "/api/v1/training/courses",
        user=admin,
        body={
            "unit": "33",
            "title": "An toàn thông tin cho đài truyền thanh",
            "topics": ["security", "equipment"],
        },
    )
    assert r.status_code == 201 and r.json()["topic_labels"][0] == "An toàn, an ninh thông tin"
    course = r.json()["id"]
    bad = call(
        client,
        "post",
        "/api/v1/training/sessions",
        user=admin,
        body={
            "course": course,
            "starts_on": "2026-03-06",
            "ends_on": "2026-03-05",
            "place": "Sở",
            "trainer": "A",
            "hours": 8,
        },
    )
    assert "phải sau hoặc bằng" in assert_problem(bad, 422)["detail"]
    r = call(
        client,
        "post",
        "/api/v1/training/sessions",
        user=admin,
        body={
            "course": course,
            "starts_on": "2026-03-05",
            "ends_on": "2026-03-06",
            "place": "Hội trường Sở",
            "trainer": "ThS. Bình",
            "hours": 16,
        },
    )
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    r = call(
        client,
        "post",
        f"/api/v1/training/sessions/{sid}/attendance",
        user=admin,
        body={"staff": thu.pk, "result": "passed", "score": 9},
    )
    assert r.status_code == 200 and r.json()["result_label"] == "Đạt"
    from django.core.files.uploadedfile import SimpleUploadedFile

    token = __import__("grassroots.core.testing", fromlist=["token_for"]).token_for(admin)
    upload = SimpleUploadedFile("ds.xlsx", workbook(GOOD_ROWS[:2], merge=["B3:B4"]))
    r = client.post(
        f"/api/v1/training/sessions/{sid}/attendance/import",
        {"file": upload},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200 and r.json() == {"created": 2, "updated": 0}
    upload = SimpleUploadedFile("ds.xlsx", workbook([[1, COMMUNE_A, "Ai Đó", "", "", "Đạt"]]))
    r = client.post(
        f"/api/v1/training/sessions/{sid}/attendance/import",
        {"file": upload},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    body = assert_problem(r, 422)
    assert (
        body["errors"][0]["row"] == 3 and "chưa có trong danh sách" in body["errors"][0]["message"]
    )

    r = call(
        client,
        "get",
        f"/api/v1/training/indicator?unit={COMMUNE_A}&start=2026-01-01&end=2026-12-31",
        user=admin,
    )
    assert r.json()["trained"] == 1 and r.json()["required"] == 2 and r.json()["ratio"] == 0.5
    other = unit("33").children.exclude(code__in=[COMMUNE_A, COMMUNE_B]).first()
    r = call(client, "get", f"/api/v1/training/indicator?unit={other.code}", user=admin)
    assert r.json()["ratio"] is None and r.json()["required"] is None
    r = call(client, "get", "/api/v1/training/needs?start=2026-01-01&end=2026-12-31", user=admin)
    assert [p["full_name"] for p in r.json()] == ["Trần Văn Nam"]
    assert nam.pk == r.json()[0]["id"] and hoa.pk != nam.pk
    # operator of COMMUNE_B sees the attendance of its own people only
    rows = call(
        client, "get", f"/api/v1/training/sessions/{sid}/attendance", user=users["operator2"]
    )
    assert rows.status_code == 404  # the province's session is not in COMMUNE_B's scope


# --- console -----------------------------------------------------------------------------------


def test_console_pages_scope_and_refuse_writes_without_the_right(client, users):
    staff(COMMUNE_A, "Nguyễn <b>Hoa</b>")
    staff(COMMUNE_B, "Lê Thị Thu")
    client.force_login(users["operator"])
    page = client.get("/dao-tao/can-bo/").content.decode()
    assert "Nguyễn &lt;b&gt;Hoa&lt;/b&gt;" in page and "Lê Thị Thu" not in page
    assert 'id="staff-form"' not in page
    r = client.post("/dao-tao/can-bo/", {"unit": COMMUNE_A, "full_name": "X", "position": "other"})
    assert r.status_code == 403 and StaffMember.objects.count() == 2
    needs = client.get("/dao-tao/can-dao-tao/?start=2026-01-01&end=2026-12-31").content.decode()
    assert "Nguyễn &lt;b&gt;Hoa&lt;/b&gt;" in needs and "0/1" in needs


def test_console_import_shows_row_errors_and_saves_nothing(client, users):
    _people()
    s = session()
    client.force_login(users["admin"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile(
        "ds.xlsx", workbook([[1, COMMUNE_A, "Nguyễn Thị Hoa", "", "32/03/2026", "Đạt"]])
    )
    page = client.post(f"/dao-tao/lop-hoc/{s.pk}/", {"import": "1", "file": bad})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="import-errors"' in html
    assert "Dòng 3: &#x27;32/03/2026&#x27; không phải ngày có thật" in html
    assert Attendance.objects.count() == 0
    good = SimpleUploadedFile("ds.xlsx", workbook(GOOD_ROWS, merge=["B3:B4"]))
    r = client.post(f"/dao-tao/lop-hoc/{s.pk}/", {"import": "1", "file": good})
    assert r.status_code == 302 and Attendance.objects.count() == 3
    r = client.post(
        "/dao-tao/lop-hoc/",
        {
            "course": s.course_id,
            "starts_on": "2026-04-02",
            "ends_on": "2026-04-01",
            "place": "P",
            "trainer": "T",
            "hours": "8",
        },
    )
    assert r.status_code == 200 and "phải sau hoặc bằng" in r.content.decode()
