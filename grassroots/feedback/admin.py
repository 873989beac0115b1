from django.contrib import admin

from .models import Category, Holiday, Notification, Open311Key, Report, UnitSettings


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "deadline_working_days", "escalation_working_days", "is_active"]
    list_editable = ["deadline_working_days", "is_active"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


@admin.register(UnitSettings)
class UnitSettingsAdmin(admin.ModelAdmin):
    list_display = ["unit", "reopen_on_low_rating", "low_rating_threshold"]
    raw_id_fields = ["unit"]


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at", "created_by"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["tracking_code", "category", "unit", "status", "resolution", "due_at"]
    list_filter = ["status", "resolution", "category"]
    search_fields = ["tracking_code"]
    raw_id_fields = ["unit", "origin_unit", "assignee", "merged_into", "answered_by"]

    def has_delete_permission(self, request, obj=None):
        return False  # nothing a citizen sent is ever lost


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["channel", "recipient", "subject", "created_at", "sent_at", "attempts"]
