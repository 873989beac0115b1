"""Deadlines in working days (weekends, holidays), reminders and escalation, on a frozen clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from grassroots.core.models import ObjectChange
from grassroots.core.periodic import JOBS
from grassroots.core.testing import COMMUNE_A, call
from grassroots.feedback import tasks
from grassroots.feedback.deadlines import add_working_days, compute_due
from grassroots.feedback.models import Category, Holiday, Notification, Report

from .helpers import make_report

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN)


def local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


@pytest.fixture
def two_day(db):
    return Category.objects.create(
        code="thu-2-ngay", name="Thử", deadline_working_days=2, escalation_working_days=1
    )


def test_working_days_skip_the_weekend():
    friday = dt.date(2026, 11, 27)
    assert add_working_days(friday, 1, set()) == dt.date(2026, 11, 30)  # Monday
    assert add_working_days(friday, 5, set()) == dt.date(2026, 12, 4)  # next Friday
    saturday = dt.date(2026, 11, 28)
    assert add_working_days(saturday, 1, set()) == dt.date(2026, 11, 30)


def test_working_days_skip_holidays():
    friday = dt.date(2026, 11, 27)
    assert add_working_days(friday, 1, {dt.date(2026, 11, 30)}) == dt.date(2026, 12, 1)


@pytest.mark.django_db
def test_due_at_over_the_weekend(two_day):
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):  # Friday
        report = make_report(category=two_day)
    assert local(report.due_at) == at(2026, 12, 1, 23, 59, 59)  # Tuesday night
    assert local(report.remind_at) == at(2026, 12, 1, 0, 0)


@pytest.mark.django_db
def test_due_at_over_a_configured_holiday(two_day):
    Holiday.objects.create(date=dt.date(2026, 11, 30), name="Nghỉ bù (thử)")
    with time_machine.travel(at(2026, 11, 27, 16, 30), tick=False):
        report = make_report(category=two_day)
    assert local(report.due_at).date() == dt.date(2026, 12, 2)


@pytest.mark.django_db
def test_seeded_holidays_30_4_and_1_5(db):
    # Received Wednesday 29/4/2027: Thu 30/4 and Fri 1/5 are holidays, then the weekend.
    due, _ = compute_due(at(2027, 4, 29, 9, 0), 3)
    assert local(due).date() == dt.date(2027, 5, 5)


@pytest.mark.django_db
def test_tet_week_is_added_by_the_admin(db):
    for day in range(16, 21):  # a Tết week entered in the back office
        Holiday.objects.create(date=dt.date(2026, 2, day), name="Tết Nguyên đán")
    due, _ = compute_due(at(2026, 2, 13, 9, 0), 2)  # Friday before Tết
    assert local(due).date() == dt.date(2026, 2, 24)


@pytest.mark.django_db
def test_receipt_late_at_night_counts_in_local_time(two_day):
    # 23:30 Friday in Hà Nội is 16:30 UTC Friday: still Friday locally.
    with time_machine.travel(dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC), tick=False):
        report = make_report(category=two_day)
    assert local(report.due_at).date() == dt.date(2026, 12, 1)


@pytest.mark.django_db
def test_reminder_then_escalation_to_the_parent_unit(client, users, two_day):
    users["operator"].email = "op@example.vn"
    users["operator"].save()
    users["admin"].email = "tinh@example.vn"
    users["admin"].save()
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        report = make_report(category=two_day)

    with time_machine.travel(at(2026, 11, 30, 12, 0), tick=False):  # Monday: nothing yet
        assert tasks.feedback_deadlines() == {"reminded": 0, "escalated": 0}

    with time_machine.travel(at(2026, 12, 1, 8, 0), tick=False):  # Tuesday: last day
        assert tasks.feedback_deadlines() == {"reminded": 1, "escalated": 0}
        assert tasks.feedback_deadlines() == {"reminded": 0, "escalated": 0}  # once only
    assert Notification.objects.filter(
        recipient="op@example.vn", subject__startswith="Sắp"
    ).exists()

    with time_machine.travel(at(2026, 12, 1, 23, 0), tick=False):  # still in time
        assert tasks.feedback_deadlines()["escalated"] == 0

    with time_machine.travel(at(2026, 12, 2, 0, 5), tick=False):  # Wednesday: overdue
        assert tasks.feedback_deadlines() == {"reminded": 0, "escalated": 1}
    report.refresh_from_db()
    assert report.unit.code == "33" and report.origin_unit.code == COMMUNE_A
    assert report.escalation_level == 1
    assert local(report.due_at).date() == dt.date(2026, 12, 3)  # 1 more working day up there
    assert report.events.filter(kind="escalated", to_unit__code="33").exists()
    assert ObjectChange.objects.filter(object_id=str(report.pk), comment="escalate").exists()
    assert Notification.objects.filter(recipient="tinh@example.vn", subject__startswith="Quá hạn")

    # Both levels see it: the commune where it was filed and the province.
    url = f"/api/v1/feedback/reports/{report.pk}"
    assert call(client, "get", url, user=users["operator"]).status_code == 200
    assert call(client, "get", url, user=users["viewer"]).status_code == 200
    assert call(client, "get", url, user=users["operator2"]).status_code == 404

    # At the top of the tree there is nowhere to go: it stays overdue, no loop.
    with time_machine.travel(at(2026, 12, 10, 9, 0), tick=False):
        assert tasks.feedback_deadlines()["escalated"] == 0
        assert Report.objects.overdue().filter(pk=report.pk).exists()


@pytest.mark.django_db
def test_answered_reports_do_not_escalate(users, two_day):
    from grassroots.feedback import actions

    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        report = make_report(category=two_day)
    with time_machine.travel(at(2026, 11, 30, 10, 0), tick=False):
        actions.answer(report=report, user=users["operator"], public_answer="Đã xử lý")
    with time_machine.travel(at(2026, 12, 5, 10, 0), tick=False):
        assert tasks.feedback_deadlines() == {"reminded": 0, "escalated": 0}


def test_jobs_are_registered_with_the_worker():
    assert JOBS["grassroots.feedback.tasks.feedback_deadlines"].interval == 60
    assert "grassroots.feedback.tasks.feedback_notifications" in JOBS


@pytest.mark.django_db
def test_sla_counts_use_the_first_deadline(users, two_day):
    from grassroots.feedback import actions

    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        on_time, late, forgotten, spam = (make_report(category=two_day) for _ in range(4))
    with time_machine.travel(at(2026, 11, 30, 10, 0), tick=False):
        actions.answer(report=on_time, user=users["operator"], public_answer="Xong")
        actions.close(report=spam, user=users["operator"], resolution="hidden_abuse")
    with time_machine.travel(at(2026, 12, 2, 9, 0), tick=False):
        tasks.feedback_deadlines()  # late and forgotten go up to the province
        actions.answer(report=late, user=users["admin"], public_answer="Tỉnh trả lời")
        counts = Report.objects.filter(origin_unit__code=COMMUNE_A).sla_counts()
    assert counts == {"received": 3, "answered_on_time": 1, "open_overdue": 0, "hidden": 1}
    with time_machine.travel(at(2026, 12, 10, 9, 0), tick=False):
        assert Report.objects.sla_counts()["open_overdue"] == 1
