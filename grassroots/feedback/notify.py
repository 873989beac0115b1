"""Notifications: outbox rows written with the change, sent later by the worker.

Email goes through Django's mail backend. SMS goes through a small gateway interface; the default
backend only logs, a real gateway (a telco's HTTP API) is a class named in
GRASSROOTS["SMS_BACKEND"] that implements `send(phone, text)`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string

from .choices import NotificationChannel
from .models import Notification, Report

log = logging.getLogger("grassroots.feedback.sms")

MAX_ATTEMPTS = 5


class SmsBackend:
    """The SMS gateway interface."""

    def send(self, phone: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LoggingSmsBackend(SmsBackend):
    """Writes the message to the log instead of sending it (the default, and for tests)."""

    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)
        LoggingSmsBackend.sent.append((phone, text))


def sms_backend() -> SmsBackend:
    """The configured SMS gateway."""
    path = settings.GRASSROOTS.get("SMS_BACKEND", "grassroots.feedback.notify.LoggingSmsBackend")
    return import_string(path)()


def site_url() -> str:
    """The public base URL for links in messages (GRASSROOTS['SITE_URL'])."""
    return settings.GRASSROOTS.get("SITE_URL", "").rstrip("/")


def queue_citizen_answered(report: Report) -> list[Notification]:
    """Tell the citizen their report has an answer (email and/or SMS, whichever they gave)."""
    link = f"{site_url()}/phan-anh/theo-doi/{report.tracking_code}/"
    text = (
        f"Phản ánh {report.tracking_code} của bạn đã được trả lời. "
        f"Xem trả lời và đánh giá tại: {link}"
    )
    out = []
    if report.email:
        out.append(
            Notification.objects.create(
                channel=NotificationChannel.EMAIL,
                recipient=report.email,
                subject=f"Phản ánh {report.tracking_code} đã có trả lời",
                body=text,
                report=report,
            )
        )
    if report.phone:
        out.append(
            Notification.objects.create(
                channel=NotificationChannel.SMS, recipient=report.phone, body=text, report=report
            )
        )
    return out


def queue_officers(report: Report, users, subject: str, body: str) -> list[Notification]:
    """Email the officers concerned (assignee, the unit handling it after escalation)."""
    out = []
    seen = set()
    for user in users:
        if not user.email or user.email in seen or not user.is_active:
            continue
        seen.add(user.email)
        out.append(
            Notification.objects.create(
                channel=NotificationChannel.EMAIL,
                recipient=user.email,
                subject=subject[:200],
                body=f"{body}\n\n{site_url()}/xu-ly-phan-anh/{report.pk}/",
                report=report,
            )
        )
    return out


def deliver_pending(limit: int = 100) -> int:
    """Send what is waiting in the outbox; failures are retried next round, up to 5 times."""
    sent = 0
    backend = None
    pending = Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
    for note in pending.order_by("id")[:limit]:
        try:
            if note.channel == NotificationChannel.EMAIL:
                send_mail(
                    note.subject,
                    note.body,
                    settings.DEFAULT_FROM_EMAIL,
                    [note.recipient],
                    fail_silently=False,
                )
            else:
                backend = backend or sms_backend()
                backend.send(note.recipient, note.body)
        except Exception as exc:  # noqa: BLE001 - any gateway failure is retried
            Notification.objects.filter(pk=note.pk).update(
                attempts=note.attempts + 1, last_error=str(exc)[:500]
            )
            continue
        Notification.objects.filter(pk=note.pk).update(
            sent_at=timezone.now(), attempts=note.attempts + 1
        )
        sent += 1
    return sent
