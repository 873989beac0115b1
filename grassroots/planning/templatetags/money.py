"""`{{ amount|dong }}`: money as Vietnamese officers write it, 1.250.000.000 đ."""

from django import template

register = template.Library()


def format_dong(amount) -> str:
    """1250000000 -> "1.250.000.000 đ"; None -> ""."""
    if amount is None or amount == "":
        return ""
    value = int(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value):,} đ".replace(",", ".")


register.filter("dong", format_dong)
