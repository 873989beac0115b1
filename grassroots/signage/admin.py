from django.contrib import admin

from .models import Board, DisplayProof, Layout, Playlist, PlaylistItem


@admin.register(Layout)
class LayoutAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "kind", "default_duration")
    raw_id_fields = ("unit",)


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    raw_id_fields = ("bulletin",)
    extra = 0


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "active", "start_time", "end_time", "order")
    raw_id_fields = ("unit", "boards")
    inlines = [PlaylistItemInline]


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ("device", "paired_at", "revoked_at", "last_seen_at", "current_item")
    raw_id_fields = ("device", "layout", "paired_by")
    readonly_fields = ("token_hash", "mqtt_password_hash", "state", "manifest_etag")
    exclude = ("manifest_body",)


@admin.register(DisplayProof)
class DisplayProofAdmin(admin.ModelAdmin):
    list_display = ("device", "item", "kind", "started_at", "seconds")
    list_filter = ("kind",)
    raw_id_fields = ("device", "unit", "bulletin", "revision")
