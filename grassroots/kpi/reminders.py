"""The yearly report's calendar: the deadline (the plan: before 10 December) and the reminder
days, configurable per year (`ReportCalendar`); the worker's reminders go through the
platform's notification outbox (`feedback.Notification`, sent by the feedback worker job)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

log = logging.getLogger("grassroots.kpi.reminders")

DEADLINE = (12, 10)  # 10/12: "trước ngày 10/12 hằng năm"
REMINDER_DAYS_BEFORE = (14, 7, 1)


def deadline_of(year: int, calendar=None) -> dt.date:
    """The year's deadline: the calendar's, or 10 December."""
    return calendar.deadline if calendar else dt.date(year, *DEADLINE)


def reminder_days(year: int, calendar=None) -> list[dt.date]:
    """The days reminders go out: the calendar's, or 14, 7 and 1 day before the deadline."""
    if calendar is not None:
        return sorted(dt.date.fromisoformat(d) for d in calendar.reminders or [])
    deadline = deadline_of(year)
    return [deadline - dt.timedelta(days=n) for n in REMINDER_DAYS_BEFORE]


def calendar_for(year: int):
    """The year's calendar row, created with the defaults the first time it is needed."""
    from .models import ReportCalendar

    cal, _ = ReportCalendar.objects.get_or_create(
        year=year,
        defaults={
            "deadline": deadline_of(year),
            "reminders": [d.isoformat() for d in reminder_days(year)],
        },
    )
    return cal


def _site() -> str:
    from grassroots.feedback.notify import site_url

    return site_url()


def officers_of(unit, permission: str = "kpi.report"):
    """Active users with an email who hold `permission` through a role granted on `unit`
    itself (the commune's own officers, not the province's, who cover every commune)."""
    from grassroots.accounts.models import RoleAssignment

    seen, out = set(), []
    for a in RoleAssignment.objects.filter(unit=unit, user__is_active=True).select_related(
        "user", "role"
    ):
        if permission in (a.role.permissions or []) and a.user.email and a.user.pk not in seen:
            seen.add(a.user.pk)
            out.append(a.user)
    return out


def queue_email(recipients: list[str], subject: str, body: str) -> int:
    """Email through the notification outbox (written in the caller's transaction)."""
    from grassroots.feedback.choices import NotificationChannel
    from grassroots.feedback.models import Notification

    n = 0
    for email in dict.fromkeys(r for r in recipients if r):
        Notification.objects.create(
            channel=NotificationChannel.EMAIL, recipient=email, subject=subject[:200], body=body
        )
        n += 1
    return n


def send_due(today: dt.date | None = None) -> int:
    """Remind every unit and agency that has not sent its report, on each reminder day of
    the current year not yet done (a day missed while the worker was down is done late, once).
    Returns how many emails were queued."""
    from grassroots.units.models import Unit

    from .choices import ReportKind, ReportState
    from .models import ReportingBody, YearlyReport
    from .yearly import reporting_units

    today = today or timezone.localdate()
    cal = calendar_for(today.year)
    due = [d for d in reminder_days(today.year, cal) if d <= today]
    todo = [d for d in due if d.isoformat() not in (cal.reminded or [])]
    deadline = deadline_of(today.year, cal)
    if not todo or today > deadline:
        return 0
    queued = 0
    with transaction.atomic():
        sent = set(
            YearlyReport.objects.filter(year=today.year, state__in=ReportState.sent())
            .exclude(kind=ReportKind.PROVINCIAL)
            .values_list("unit_id", "body_id")
        )
        days_left = (deadline - today).days
        subject = f"Nhắc hạn báo cáo năm {today.year}: còn {days_left} ngày"
        link = f"{_site()}/bao-cao-nam/?nam={today.year}"
        for province in Unit.objects.filter(parent__isnull=True, valid_to__isnull=True):
            for unit in reporting_units(province):
                if (unit.pk, None) in sent:
                    continue
                body = (
                    f"{unit.name} chưa gửi báo cáo kết quả thực hiện Kế hoạch thông tin cơ sở "
                    f"năm {today.year}. Hạn gửi: {deadline:%d/%m/%Y}. Soạn và gửi tại: {link}"
                )
                queued += queue_email([u.email for u in officers_of(unit)], subject, body)
            for agency in ReportingBody.objects.filter(unit=province, active=True, compiles=False):
                if (province.pk, agency.pk) in sent or not agency.email:
                    continue
                body = (
                    f"{agency.name} chưa gửi báo cáo kết quả thực hiện Kế hoạch thông tin cơ sở "
                    f"năm {today.year}. Hạn gửi: {deadline:%d/%m/%Y}. Soạn và gửi tại: {link}"
                )
                queued += queue_email([agency.email], subject, body)
        cal.reminded = sorted({*(cal.reminded or []), *(d.isoformat() for d in todo)})
        cal.save(update_fields=["reminded"])
    log.info("yearly report reminders for %s: %d emails", today.year, queued)
    return queued
