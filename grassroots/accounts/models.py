"""Users, roles with editable permission sets, role assignments on units, API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel
from grassroots.core.querysets import RestrictedManager, RestrictedQuerySet

from .choices import PERMISSIONS


class User(AbstractUser):
    """A person who signs in to the console or the API."""

    full_name = models.CharField(_("họ và tên"), max_length=200, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        """The person's name as they gave it (`full_name`): Vietnamese names are not split into
        Django's first and last name, which stay empty."""
        return self.full_name


class Role(TimeStampedModel):
    """A named permission set; admins may edit which permissions it grants."""

    slug = models.SlugField(_("mã"), max_length=50, unique=True)
    name = models.CharField(_("tên"), max_length=100)
    permissions = models.JSONField(_("quyền"), default=list)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("vai trò")
        verbose_name_plural = _("vai trò")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        unknown = sorted(set(self.permissions) - set(PERMISSIONS))
        if unknown:
            raise ValidationError({"permissions": f"Quyền không tồn tại: {', '.join(unknown)}"})


class RoleAssignmentQuerySet(RestrictedQuerySet):
    pass


class RoleAssignment(TimeStampedModel):
    """A role granted to a user on a unit; it covers the unit and all its descendants."""

    scope_field = "unit"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="assignments")

    objects = RestrictedManager.from_queryset(RoleAssignmentQuerySet)()

    class Meta:
        verbose_name = _("phân quyền")
        verbose_name_plural = _("phân quyền")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} @ {self.unit}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenManager(models.Manager):
    def issue(self, *, user, name: str = "") -> tuple[ApiToken, str]:
        """Create a token and return it with its raw value (shown once, stored hashed)."""
        raw = "gr_" + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name[:100], key_hash=hash_token(raw), prefix=raw[:10])
        return token, raw

    def authenticate(self, raw: str) -> ApiToken | None:
        if not raw or len(raw) > 200:
            return None
        token = (
            self.select_related("user")
            .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None or (token.expires_at and token.expires_at <= timezone.now()):
            return None
        return token


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("tên"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("mã truy cập API")
        verbose_name_plural = _("mã truy cập API")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
