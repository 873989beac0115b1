from django.contrib import admin

from .models import Unit, UnitChange


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "valid_from", "valid_to")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_folded")
    readonly_fields = ("path", "depth")


@admin.register(UnitChange)
class UnitChangeAdmin(admin.ModelAdmin):
    list_display = ("predecessor", "successor", "date", "resolution", "partial")
