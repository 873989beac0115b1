"""Console forms of the yearly report: the heading and the officer's text, the province's
comment when it returns a report, the year's deadline and reminder days."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import MAX_HEADER
from .yearly import MAX_TEXT, SECTIONS


class ReportForm(forms.Form):
    """The heading of the document and one text box per section of the plan."""

    issuer_parent = forms.CharField(label=_("Cơ quan chủ quản"), required=False,
                                    max_length=MAX_HEADER["issuer_parent"])  # fmt: skip
    issuer = forms.CharField(
        label=_("Cơ quan ban hành (mỗi dòng một dòng in)"),
        required=False,
        max_length=MAX_HEADER["issuer"],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    number = forms.CharField(label=_("Số, ký hiệu"), required=False,
                             max_length=MAX_HEADER["number"])  # fmt: skip
    place = forms.CharField(label=_("Địa danh"), required=False, max_length=MAX_HEADER["place"])
    signed_on = forms.DateField(
        label=_("Ngày ký"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Để trống: ngày gửi báo cáo."),
    )
    signer_title = forms.CharField(
        label=_("Chức vụ người ký (mỗi dòng một dòng in)"),
        required=False,
        max_length=MAX_HEADER["signer_title"],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    signer_name = forms.CharField(label=_("Họ tên người ký"), required=False,
                                  max_length=MAX_HEADER["signer_name"])  # fmt: skip
    recipients = forms.CharField(
        label=_("Nơi nhận"),
        required=False,
        max_length=MAX_HEADER["recipients"],
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    HEADER = ("issuer_parent", "issuer", "number", "place", "signed_on", "signer_title",
              "signer_name", "recipients")  # fmt: skip

    def __init__(self, *args, report=None, **kwargs):
        if report is not None and "initial" not in kwargs:
            initial = {name: getattr(report, name) for name in self.HEADER}
            initial.update({f"text_{k}": v for k, v in (report.texts or {}).items()})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for s in SECTIONS:
            self.fields[f"text_{s.id}"] = forms.CharField(
                label=s.heading,
                required=False,
                max_length=MAX_TEXT,
                help_text=s.hint,
                widget=forms.Textarea(attrs={"rows": 5}),
            )
            # no maxlength: the browser would cut a long paste silently and the page would
            # say "saved"; a counter shows the length and the server refuses what is too long
            attrs = self.fields[f"text_{s.id}"].widget.attrs
            attrs.pop("maxlength", None)
            attrs.update({"data-max-chars": MAX_TEXT, "data-chars-label": _("kí tự")})

    def header(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.HEADER}

    def texts(self) -> dict:
        return {s.id: self.cleaned_data.get(f"text_{s.id}", "") for s in SECTIONS}

    def header_fields(self):
        return [self[name] for name in self.HEADER]

    def section_field(self, sid: str):
        return self[f"text_{sid}"]


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("Ý kiến (bắt buộc khi trả lại)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CalendarForm(forms.Form):
    """The year's deadline and the days the worker reminds units that have not reported."""

    deadline = forms.DateField(
        label=_("Hạn gửi báo cáo"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reminders = forms.CharField(
        label=_("Ngày nhắc hạn"),
        required=False,
        max_length=300,
        help_text=_(
            "Các ngày cách nhau bởi dấu phẩy, dạng ngày/tháng/năm, ví dụ 26/11/2026, 3/12/2026."
        ),
    )

    def __init__(self, *args, year: int, **kwargs):
        self.year = year
        super().__init__(*args, **kwargs)

    def clean_deadline(self):
        value = self.cleaned_data["deadline"]
        if value.year != self.year:
            raise forms.ValidationError(
                _("Hạn gửi phải nằm trong năm %(year)s.") % {"year": self.year}
            )
        return value

    def clean_reminders(self):
        days = []
        for part in (self.cleaned_data.get("reminders") or "").replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                day = dt.datetime.strptime(part, "%d/%m/%Y").date()
            except ValueError:
                raise forms.ValidationError(
                    _(
                        "“%(value)s” không phải ngày có thật; hãy viết dạng ngày/tháng/năm, ví dụ "
                        "3/12/%(year)s."
                    )
                    % {"value": part[:20], "year": self.year}
                ) from None
            days.append(day)
        if len(days) > 10:
            raise forms.ValidationError(_("Tối đa 10 ngày nhắc hạn."))
        return sorted(set(days))

    def clean(self):
        data = super().clean()
        deadline = data.get("deadline")
        for day in data.get("reminders") or []:
            if deadline and day > deadline:
                self.add_error("reminders", _("Ngày nhắc hạn phải trước hoặc đúng hạn gửi."))
                break
        return data
