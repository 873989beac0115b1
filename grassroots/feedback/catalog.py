"""Province-wide feedback settings: report categories and the holiday calendar.

Every write checks the right (`policies.require_configure`: feedback.handle on the province),
validates with messages in Vietnamese keyed by field, writes and records one audit row, in one
transaction. The console editors call these and nothing else.

Holidays feed `deadlines.add_working_days`: a change applies to reports received afterwards
(a report's `due_at` is computed once, when it arrives).
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import transaction

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.core.text import clean_text

from .models import Category, Holiday
from .policies import require_configure

MAX_DEADLINE = 60  # working days: a bound against typing mistakes (the seeded ones are 5–15)
MAX_ESCALATION = 30
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _text(value, *, field: str, label: str, limit: int, required: bool = False) -> str:
    text = clean_text(str(value or "")).strip()
    if required and not text:
        raise ValidationError({field: f"Hãy nhập {label}."})
    if len(text) > limit:
        raise ValidationError({field: f"{label.capitalize()} dài quá {limit} ký tự ({len(text)})."})
    return text


def _days(value, *, field: str, low: int, high: int, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"Hãy nhập {what} là một số nguyên."}) from None
    if not low <= number <= high:
        raise ValidationError({field: f"{what.capitalize()} phải từ {low} đến {high}."})
    return number


# --- categories ----------------------------------------------------------------------------------


@transaction.atomic
def save_category(*, user, data: dict, category: Category | None = None) -> Category:
    """Create a category (`data["code"]` required, then fixed: it is the Open311 service_code)
    or change one. Keys of `data`: name, description, group, keywords, deadline_working_days
    (1–60), escalation_working_days (0–30), is_active, order. Raises ValidationError
    {field: message} or PermissionDenied."""
    require_configure(user)
    before = audit.snapshot(category) if category else None
    if category is None:
        code = clean_text(str(data.get("code") or "")).strip().lower()
        if not code:
            raise ValidationError({"code": "Hãy nhập mã lĩnh vực (ví dụ: moi-truong)."})
        if not CODE_RE.match(code):
            raise ValidationError(
                {
                    "code": "Mã chỉ gồm chữ thường không dấu, số, dấu gạch ngang hoặc gạch dưới "
                    "(tối đa 50 ký tự), ví dụ: moi-truong."
                }
            )
        if Category.objects.filter(code=code).exists():
            raise ValidationError({"code": f"Mã '{code}' đã có; hãy chọn mã khác."})
        category = Category(code=code)
    category.name = _text(data.get("name"), field="name", label="tên lĩnh vực", limit=200,
                          required=True)  # fmt: skip
    clash = Category.objects.filter(name__iexact=category.name).exclude(pk=category.pk).first()
    if clash:
        raise ValidationError({"name": f"Đã có lĩnh vực tên '{clash.name}'; hãy đặt tên khác."})
    category.description = _text(data.get("description"), field="description", label="mô tả",
                                 limit=2000)  # fmt: skip
    category.group = _text(data.get("group"), field="group", label="nhóm", limit=100)
    category.keywords = _text(data.get("keywords"), field="keywords", label="từ khoá", limit=200)
    category.deadline_working_days = _days(
        data.get("deadline_working_days"), field="deadline_working_days", low=1,
        high=MAX_DEADLINE, what="thời hạn xử lý (ngày làm việc)",
    )  # fmt: skip
    category.escalation_working_days = _days(
        data.get("escalation_working_days", 3), field="escalation_working_days", low=0,
        high=MAX_ESCALATION, what="thời hạn thêm cho cấp trên (ngày làm việc)",
    )  # fmt: skip
    category.order = _days(data.get("order", 0), field="order", low=0, high=999, what="thứ tự")
    category.is_active = bool(data.get("is_active", True))
    category.save()
    audit.record(category, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user,
                 before=before)  # fmt: skip
    return category


@transaction.atomic
def delete_category(*, user, category: Category) -> None:
    """Delete a category no report uses; one that has reports can only stop being offered
    (is_active=False), since the reports keep it. Raises ValidationError {"category": …}."""
    require_configure(user)
    used = category.reports.count()
    if used:
        raise ValidationError(
            {
                "category": f"Lĩnh vực '{category.name}' đã có {used} phản ánh nên không xoá "
                "được; hãy bỏ chọn 'Đang dùng' để người dân không chọn nó nữa."
            }
        )
    before = audit.snapshot(category)
    audit.record(category, ChangeAction.DELETE, user=user, before=before)
    category.delete()


# --- holidays ------------------------------------------------------------------------------------


def _holiday_date(value) -> dt.date:
    from grassroots.core.dates import DateParseError, parse_when

    if isinstance(value, dt.date):
        day = value
    else:
        raw = str(value or "").strip()
        if not raw:
            raise ValidationError({"date": "Hãy chọn ngày nghỉ."})
        try:
            day = parse_when(raw)
        except DateParseError:
            raise ValidationError({"date": "Ngày chưa đúng; hãy chọn ngày trên lịch."}) from None
    if isinstance(day, dt.datetime):
        day = day.date()
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError({"date": f"Năm phải từ {FIRST_YEAR} đến {LAST_YEAR}."})
    return day


@transaction.atomic
def save_holiday(*, user, date, name: str, holiday: Holiday | None = None) -> Holiday:
    """Add a day off or change one (`date` a date or "YYYY-MM-DD"; one row per day).
    Raises ValidationError {"date"|"name": message} or PermissionDenied."""
    require_configure(user)
    day = _holiday_date(date)
    name = _text(name, field="name", label="tên ngày nghỉ", limit=200, required=True)
    clash = Holiday.objects.filter(date=day).exclude(pk=getattr(holiday, "pk", None)).first()
    if clash:
        raise ValidationError(
            {"date": f"Ngày {day:%d/%m/%Y} đã có trong lịch ({clash.name}); hãy sửa dòng đó."}
        )
    before = audit.snapshot(holiday) if holiday else None
    holiday = holiday or Holiday()
    holiday.date, holiday.name = day, name
    holiday.save()
    audit.record(holiday, ChangeAction.UPDATE if before else ChangeAction.CREATE, user=user,
                 before=before)  # fmt: skip
    return holiday


@transaction.atomic
def delete_holiday(*, user, holiday: Holiday) -> None:
    """Remove a day off: it counts as a working day again for reports received afterwards."""
    require_configure(user)
    audit.record(holiday, ChangeAction.DELETE, user=user, before=audit.snapshot(holiday))
    holiday.delete()


def official_holidays(year: int) -> list[tuple[dt.date, str]]:
    """Vietnam's public holidays of `year` as the `holidays` package knows them (Labour Code
    art. 112: Tết Dương lịch, Tết Nguyên Đán, Giỗ Tổ Hùng Vương, 30/4, 1/5, Quốc khánh; plus the
    days off and compensatory days the Government announced, for the years the package has).
    Sorted by date; names in Vietnamese. Raises ValidationError {"year": …} outside 2000–2100."""
    import holidays

    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"year": f"Năm phải từ {FIRST_YEAR} đến {LAST_YEAR}."})
    days = holidays.country_holidays("VN", years=year, language="vi")
    return sorted((day, clean_text(name)) for day, name in days.items())


@transaction.atomic
def import_holidays(*, user, year: int, dates: list[dt.date]) -> list[Holiday]:
    """Add the chosen days of `official_holidays(year)` that are not in the calendar yet (each
    with its own audit row); days already there are left as they are. Returns the new rows."""
    require_configure(user)
    official = dict(official_holidays(year))
    chosen = [d for d in dates if d in official]
    if not chosen:
        raise ValidationError({"dates": "Hãy chọn ít nhất một ngày để thêm vào lịch."})
    existing = set(Holiday.objects.filter(date__in=chosen).values_list("date", flat=True))
    made = []
    for day in sorted(set(chosen) - existing):
        holiday = Holiday.objects.create(date=day, name=official[day][:200])
        audit.record(holiday, ChangeAction.CREATE, user=user,
                     comment=f"nhập danh sách ngày nghỉ chính thức năm {year}")  # fmt: skip
        made.append(holiday)
    return made
