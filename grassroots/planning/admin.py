from django.contrib import admin

from .models import EboardSite, Inspection, Investment


@admin.register(Investment)
class InvestmentAdmin(admin.ModelAdmin):
    list_display = ("year", "title", "unit", "purpose", "source", "planned_amount", "spent_amount")
    list_filter = ("year", "purpose", "source")
    raw_id_fields = ("unit", "station", "board", "course", "created_by")


@admin.register(EboardSite)
class EboardSiteAdmin(admin.ModelAdmin):
    list_display = ("address", "unit", "status", "board")
    list_filter = ("status",)
    raw_id_fields = ("unit", "board", "proposed_by", "reviewed_by")


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ("station", "inspected_on", "kind", "inspector", "follow_up_deadline")
    list_filter = ("kind",)
    raw_id_fields = ("station", "created_by")
