from django import forms
from django.contrib import admin

from .indicators import INDICATORS
from .models import ReportCalendar, ReportingBody, Target, YearlyReport


class TargetForm(forms.ModelForm):
    indicator = forms.ChoiceField(label="Chỉ số", choices=[(i.id, i.name) for i in INDICATORS])

    class Meta:
        model = Target
        fields = ["indicator", "year", "comparison", "value", "source"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    """The plan's targets by year: edit them, add a year (e.g. the 2030 vision)."""

    form = TargetForm
    list_display = ("indicator", "year", "comparison", "value", "source")
    list_filter = ("indicator", "year")


@admin.register(ReportingBody)
class ReportingBodyAdmin(admin.ModelAdmin):
    """The provincial agencies that send a yearly report; `compiles` marks the one that
    receives them and signs the province's report."""

    list_display = ("name", "unit", "email", "compiles", "active")
    list_filter = ("compiles", "active")


@admin.register(ReportCalendar)
class ReportCalendarAdmin(admin.ModelAdmin):
    list_display = ("year", "deadline", "reminders")


@admin.register(YearlyReport)
class YearlyReportAdmin(admin.ModelAdmin):
    """Read-only here: reports change through the console (its actions check the state)."""

    list_display = ("year", "kind", "unit", "body", "state", "submitted_at")
    list_filter = ("year", "kind", "state")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
