"""Console forms of e-boards."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grassroots.devices.choices import DeviceKind
from grassroots.devices.models import Device
from grassroots.units.choices import UnitKind
from grassroots.units.models import Unit
from grassroots.units.widgets import use_picker

from .models import Layout


class PairForm(forms.Form):
    code = forms.CharField(
        label=_("Mã trên màn hình bảng tin"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "ABC-234"}),
    )
    device = forms.ModelChoiceField(
        label=_("Bảng tin đã khai báo"), queryset=Device.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(
        label=_("…hoặc tạo bảng tin mới tại đơn vị"), queryset=Unit.objects.none(), required=False
    )
    name = forms.CharField(label=_("Tên bảng tin mới"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = Device.objects.restrict(user, "signage.manage").filter(
            kind=DeviceKind.BOARD
        )
        self.fields["unit"].queryset = (
            Unit.objects.restrict(user, "signage.manage")
            .current()
            .filter(kind__in=[*UnitKind.commune_level(), UnitKind.PROVINCE])
            .order_by("path")
        )

    def clean(self):
        data = super().clean()
        if not data.get("device") and not data.get("unit"):
            raise forms.ValidationError(
                _("Hãy chọn bảng tin đã khai báo, hoặc chọn đơn vị để tạo bảng tin mới.")
            )
        return data


class LayoutForm(forms.ModelForm):
    unit = forms.ModelChoiceField(
        label=_("Đơn vị"), queryset=Unit.objects.none(), to_field_name="code"
    )

    class Meta:
        model = Layout
        fields = [
            "unit", "name", "kind", "show_clock", "show_unit_name", "ticker_text", "text_scale",
            "default_duration",
        ]  # fmt: skip
        _scale = _("Cỡ chữ từ 60 đến 250 (%%); 100 là cỡ thường.")  # formatted with %
        _duration = _("Thời lượng mỗi mục từ 2 đến 600 giây.")
        error_messages = {
            "name": {"required": _("Hãy đặt tên cho bố cục.")},
            "text_scale": {"min_value": _scale, "max_value": _scale,
                           "invalid": _("Hãy nhập cỡ chữ là một số nguyên.")},
            "default_duration": {"min_value": _duration, "max_value": _duration,
                                 "invalid": _("Hãy nhập số giây là một số nguyên.")},
        }  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            Unit.objects.restrict(user, "signage.manage").current().order_by("path")
        )
        use_picker(self.fields["unit"], multiple=False)


class LayoutEditForm(LayoutForm):
    """The layout form without the unit: a layout stays with the unit that made it."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["unit"]
