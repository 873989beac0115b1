from django.contrib import admin

from .models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "serial", "kind", "unit", "technology", "condition", "enabled")
    list_filter = ("kind", "technology", "condition", "enabled")
    search_fields = ("name", "serial", "unit__name", "unit__code")
    raw_id_fields = ("unit", "station")

    def save_model(self, request, obj, form, change):
        obj.manifest_dirty = obj.receives_manifest
        super().save_model(request, obj, form, change)
