from django.contrib import admin

from .actions import mark_stations_dirty
from .models import AsRunEntry, Proposal, RelaySource, ScheduleItem, Station, UsagePolicy


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ("name", "unit")
    search_fields = ("name", "unit__name", "unit__code")
    raw_id_fields = ("unit",)


@admin.register(UsagePolicy)
class UsagePolicyAdmin(admin.ModelAdmin):
    list_display = ("unit", "allowed_start", "allowed_end", "max_sessions_per_day")
    raw_id_fields = ("unit",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        mark_stations_dirty(
            Station.objects.filter(unit__path__startswith=obj.unit.path).values_list(
                "pk", flat=True
            )
        )


@admin.register(ScheduleItem)
class ScheduleItemAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "priority", "kind", "starts_at", "rrule", "status")
    list_filter = ("priority", "kind", "status")
    search_fields = ("title",)
    raw_id_fields = ("unit", "source", "created_by")
    filter_horizontal = ("stations",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        mark_stations_dirty(obj.stations.values_list("pk", flat=True))


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("item", "station", "must_air", "status")
    list_filter = ("status", "must_air")


@admin.register(AsRunEntry)
class AsRunEntryAdmin(admin.ModelAdmin):
    list_display = ("device", "manifest_item", "started_at", "status", "cut_by")
    list_filter = ("status",)


@admin.register(RelaySource)
class RelaySourceAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "unit")
    search_fields = ("name", "url")
    raw_id_fields = ("unit", "created_by")
