"""Console forms of the training records."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grassroots.units.models import Unit
from grassroots.units.widgets import use_picker

from .choices import Position, Result, Topic
from .models import Course, StaffMember

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _units(user, permission: str):
    return Unit.objects.restrict(user, permission).current().order_by("path")


class StaffForm(forms.ModelForm):
    unit = forms.ModelChoiceField(
        label=_("Đơn vị"), queryset=Unit.objects.none(), to_field_name="code"
    )

    class Meta:
        model = StaffMember
        fields = [
            "unit",
            "full_name",
            "position",
            "job_title",
            "requires_training",
            "start_date",
            "end_date",
            "phone",
            "note",
        ]
        widgets = {"start_date": DATE, "end_date": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(user, "training.manage")
        use_picker(self.fields["unit"], multiple=False)
        self.fields["requires_training"].help_text = _(
            "Mọi vị trí kế hoạch nêu (mục III.4) đều phải được đào tạo."
        )


class CourseForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Đơn vị tổ chức"), queryset=Unit.objects.none(), to_field_name="code"
    )
    title = forms.CharField(label=_("Tên khóa học"), max_length=300)
    topics = forms.MultipleChoiceField(
        label=_("Nội dung (kế hoạch mục III.4)"),
        choices=Topic.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=_("Mô tả"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(user, "training.manage")
        use_picker(self.fields["unit"], multiple=False)


class SessionForm(forms.Form):
    course = forms.ModelChoiceField(label=_("Khóa học"), queryset=Course.objects.none())
    starts_on = forms.DateField(label=_("Từ ngày"), widget=DATE)
    ends_on = forms.DateField(label=_("Đến ngày"), widget=DATE, required=False)
    place = forms.CharField(label=_("Địa điểm"), max_length=300)
    trainer = forms.CharField(label=_("Giảng viên"), max_length=200)
    hours = forms.DecimalField(label=_("Số giờ"), min_value=0.5, max_value=999, decimal_places=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.restrict(user, "training.manage")


class AttendanceForm(forms.Form):
    staff = forms.ModelChoiceField(label=_("Cán bộ"), queryset=StaffMember.objects.none())
    result = forms.ChoiceField(label=_("Kết quả"), choices=Result.choices)
    score = forms.DecimalField(
        label=_("Điểm"), required=False, min_value=0, max_value=10, decimal_places=1
    )
    note = forms.CharField(label=_("Ghi chú"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = StaffMember.objects.restrict(
            user, "training.view"
        ).select_related("unit")
        self.fields["staff"].label_from_instance = lambda s: f"{s.full_name} — {s.unit.name}"


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Danh sách học viên (.xlsx)"))


class PeriodForm(forms.Form):
    """The period of the indicator and of the list (defaults: this calendar year)."""

    start = forms.DateField(label=_("Từ ngày"), widget=DATE, required=False)
    end = forms.DateField(label=_("Đến ngày"), widget=DATE, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("'Đến ngày' phải sau hoặc bằng 'Từ ngày'."))
        return data


POSITIONS = Position.choices
