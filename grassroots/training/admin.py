from django.contrib import admin

from .models import Attendance, Course, Session, StaffMember


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("full_name", "unit", "position", "requires_training", "start_date")
    list_filter = ("position", "requires_training")
    search_fields = ("full_name", "name_folded")
    raw_id_fields = ("unit",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "created_at")
    raw_id_fields = ("unit", "created_by")


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("course", "starts_on", "ends_on", "place", "trainer", "hours")


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ("staff", "session", "result", "score")
    list_filter = ("result",)
    raw_id_fields = ("staff", "session")
