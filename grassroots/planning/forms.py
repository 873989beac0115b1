"""Console forms of the plan's implementation records."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grassroots.broadcast.models import Station
from grassroots.devices.choices import DeviceKind
from grassroots.devices.models import Device
from grassroots.units.models import Unit
from grassroots.units.widgets import use_picker

from .choices import CHECKLIST, FundingSource, InspectionKind, Purpose

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES_NO = [("", _("Không kiểm tra")), ("1", _("Đạt")), ("0", _("Không đạt"))]


class AmountField(forms.IntegerField):
    """Đồng as officers type them: 1.250.000.000, 1 250 000 000 or 1250000000."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(".", "").replace(" ", "").replace("\u00a0", "")
            value = value.removesuffix("đ").removesuffix("đồng")
        return super().to_python(value)


def _units(user, permission: str):
    return Unit.objects.restrict(user, permission).current().order_by("path")


class InvestmentForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Đơn vị"), queryset=Unit.objects.none(), to_field_name="code"
    )
    year = forms.IntegerField(label=_("Năm"), min_value=2020, max_value=2100)
    purpose = forms.ChoiceField(label=_("Hạng mục"), choices=Purpose.choices)
    source = forms.ChoiceField(label=_("Nguồn kinh phí"), choices=FundingSource.choices)
    title = forms.CharField(label=_("Nội dung"), max_length=300)
    planned_amount = AmountField(
        label=_("Kinh phí dự kiến (đồng)"), min_value=0, max_value=10**15 - 1
    )
    spent_amount = AmountField(
        label=_("Đã giải ngân (đồng)"), min_value=0, max_value=10**15 - 1, required=False
    )
    station = forms.ModelChoiceField(
        label=_("Đài truyền thanh (nếu là chuyển đổi đài)"),
        queryset=Station.objects.none(),
        required=False,
    )
    decision = forms.CharField(label=_("Quyết định phê duyệt"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(user, "planning.manage")
        use_picker(self.fields["unit"], multiple=False)
        self.fields["station"].queryset = Station.objects.restrict(
            user, "planning.manage"
        ).select_related("unit")


class SiteForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Xã, phường"), queryset=Unit.objects.none(), to_field_name="code"
    )
    address = forms.CharField(label=_("Địa chỉ đặt bảng tin"), max_length=300)
    reason = forms.CharField(
        label=_("Lý do chọn vị trí"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    latitude = forms.FloatField(label=_("Vĩ độ"), required=False, min_value=8, max_value=24)
    longitude = forms.FloatField(label=_("Kinh độ"), required=False, min_value=102, max_value=110)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(user, "signage.manage")
        use_picker(self.fields["unit"], multiple=False)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Kết quả thẩm định"),
        choices=[("approve", _("Duyệt")), ("reject", _("Không duyệt"))],
    )
    note = forms.CharField(label=_("Ý kiến"), max_length=500, required=False)


class BoardForm(forms.Form):
    board = forms.ModelChoiceField(label=_("Bảng tin đã lắp"), queryset=Device.objects.none())
    installed_on = forms.DateField(label=_("Ngày lắp"), widget=DATE, required=False)

    def __init__(self, *args, user, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["board"].queryset = Device.objects.restrict(user, "signage.manage").filter(
            kind=DeviceKind.BOARD, unit__path__startswith=unit.path
        )


class InspectionForm(forms.Form):
    station = forms.ModelChoiceField(label=_("Đài truyền thanh"), queryset=Station.objects.none())
    kind = forms.ChoiceField(label=_("Hình thức"), choices=InspectionKind.choices)
    inspected_on = forms.DateField(label=_("Ngày kiểm tra"), widget=DATE)
    inspector = forms.CharField(label=_("Người/đoàn kiểm tra"), max_length=200)
    period_start = forms.DateField(label=_("Kỳ được kiểm tra từ"), widget=DATE)
    period_end = forms.DateField(label=_("đến"), widget=DATE)
    findings = forms.CharField(
        label=_("Kết luận, tồn tại"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up = forms.CharField(
        label=_("Yêu cầu khắc phục"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up_deadline = forms.DateField(label=_("Hạn khắc phục"), widget=DATE, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = Station.objects.restrict(
            user, "planning.manage"
        ).select_related("unit")
        for name, label in CHECKLIST:
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                choices=YES_NO,
                required=False,
                empty_value=None,
                coerce=lambda v: v == "1",
            )
