"""`{{ value|cap_label }}`: a CAP severity, urgency or certainty in the reader's language."""

from django import template

from grassroots.alerts.models import cap_label as _cap_label

register = template.Library()


@register.filter
def cap_label(value):
    return _cap_label(value)
