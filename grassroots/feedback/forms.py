"""Forms of the citizen app and the officer console (all messages in Vietnamese)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import actions, photos
from .choices import Resolution
from .models import Category

PHONE_RE = re.compile(r"^\+?[0-9 .\-]{8,15}$")


class CitizenReportForm(forms.Form):
    """A citizen's report; `website` is a honeypot that people never see."""

    category = forms.ModelChoiceField(
        label=_("Lĩnh vực"),
        queryset=Category.objects.filter(is_active=True),
        empty_label=_("— Chọn lĩnh vực —"),
        error_messages={
            "required": _("Hãy chọn lĩnh vực phản ánh."),
            "invalid_choice": _("Lĩnh vực không hợp lệ; hãy chọn lại."),
        },
    )
    text = forms.CharField(
        label=_("Nội dung phản ánh"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Hãy viết nội dung phản ánh.")},
        strip=False,
    )
    unit_code = forms.CharField(label=_("Xã/phường"), required=False, max_length=16)
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    share_location = forms.BooleanField(label=_("Gửi kèm vị trí của tôi"), required=False)
    address = forms.CharField(
        label=_("Địa chỉ cụ thể (thôn, xóm, đường)"), required=False, max_length=300
    )
    name = forms.CharField(label=_("Họ tên (không bắt buộc)"), required=False, max_length=100)
    phone = forms.CharField(
        label=_("Số điện thoại (không bắt buộc)"), required=False, max_length=20
    )
    email = forms.EmailField(
        label=_("Thư điện tử (không bắt buộc)"),
        required=False,
        error_messages={"invalid": _("Địa chỉ thư điện tử chưa đúng.")},
    )
    website = forms.CharField(required=False, label=_("Trang web"))  # honeypot

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("address", "name", "phone", "email", "text", "unit_code"):
            self.fields[name].widget.attrs.setdefault("class", "form-control")
        self.fields["category"].widget.attrs["class"] = "form-select"
        self.fields["share_location"].widget.attrs["class"] = "form-check-input"
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["text"].widget.attrs["maxlength"] = str(actions.MAX_TEXT)
        self.processed_photos: list[photos.ProcessedPhoto] = []
        self.unit = None

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_text(self):
        return actions.clean_text(self.cleaned_data.get("text", ""))

    def clean_phone(self):
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and not PHONE_RE.match(phone):
            raise ValidationError("Số điện thoại chưa đúng; ví dụ 0912 345 678.")
        return re.sub(r"[ .\-]", "", phone)

    def clean(self):
        data = super().clean()
        try:
            self.unit = actions.resolve_unit(
                unit_code=data.get("unit_code", ""),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
        except ValidationError as exc:
            self.add_error("unit_code", exc)
        try:
            self.processed_photos = photos.process_all(
                self.files.getlist("photos") if self.files else [],
                keep_location=bool(data.get("share_location")),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class RatingForm(forms.Form):
    """The citizen's 1–5 stars and comment on an answer."""

    stars = forms.TypedChoiceField(
        label=_("Mức độ hài lòng"),
        choices=[(i, f"{i} sao") for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Hãy chọn số sao (1 đến 5).")},
    )
    comment = forms.CharField(
        label=_("Nhận xét (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class AnswerForm(forms.Form):
    """The officer's answer, optionally closing the report."""

    public_answer = forms.CharField(
        label=_("Trả lời công khai"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    private_answer = forms.CharField(
        label=_("Trả lời riêng cho người phản ánh"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    resolution = forms.ChoiceField(
        label=_("Đóng luôn với kết quả"),
        required=False,
        choices=[
            ("", "— Chưa đóng —"),
            *[
                c
                for c in Resolution.choices
                if c[0] not in (Resolution.DUPLICATE, Resolution.HIDDEN_ABUSE)
            ],
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class CloseForm(forms.Form):
    """Closing with a resolution state."""

    resolution = forms.ChoiceField(
        label=_("Kết quả"),
        choices=[c for c in Resolution.choices if c[0] != Resolution.DUPLICATE],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    note = forms.CharField(
        label=_("Ghi chú"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )


# --- province-wide settings: categories and the holiday calendar (validated by `catalog`) ------

_INT = {"invalid": _("Hãy nhập một số nguyên."), "required": _("Hãy nhập một số.")}


class CategoryForm(forms.Form):
    """A report category as the officer types it; `catalog.save_category` validates."""

    code = forms.CharField(
        label=_("Mã (không dấu, dùng cho Open311)"),
        max_length=50,
        required=False,
        help_text=_("Ví dụ: moi-truong. Không đổi được sau khi tạo."),
    )
    name = forms.CharField(label=_("Tên lĩnh vực"), max_length=200, required=False)
    group = forms.CharField(label=_("Nhóm"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Mô tả cho người dân"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    keywords = forms.CharField(
        label=_("Từ khoá (giúp tìm, cách nhau bằng dấu phẩy)"), max_length=200, required=False
    )
    deadline_working_days = forms.IntegerField(
        label=_("Thời hạn xử lý (ngày làm việc)"), error_messages=_INT, initial=10
    )
    escalation_working_days = forms.IntegerField(
        label=_("Quá hạn: chuyển lên cấp trên với thêm (ngày làm việc)"),
        error_messages=_INT,
        initial=3,
    )
    order = forms.IntegerField(label=_("Thứ tự hiển thị"), error_messages=_INT, initial=0)
    is_active = forms.BooleanField(
        label=_("Đang dùng (người dân chọn được)"), required=False, initial=True
    )

    def __init__(self, *args, category=None, **kwargs):
        super().__init__(*args, **kwargs)
        if category is not None:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("Mã không đổi được (ứng dụng Open311 đang dùng).")


class HolidayForm(forms.Form):
    """One day off of the calendar; `catalog.save_holiday` validates."""

    date = forms.DateField(
        label=_("Ngày"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Ngày chưa đúng; hãy chọn ngày trên lịch."),
                        "required": _("Hãy chọn ngày nghỉ.")},
    )  # fmt: skip
    name = forms.CharField(label=_("Tên ngày nghỉ"), max_length=200, required=False)
