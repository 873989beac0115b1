from django.contrib import admin

from .models import Target


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    """The plan's targets by year: edit them, add a year (e.g. the 2030 vision)."""

    list_display = ("indicator", "year", "comparison", "value", "source")
    list_filter = ("indicator", "year")
