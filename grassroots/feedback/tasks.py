"""Timed jobs of the feedback app, run by the worker's periodic loop."""

from grassroots.core.periodic import every

from . import actions, notify, ratelimit


@every(60)
def feedback_deadlines() -> dict[str, int]:
    """Reminders before the deadline, escalation to the parent unit after it."""
    return {
        "reminded": actions.send_reminders(),
        "escalated": actions.escalate_overdue(),
    }


@every(60)
def feedback_notifications() -> int:
    """Send the email/SMS outbox."""
    return notify.deliver_pending()


@every(3600)
def feedback_purge_rate_counters() -> int:
    """Drop old rate-limit counters."""
    return ratelimit.purge()
