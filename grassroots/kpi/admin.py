from django import forms
from django.contrib import admin

from .indicators import INDICATORS
from .models import Target


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
