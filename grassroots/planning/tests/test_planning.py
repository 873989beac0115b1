"""Funding by source and year, e-board sites from proposal to installed board, inspections
with their as-run evidence: actions, API and console on hand-made data."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from grassroots.broadcast.models import AsRunEntry
from grassroots.broadcast.tests.factories import station
from grassroots.core.dates import VIETNAM
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, unit
from grassroots.devices.tests.factories import DeviceFactory
from grassroots.planning import actions
from grassroots.planning.models import EboardSite, Inspection, Investment
from grassroots.planning.querysets import funding_summary
from grassroots.planning.templatetags.money import format_dong

pytestmark = pytest.mark.django_db


def _inv(code, year, source, planned, spent, purpose="station_conversion"):
    return Investment.objects.create(
        unit=unit(code),
        year=year,
        source=source,
        planned_amount=planned,
        spent_amount=spent,
        purpose=purpose,
        title="Chuyển đổi đài",
    )


def test_money_is_written_as_officers_write_it():
    assert format_dong(1_250_000_000) == "1.250.000.000 đ"
    assert format_dong(0) == "0 đ" and format_dong(None) == ""


def test_funding_summary_by_year_and_source(users):
    _inv(COMMUNE_A, 2026, "provincial_budget", 1_000_000_000, 400_000_000)
    _inv(COMMUNE_A, 2026, "provincial_budget", 250_000_000, 0, purpose="eboard")
    _inv(COMMUNE_A, 2026, "socialised", 300_000_000, 300_000_000, purpose="eboard")
    _inv(COMMUNE_B, 2025, "commune_budget", 120_000_000, 95_500_000, purpose="maintenance")
    s = funding_summary(Investment.objects.all())
    assert [(r["year"], r["source"], r["planned"], r["spent"]) for r in s["rows"]] == [
        (2026, "provincial_budget", 1_250_000_000, 400_000_000),
        (2026, "socialised", 300_000_000, 300_000_000),
        (2025, "commune_budget", 120_000_000, 95_500_000),
    ]
    assert s["total"] == {"planned": 1_670_000_000, "spent": 795_500_000}
    assert s["years"][2026] == {"planned": 1_550_000_000, "spent": 700_000_000}
    assert s["rows"][1]["source_label"] == "Xã hội hóa"


def test_investment_api_checks_amounts_scope_and_links(client, users):
    admin, operator = users["admin"], users["operator"]
    body = {
        "unit": COMMUNE_A,
        "year": 2026,
        "purpose": "station_conversion",
        "source": "national_programme",
        "title": "Chuyển đổi đài phường Phố Hiến sang IP",
        "planned_amount": 850_000_000,
        "spent_amount": 120_000_000,
        "decision": "QĐ 123/QĐ-UBND",
    }
    before = ObjectChange.objects.count()
    r = call(client, "post", "/api/v1/planning/investments", user=admin, body=body)
    assert r.status_code == 201, r.content
    assert r.json()["source_label"] == "Chương trình mục tiêu quốc gia"
    assert ObjectChange.objects.count() == before + 1
    assert_problem(
        call(
            client,
            "post",
            "/api/v1/planning/investments",
            user=admin,
            body={**body, "planned_amount": -5},
        ),
        422,
    )
    assert_problem(
        call(
            client,
            "post",
            "/api/v1/planning/investments",
            user=admin,
            body={**body, "source": "ngan_sach_huyen"},
        ),
        422,
    )
    other = station(COMMUNE_B)
    bad = call(
        client,
        "post",
        "/api/v1/planning/investments",
        user=admin,
        body={**body, "station": other.pk},
    )
    assert "phải thuộc" in assert_problem(bad, 422)["detail"]
    assert_problem(
        call(client, "post", "/api/v1/planning/investments", user=operator, body=body), 403
    )
    r = call(client, "get", "/api/v1/planning/funding?year=2026", user=operator)
    assert r.json()["total_planned"] == 850_000_000 and r.json()["total_spent"] == 120_000_000
    r = call(client, "get", "/api/v1/planning/funding", user=users["operator2"])
    assert r.json()["rows"] == []  # COMMUNE_B sees none of COMMUNE_A's money


def test_site_goes_from_proposal_to_review_to_installed_board(client, users):
    operator, admin = users["operator"], users["admin"]
    r = call(
        client,
        "post",
        "/api/v1/planning/eboard-sites",
        user=operator,
        body={
            "unit": COMMUNE_A,
            "address": "Trước Nhà văn hóa khu phố 3",
            "reason": "Nhiều người qua lại, có điện lưới",
            "latitude": 20.65,
            "longitude": 106.05,
        },
    )
    assert r.status_code == 201, r.content
    site = EboardSite.objects.get(pk=r.json()["id"])
    assert site.status == "proposed" and site.proposed_by == operator
    assert_problem(
        call(
            client,
            "post",
            "/api/v1/planning/eboard-sites",
            user=operator,
            body={"unit": COMMUNE_B, "address": "x", "reason": "y"},
        ),
        404,
    )
    # The commune cannot approve its own proposal; the province rejects only with a reason.
    assert_problem(
        call(
            client,
            "post",
            f"/api/v1/planning/eboard-sites/{site.pk}/review",
            user=operator,
            body={"approve": True},
        ),
        403,
    )
    no_reason = call(
        client,
        "post",
        f"/api/v1/planning/eboard-sites/{site.pk}/review",
        user=admin,
        body={"approve": False},
    )
    assert "lý do" in assert_problem(no_reason, 422)["detail"]
    board = DeviceFactory(unit=unit(COMMUNE_A), kind="board", name="Bảng tin khu phố 3")
    early = call(
        client,
        "post",
        f"/api/v1/planning/eboard-sites/{site.pk}/board",
        user=operator,
        body={"board": board.pk},
    )
    assert "đã được duyệt" in assert_problem(early, 422)["detail"]
    r = call(
        client,
        "post",
        f"/api/v1/planning/eboard-sites/{site.pk}/review",
        user=admin,
        body={"approve": True, "note": "Phù hợp quy hoạch"},
    )
    assert r.json()["status"] == "approved"
    again = call(
        client,
        "post",
        f"/api/v1/planning/eboard-sites/{site.pk}/review",
        user=admin,
        body={"approve": False, "note": "x"},
    )
    assert_problem(again, 422)
    speaker = DeviceFactory(unit=unit(COMMUNE_A))
    assert_problem(
        call(
            client,
            "post",
            f"/api/v1/planning/eboard-sites/{site.pk}/board",
            user=operator,
            body={"board": speaker.pk},
        ),
        422,
    )
    r = call(
        client,
        "post",
        f"/api/v1/planning/eboard-sites/{site.pk}/board",
        user=operator,
        body={"board": board.pk, "installed_on": "2026-10-15"},
    )
    assert r.json()["status"] == "installed" and r.json()["board"] == board.pk
    assert r.json()["installed_on"] == "2026-10-15"
    listed = call(client, "get", "/api/v1/planning/eboard-sites", user=users["operator2"]).json()
    assert listed == []


def _entry(device, when, status="played", kind="media", reason=""):
    return AsRunEntry.objects.create(
        id=uuid.uuid4(),
        device=device,
        station=device.station,
        manifest_item="s1-x",
        kind=kind,
        started_at=when,
        status=status,
        reason=reason,
    )


def _vn(day, hour):
    return dt.datetime(2026, 11, day, hour, tzinfo=VIETNAM)


def test_inspection_attaches_the_periods_as_run_evidence(client, users):
    st = station(COMMUNE_A)
    one, two = DeviceFactory(unit=unit(COMMUNE_A)), DeviceFactory(unit=unit(COMMUNE_A))
    _entry(one, _vn(2, 6))  # 2/11 in the period
    _entry(one, _vn(2, 17), kind="relay")
    _entry(two, _vn(3, 6), status="cut")
    _entry(two, _vn(4, 6), status="failed", reason="no_media")
    _entry(one, dt.datetime(2026, 11, 7, 23, 30, tzinfo=VIETNAM))  # 7/11 late evening: inside
    _entry(one, dt.datetime(2026, 11, 8, 0, 30, tzinfo=VIETNAM))  # 8/11: after the period
    _entry(one, _vn(1, 5) - dt.timedelta(hours=1))  # 1/11 04:00: the first day, inside
    outside = DeviceFactory(unit=unit(COMMUNE_B), station=station(COMMUNE_B))
    _entry(outside, _vn(3, 6))  # another commune's station
    body = {
        "station": st.pk,
        "kind": "unannounced",
        "inspected_on": "2026-11-10",
        "inspector": "Đoàn kiểm tra Sở VHTTDL",
        "period_start": "2026-11-01",
        "period_end": "2026-11-07",
        "equipment_ok": True,
        "relay_slots_kept": False,
        "content_approved": True,
        "findings": "Không tiếp sóng buổi chiều 5/11.",
        "follow_up": "Khôi phục lịch tiếp sóng",
        "follow_up_deadline": "2026-11-30",
    }
    r = call(client, "post", "/api/v1/planning/inspections", user=users["admin"], body=body)
    assert r.status_code == 201, r.content
    e = r.json()["evidence"]
    assert (e["entries"], e["played"], e["cut"], e["failed"], e["relay"]) == (6, 4, 1, 1, 1)
    assert (e["devices"], e["days"], e["days_aired"]) == (2, 7, 4)  # 1, 2, 3 and 7 November
    assert e["failure_reasons"] == {"no_media": 1}
    assert r.json()["checklist"] == {
        "equipment_ok": True,
        "relay_slots_kept": False,
        "content_approved": True,
        "logs_kept": None,
    }
    late = call(
        client,
        "post",
        "/api/v1/planning/inspections",
        user=users["admin"],
        body={**body, "period_end": "2026-11-12"},
    )
    assert "trước hoặc vào ngày kiểm tra" in assert_problem(late, 422)["detail"]
    assert_problem(
        call(client, "post", "/api/v1/planning/inspections", user=users["operator"], body=body), 403
    )
    i = Inspection.objects.get()
    assert_problem(
        call(client, "get", f"/api/v1/planning/inspections/{i.pk}", user=users["operator2"]), 404
    )
    assert (
        call(client, "get", f"/api/v1/planning/inspections/{i.pk}", user=users["operator"]).json()[
            "evidence"
        ]["entries"]
        == 6
    )


def test_actions_refuse_bad_input_in_vietnamese(users):
    with pytest.raises(ValidationError) as caught:
        actions.propose_site(
            user=users["operator"],
            unit=unit(COMMUNE_A),
            address="",
            reason="",
            latitude=50.0,
            longitude=None,
        )
    assert set(caught.value.message_dict) == {"address", "reason", "latitude"}
    with pytest.raises(ValidationError) as caught:
        actions.save_investment(
            user=users["admin"],
            unit=unit(COMMUNE_A),
            data={
                "year": 1999,
                "purpose": "x",
                "source": "y",
                "title": " ",
                "planned_amount": -1,
                "spent_amount": 0,
            },
        )
    assert set(caught.value.message_dict) == {
        "year",
        "purpose",
        "source",
        "title",
        "planned_amount",
    }


def test_console_pages_show_money_evidence_and_refuse_writes(client, users):
    _inv(COMMUNE_A, 2026, "provincial_budget", 1_250_000_000, 400_000_000)
    st = station(COMMUNE_A)
    client.force_login(users["admin"])
    page = client.get("/ke-hoach/kinh-phi/?year=2026").content.decode()
    assert "1.250.000.000 đ" in page and "400.000.000 đ" in page
    r = client.post(
        "/ke-hoach/kinh-phi/",
        {
            "unit": COMMUNE_A,
            "year": "2026",
            "purpose": "eboard",
            "source": "socialised",
            "title": "Bảng tin chợ",
            "planned_amount": "1.200.000",
            "spent_amount": "",
        },
    )
    assert r.status_code == 302
    assert Investment.objects.get(title="Bảng tin chợ").planned_amount == 1_200_000
    r = client.post(
        "/ke-hoach/kiem-tra/",
        {
            "station": st.pk,
            "kind": "periodic",
            "inspected_on": "2026-11-10",
            "inspector": "Sở",
            "period_start": "2026-11-01",
            "period_end": "2026-11-07",
            "equipment_ok": "1",
            "logs_kept": "0",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    detail = client.get(r["Location"]).content.decode()
    assert "01/11/2026" in detail and "Không đạt" in detail and "không kiểm tra" in detail
    client.force_login(users["operator"])
    assert client.post("/ke-hoach/kinh-phi/", {"unit": COMMUNE_A}).status_code == 403
    r = client.post(
        "/ke-hoach/vi-tri-bang-tin/",
        {"unit": COMMUNE_A, "address": "Chợ <Phố>", "reason": "Đông người"},
    )
    assert r.status_code == 302
    assert "Chợ &lt;Phố&gt;" in client.get(r["Location"]).content.decode()


def test_demo_records_are_plausible_and_load_once(users):
    from grassroots.planning import demo as planning_demo
    from grassroots.training import demo as training_demo
    from grassroots.training.querysets import staff_trained

    assert training_demo.load() == {"training": 5}
    assert planning_demo.load() == {"planning": 10}
    assert training_demo.load() == {"training": 0} and planning_demo.load() == {"planning": 0}
    share = staff_trained(unit("33"), start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert (share.trained, share.required) == (2, 5)  # Hà and Hùng passed; Phương was absent
    s = funding_summary(Investment.objects.filter(year=2026))
    assert s["total"] == {"planned": 1_510_000_000, "spent": 809_500_000}
    assert EboardSite.objects.filter(status="approved").count() == 1
    assert Inspection.objects.get().evidence["days"] == 15
