from django.contrib import admin

from .models import (
    ApprovalChain,
    ApprovalStep,
    Bulletin,
    BulletinRevision,
    BulletinShare,
    Category,
    MediaAsset,
    Transition,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "essential", "active")
    prepopulated_fields = {"slug": ("name",)}


class StepInline(admin.TabularInline):
    model = ApprovalStep
    extra = 1


@admin.register(ApprovalChain)
class ApprovalChainAdmin(admin.ModelAdmin):
    list_display = ("unit", "name")
    autocomplete_fields = ["unit"]
    inlines = [StepInline]


class RevisionInline(admin.TabularInline):
    model = BulletinRevision
    extra = 0
    fields = ("number", "content_hash", "kid", "signed_at", "created_by", "created_at")
    readonly_fields = fields
    can_delete = False


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    fields = ("from_status", "to_status", "step", "user_name", "at", "comment")
    readonly_fields = fields
    can_delete = False


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the console or the API so they are revised and audited."""

    list_display = ("title", "unit", "priority", "status", "updated_at")
    list_filter = ("status", "priority", "kind", "category")
    search_fields = ("title", "search_text")
    readonly_fields = [f.name for f in Bulletin._meta.concrete_fields]
    inlines = [RevisionInline, TransitionInline]

    def has_add_permission(self, request):
        return False


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ("original_name", "unit", "kind", "status", "size", "duration_seconds")
    list_filter = ("status", "kind")
    readonly_fields = [f.name for f in MediaAsset._meta.concrete_fields]


@admin.register(BulletinShare)
class ShareAdmin(admin.ModelAdmin):
    list_display = ("bulletin", "unit", "must_air", "shared_at", "picked_up_at", "withdrawn_at")
    list_filter = ("must_air",)
    readonly_fields = [f.name for f in BulletinShare._meta.concrete_fields]
