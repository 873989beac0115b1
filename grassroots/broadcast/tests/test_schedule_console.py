"""Scheduling in the console: slots, presets, relays in their slots, proposals, the usage policy,
must-air status, and a shared bulletin onto the station or the boards (same actions as the API)."""

import pytest
import time_machine

from grassroots.broadcast.forms import SlotInput, split_rrule
from grassroots.broadcast.inbox import AUTO_PLAYLIST
from grassroots.broadcast.models import Proposal, ScheduleItem, UsagePolicy
from grassroots.content.models import BulletinShare
from grassroots.content.tests.conftest import make_bulletin
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.signage.models import Playlist

from .factories import PolicyFactory, station, store_media, vn
from .test_content_bridge import audio_for

pytestmark = pytest.mark.django_db


def slot(**kw) -> dict:
    body = {
        "title": "Tiếp sóng Đài tỉnh",
        "kind": "relay",
        "priority": "normal",
        "day": "2026-12-01",
        "at": "06:00",
        "minutes": "30",
        "repeat": "weekdays",
        "relay_type": "fm",
        "relay_frequency": "99,5",
    }
    body.update(kw)
    return body


def test_presets_become_rrules_and_come_back():
    start = vn(1, 6)
    assert SlotInput(repeat="daily").recurrence(start) == "FREQ=DAILY"
    assert SlotInput(repeat="weekdays").recurrence(start) == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    rule = SlotInput(repeat="days", days=["SA", "MO"], until="2026-12-31").recurrence(start)
    assert rule == "FREQ=WEEKLY;BYDAY=MO,SA;UNTIL=20261231T165959Z"
    assert split_rrule(rule) == ("days", ["MO", "SA"], "", "2026-12-31")
    assert SlotInput(exdates="24/12/2026, 2026-12-25").excluded()[1].day == 25
    with pytest.raises(ValueError, match="ít nhất một thứ"):
        SlotInput(repeat="days").recurrence(start)
    with pytest.raises(ValueError, match="31/12/2026"):
        SlotInput(exdates="31/02/2026").excluded()


def test_weekday_relay_edit_move_cancel_with_audit(client, users):
    a = station(COMMUNE_A)
    client.force_login(users["operator"])
    with time_machine.travel(vn(1, 5), tick=False):
        response = client.post(f"/dai-truyen-thanh/{a.pk}/lich/moi/", slot(exdates="02/12/2026"))
        assert response.status_code == 302, response.content.decode()[:2000]
        item = ScheduleItem.objects.get(title="Tiếp sóng Đài tỉnh")
        assert item.kind == "relay" and item.relay_frequency == 99.5
        assert item.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
        assert item.exdates == ["2026-12-02"] and list(item.stations.all()) == [a]
        assert ObjectChange.objects.filter(object_id=str(item.pk), action="create").exists()
        week = client.get(f"/dai-truyen-thanh/{a.pk}/tuan/?tu=2026-12-01").content.decode()
        # Mon 30/11 … Sun 6/12: Tue, Thu, Fri play (Wed excluded, weekend not in the rule).
        assert week.count("06:00–06:30") == 3 and "Tiếp sóng Đài tỉnh" in week
        page = client.get(f"/dai-truyen-thanh/{a.pk}/").content.decode()
        assert "Thứ Hai – thứ Sáu" in page and f"/lich/{item.pk}/" in page
        form = client.get(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/").content.decode()
        assert 'value="weekdays" selected' in form and "02/12/2026" in form
        assert "FM 99,50 MHz" in form
        moved = slot(at="06:15", repeat="daily", exdates="")
        assert client.post(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/", moved).status_code == 302
        item.refresh_from_db()
        assert item.rrule == "FREQ=DAILY" and item.starts_at == vn(1, 6, 15)
        assert client.post(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/huy/").status_code == 302
        item.refresh_from_db()
        assert item.status == "cancelled"
        assert ObjectChange.objects.filter(object_id=str(item.pk), action="update").count() == 2


def test_durations_read_in_words_and_the_form_takes_back_what_it_shows(client, users):
    """A 25-second item: the form shows '25 giây' (not '0:25'), saving it unchanged keeps 25 s,
    and the day view ends at 02:20:25 (not '02:20–02:20')."""
    a = station(COMMUNE_A)
    client.force_login(users["operator"])
    url = f"/dai-truyen-thanh/{a.pk}/lich/moi/"
    with time_machine.travel(vn(1, 1), tick=False):
        body = slot(at="02:20", minutes="0:25", repeat="", kind="relay")
        assert client.post(url, body).status_code == 302
        item = ScheduleItem.objects.get(unit=a.unit)
        assert item.duration_seconds == 25
        form = client.get(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/").content.decode()
        assert 'value="25 giây"' in form and "Thời lượng (phút)" not in form
        again = slot(at="02:20", minutes="25 giây", repeat="")
        assert client.post(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/", again).status_code == 302
        item.refresh_from_db()
        assert item.duration_seconds == 25
        day = client.get(f"/dai-truyen-thanh/{a.pk}/?ngay=2026-12-01").content.decode()
        assert ">02:20:25</td>" in day and "02:20–02:20" not in day and "· 25 giây ·" in day
        week = client.get(f"/dai-truyen-thanh/{a.pk}/tuan/?tu=2026-12-01").content.decode()
        assert "02:20–02:20:25" in week
        longer = slot(at="02:20", minutes="3 phút 20 giây", repeat="")
        assert client.post(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/", longer).status_code == 302
        item.refresh_from_db()
        assert item.duration_seconds == 200
        form = client.get(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/").content.decode()
        assert 'value="3 phút 20 giây"' in form


def test_bad_input_is_refused_in_vietnamese_and_kept(client, users):
    a = station(COMMUNE_A)
    PolicyFactory(unit=a.unit, relay_slots=["06:00-06:30", "17:00-17:30"])
    client.force_login(users["operator"])
    url = f"/dai-truyen-thanh/{a.pk}/lich/moi/"
    with time_machine.travel(vn(1, 5), tick=False):
        cases = [
            (slot(at="07:00"), "chỉ tiếp sóng trong khung giờ 06:00–06:30, 17:00–17:30"),
            (slot(relay_frequency="150"), "64 đến 108 MHz"),
            (slot(repeat="days"), "ít nhất một thứ"),
            (slot(repeat="rrule", rrule="FREQ=SOMETIMES"), "Quy tắc lặp"),
            (
                slot(repeat="rrule", rrule="FREQ=MINUTELY"),
                "không được lặp theo giây hoặc theo phút",
            ),
            (slot(minutes="mười"), "Không đọc được thời lượng &#x27;mười&#x27;"),
            (slot(exdates="30/02/2026"), "không phải ngày có thật"),
            (slot(kind="bulletin", revision=""), "Hãy chọn một phiên bản bản tin"),
        ]
        for body, words in cases:
            response = client.post(url, body)
            page = response.content.decode()
            assert response.status_code == 422 and words in page, (body, page[:3000])
            assert 'id="slot-error"' in page and 'value="Tiếp sóng Đài tỉnh"' in page
        assert not ScheduleItem.objects.filter(unit=a.unit).exists()
        # Inside a relay slot it is accepted.
        assert client.post(url, slot(at="17:00")).status_code == 302
        item = ScheduleItem.objects.get(unit=a.unit)
        # A refused move leaves the accepted item as it was.
        response = client.post(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/", slot(at="12:00"))
        assert response.status_code == 422 and "khung giờ tiếp sóng" in response.content.decode()
        item.refresh_from_db()
        assert item.starts_at == vn(1, 17)


def test_other_commune_and_viewer(client, users):
    a, b = station(COMMUNE_A), station(COMMUNE_B)
    client.force_login(users["operator"])
    assert client.get(f"/dai-truyen-thanh/{b.pk}/lich/moi/").status_code == 404
    assert client.get(f"/dai-truyen-thanh/{b.pk}/tuan/").status_code == 404
    client.force_login(users["viewer"])
    assert client.get(f"/dai-truyen-thanh/{a.pk}/tuan/").status_code == 200
    assert client.get(f"/dai-truyen-thanh/{a.pk}/lich/moi/").status_code == 403
    assert client.post(f"/dai-truyen-thanh/{a.pk}/quy-dinh/", {}).status_code == 403


def test_policy_editor(client, users):
    a = station(COMMUNE_A)
    client.force_login(users["operator"])
    url = f"/dai-truyen-thanh/{a.pk}/quy-dinh/"
    bad = client.post(url, {"allowed_start": "05:00", "relay_slots": "6h-7h"})
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "cả giờ bắt đầu và giờ kết thúc" in text and 'value="6h-7h"' in text
    bad = client.post(url, {"relay_slots": "6h-7h"})
    assert "hãy viết dạng 06:00-06:30" in bad.content.decode()
    ok = client.post(
        url,
        {
            "allowed_start": "05:00",
            "allowed_end": "21:00",
            "max_sessions_per_day": "3",
            "relay_slots": "17:00-17:30, 06:00-06:30",
            "quiet_weekdays": ["6"],
            "quiet_dates": "01/01/2027",
            "auto_boards": "on",
        },
    )
    assert ok.status_code == 302
    policy = UsagePolicy.objects.get(unit=a.unit)
    assert policy.relay_slots == ["06:00-06:30", "17:00-17:30"]
    assert policy.quiet_weekdays == [6] and policy.quiet_dates == ["2027-01-01"]
    a.refresh_from_db()
    assert a.auto_boards
    assert ObjectChange.objects.filter(object_id=str(policy.pk)).exists()


def _shared(priority="priority", title="Tỉnh: phòng chống rét cho gia súc", sha="cd" * 32):
    bulletin = make_bulletin(
        "33", status="published", title=title, priority=priority, targets=[COMMUNE_A, COMMUNE_B]
    )
    audio_for(bulletin, sha)
    return bulletin


def test_proposals_place_decline_and_must_air_status(
    client, users, django_capture_on_commit_callbacks
):
    a, b = station(COMMUNE_A), station(COMMUNE_B)
    with time_machine.travel(vn(1, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            must = _shared()
            optional = _shared("normal", "Tỉnh: lịch thi đấu thể thao", "ef" * 32)
        p_must = Proposal.objects.get(station=a, item__revision__bulletin=must)
        p_opt = Proposal.objects.get(station=a, item__revision__bulletin=optional)
        client.force_login(users["operator"])
        page = client.get(f"/dai-truyen-thanh/{a.pk}/").content.decode()
        assert f"/de-xuat/{p_must.pk}/tu-choi/" not in page  # must-air: no decline button
        assert f"/de-xuat/{p_opt.pk}/tu-choi/" in page
        refused = client.post(f"/dai-truyen-thanh/{a.pk}/de-xuat/{p_must.pk}/tu-choi/")
        assert refused.status_code == 302
        p_must.refresh_from_db()
        assert p_must.status == "pending"
        body = {"day": "2026-12-01", "at": "07:00", "repeat": "", "rank": "1"}
        placed = client.post(f"/dai-truyen-thanh/{a.pk}/de-xuat/{p_must.pk}/", body)
        assert placed.status_code == 302, placed.content.decode()[:2000]
        p_must.refresh_from_db()
        assert p_must.status == "placed" and p_must.placed_item.rank == 1
        client.post(f"/dai-truyen-thanh/{a.pk}/de-xuat/{p_opt.pk}/tu-choi/")
        p_opt.refresh_from_db()
        assert p_opt.status == "declined"
        client.force_login(users["viewer"])
        status = client.get("/dai-truyen-thanh/bat-buoc-phat/").content.decode()
        assert must.title in status and "1/2" in status
        assert "1 xã chưa xếp lịch" in status and b.unit.name in status


def test_inbox_says_where_a_bulletin_is_already_placed(
    client, users, django_capture_on_commit_callbacks
):
    """Once placed, the inbox no longer offers 'Phát trên loa…' as if nothing happened: it says
    when it plays and on which boards, and offers placing it again explicitly."""
    a = station(COMMUNE_A)
    with time_machine.travel(vn(1, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            bulletin = _shared()
        share = BulletinShare.objects.get(bulletin=bulletin, unit=a.unit)
        client.force_login(users["operator"])
        client.post(f"/ban-tin/hop-thu/{share.pk}/nhan/")
        inbox = client.get("/ban-tin/hop-thu/").content.decode()
        assert "Phát trên loa…" in inbox and "đã xếp lịch phát" not in inbox
        proposal = Proposal.objects.get(station=a, share_id=share.pk)
        body = {"day": "2026-12-02", "at": "07:00", "repeat": "", "rank": "1"}
        assert (
            client.post(f"/dai-truyen-thanh/{a.pk}/de-xuat/{proposal.pk}/", body).status_code == 302
        )
        relay = slot(kind="bulletin", revision=str(share.revision_id), title="Nhắc lại tin rét")
        relay.update(day="2026-12-03", at="17:30", minutes="2 phút", repeat="weekdays")
        assert client.post(f"/dai-truyen-thanh/{a.pk}/lich/moi/", relay).status_code == 302
        client.post(
            f"/dai-truyen-thanh/chia-se/{share.pk}/len-bang-tin/",
            {"playlist": "new", "name": "Tin tỉnh"},
        )
        inbox = client.get("/ban-tin/hop-thu/").content.decode()
        assert "Phát trên loa…" not in inbox and "Lên bảng tin…" not in inbox
        assert "đã xếp lịch phát" in inbox and "02/12/2026 07:00" in inbox
        assert "Thứ Hai – thứ Sáu lúc 17:30, từ 03/12/2026" in inbox
        assert f"/dai-truyen-thanh/{a.pk}/?ngay=2026-12-02" in inbox
        assert "đang trên bảng tin" in inbox and ">Tin tỉnh</a>" in inbox
        assert "Phát thêm một lần…" in inbox and "Thêm vào danh sách khác…" in inbox
        # A cancelled slot no longer counts as placed.
        for item in ScheduleItem.objects.filter(unit=a.unit, revision__bulletin=bulletin):
            client.post(f"/dai-truyen-thanh/{a.pk}/lich/{item.pk}/huy/")
        inbox = client.get("/ban-tin/hop-thu/").content.decode()
        assert "đã xếp lịch phát" not in inbox and "Phát trên loa…" in inbox


def test_inbox_to_station_and_boards(client, users, django_capture_on_commit_callbacks):
    a = station(COMMUNE_A)
    a.auto_boards = True
    a.save()
    with time_machine.travel(vn(1, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            bulletin = _shared()
        auto = Playlist.objects.get(unit=a.unit, name=AUTO_PLAYLIST)
        assert list(auto.items.values_list("bulletin_id", flat=True)) == [bulletin.pk]
        share = BulletinShare.objects.get(bulletin=bulletin, unit=a.unit)
        client.force_login(users["operator"])
        client.post(f"/ban-tin/hop-thu/{share.pk}/nhan/")
        inbox = client.get("/ban-tin/hop-thu/").content.decode()
        # The must-air bulletin went onto the boards by itself: the inbox says so.
        assert "Phát trên loa…" in inbox and "Lên bảng tin…" not in inbox
        assert "đang trên bảng tin" in inbox and f">{AUTO_PLAYLIST}</a>" in inbox
        go = client.get(f"/dai-truyen-thanh/chia-se/{share.pk}/phat-tren-loa/")
        proposal = Proposal.objects.get(station=a, share_id=share.pk)
        assert go["Location"] == f"/dai-truyen-thanh/{a.pk}/de-xuat/{proposal.pk}/"
        boards = client.post(
            f"/dai-truyen-thanh/chia-se/{share.pk}/len-bang-tin/",
            {"playlist": "new", "name": "Tin tỉnh"},
        )
        assert boards.status_code == 302
        made = Playlist.objects.get(unit=a.unit, name="Tin tỉnh")
        assert list(made.items.values_list("bulletin_id", flat=True)) == [bulletin.pk]
        again = client.post(
            f"/dai-truyen-thanh/chia-se/{share.pk}/len-bang-tin/", {"playlist": str(made.pk)}
        )
        assert again.status_code == 302 and made.items.count() == 1
        # Once placed, 'Phát trên loa…' opens a slot form prefilled with the bulletin.
        proposal.status = "placed"
        proposal.save()
        go = client.get(f"/dai-truyen-thanh/chia-se/{share.pk}/phat-tren-loa/", follow=True)
        page = go.content.decode()
        assert f'value="{bulletin.title}"' in page and 'value="1 phút 35 giây"' in page
        assert (
            client.get(f"/dai-truyen-thanh/chia-se/{share.pk + 999}/len-bang-tin/").status_code
            == 404
        )


def test_bulletin_slot_from_media_list(client, users):
    a = station(COMMUNE_A)
    client.force_login(users["operator"])
    response = client.post(
        f"/dai-truyen-thanh/{a.pk}/lich/moi/",
        slot(kind="bulletin", priority="emergency", revision=""),
    )
    assert response.status_code == 422 and "trang Khẩn cấp" in response.content.decode()


def test_priority_clash_is_flagged_and_the_commune_orders_it(client, users):
    from grassroots.broadcast import actions
    from grassroots.core.testing import unit

    a = station(COMMUNE_A)
    with time_machine.travel(vn(1, 5), tick=False):
        made = []
        for title in ("Ưu tiên của xã", "Ưu tiên thứ hai"):
            data = actions.ItemData(
                title=title,
                priority="priority",
                kind="bulletin",
                starts_at=vn(1, 7),
                duration_seconds=300,
                media=store_media(COMMUNE_A),
            )
            made.append(
                actions.create_item(user=users["operator"], unit=unit(COMMUNE_A), data=data)[0]
            )
        client.force_login(users["operator"])
        page = client.get(f"/dai-truyen-thanh/{a.pk}/?ngay=2026-12-01").content.decode()
        assert 'id="clashes"' in page and "xã chọn thứ tự phát" in page
        assert page.index("Ưu tiên của xã") < page.index("Ưu tiên thứ hai")
        second = made[1]
        response = client.post(f"/dai-truyen-thanh/{a.pk}/lich/{second.pk}/thu-tu/", {"rank": "1"})
        assert response.status_code == 302
        second.refresh_from_db()
        assert second.rank == 1
        page = client.get(f"/dai-truyen-thanh/{a.pk}/?ngay=2026-12-01").content.decode()
        assert "Xã chọn thứ tự 1" in page
        assert page.index("Ưu tiên thứ hai") < page.index("Ưu tiên của xã")
        bad = client.post(
            f"/dai-truyen-thanh/{a.pk}/lich/{second.pk}/thu-tu/", {"rank": "0"}, follow=True
        )
        assert "Thứ tự là số nguyên từ 1" in bad.content.decode()
        second.refresh_from_db()
        assert second.rank == 1


def test_province_proposes_a_relay_to_chosen_communes(client, users):
    a, b = station(COMMUNE_A), station(COMMUNE_B)
    url = "/dai-truyen-thanh/de-xuat-moi/"
    client.force_login(users["operator"])
    assert client.get(url).status_code == 403
    assert "Đề xuất lịch phát cho các xã" not in client.get("/dai-truyen-thanh/").content.decode()
    client.force_login(users["admin"])
    assert client.get(url + "?loai=relay").status_code == 200
    with time_machine.travel(vn(1, 5), tick=False):
        body = slot(unit="33", priority="priority", day="2026-12-02", exdates="")
        refused = client.post(url, body)  # neither "all" nor any commune ticked
        assert refused.status_code == 422
        assert "ít nhất một xã" in refused.content.decode()
        done = client.post(url, {**body, "targets": [COMMUNE_A, COMMUNE_B]})
        assert done.status_code == 302, done.content.decode()[:3000]
        item = ScheduleItem.objects.get(unit__code="33", kind="relay")
        assert "/bat-buoc-phat/" in done["Location"]
        proposals = Proposal.objects.filter(item=item)
        assert {p.station for p in proposals} == {a, b} and all(p.must_air for p in proposals)
    # The commune places it inside its relay slot; outside, it hears why.
    PolicyFactory(unit=a.unit, relay_slots=["06:00-06:30"])
    client.force_login(users["operator"])
    p = proposals.get(station=a)
    with time_machine.travel(vn(1, 5), tick=False):
        place = f"/dai-truyen-thanh/{a.pk}/de-xuat/{p.pk}/"
        refused = client.post(place, {"day": "2026-12-02", "at": "07:00", "repeat": "weekdays"})
        assert refused.status_code == 422 and "06:00–06:30" in refused.content.decode()
        ok = client.post(place, {"day": "2026-12-02", "at": "06:00", "repeat": "weekdays"})
        assert ok.status_code == 302
        p.refresh_from_db()
        assert p.placed_item.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


def test_week_draws_live_emergencies_over_the_schedule(client, users):
    from grassroots.alerts.models import Emergency
    from grassroots.core.testing import unit

    a, b = station(COMMUNE_A), station(COMMUNE_B)
    e = Emergency.objects.create(
        unit=unit("33"),
        title="Bão số 3 đổ bộ",
        status="stopped",
        sent_at=vn(2, 9),
        stopped_at=vn(2, 9, 20),
        expires_at=vn(2, 12),
    )
    e.area.set([unit(COMMUNE_A)])
    client.force_login(users["viewer"])
    week = client.get(f"/dai-truyen-thanh/{a.pk}/tuan/?tu=2026-12-02").content.decode()
    assert "Bão số 3 đổ bộ" in week and "09:00–09:20" in week
    assert 'data-day="2026-12-02"' in week
    other = client.get(f"/dai-truyen-thanh/{b.pk}/tuan/?tu=2026-12-02").content.decode()
    assert "Bão số 3 đổ bộ" not in other


def test_move_one_play_of_a_series(client, users):
    a = station(COMMUNE_A)
    PolicyFactory(unit=a.unit, allowed_start=vn(1, 5).time(), allowed_end=vn(1, 21).time())
    client.force_login(users["operator"])
    with time_machine.travel(vn(1, 5), tick=False):
        client.post(f"/dai-truyen-thanh/{a.pk}/lich/moi/", slot(repeat="daily"))
        series = ScheduleItem.objects.get(unit=a.unit)
        week = client.get(f"/dai-truyen-thanh/{a.pk}/tuan/?tu=2026-12-01").content.decode()
        url = f"/dai-truyen-thanh/{a.pk}/lich/{series.pk}/doi-lan-nay/"
        assert f"{url}?ngay=2026-12-03" in week
        assert client.get(f"{url}?ngay=2026-12-03").status_code == 200
        body = {"on": "2026-12-03", "day": "2026-12-03", "at": "22:00", "minutes": "30"}
        refused = client.post(url, body)
        assert refused.status_code == 422 and "chỉ được phát từ 05:00 đến 21:00" in (
            refused.content.decode()
        )
        series.refresh_from_db()
        assert series.exdates == []  # the refused move changed nothing
        done = client.post(url, {**body, "at": "17:00"})
        assert done.status_code == 302
        series.refresh_from_db()
        assert series.exdates == ["2026-12-03"] and series.rrule == "FREQ=DAILY"
        once = ScheduleItem.objects.exclude(pk=series.pk).get(unit=a.unit)
        assert once.rrule == "" and once.starts_at == vn(3, 17) and once.kind == "relay"
        assert list(once.stations.all()) == [a]
        week = client.get(f"/dai-truyen-thanh/{a.pk}/tuan/?tu=2026-12-01").content.decode()
        assert week.count("06:00–06:30") == 5 and "17:00–17:30" in week  # 1–6 Dec less the 3rd
