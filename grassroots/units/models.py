"""The administrative unit tree (any depth) and its merger history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grassroots.core.models import TimeStampedModel

from .choices import UnitKind
from .querysets import UnitQuerySet
from .text import fold

PATH_SEP = "/"


class Unit(TimeStampedModel):
    """An administrative unit (tỉnh, xã, phường...) with its place in the tree and validity.

    `path` is the materialised path of primary keys ("/1/57/"), so every descendant query is one
    indexed prefix match. Codes are official (GSO) codes and unique among units in force; a code
    may return in history (a former ward keeps its old code after its successor takes another).
    """

    scope_field = ""

    code = models.CharField(_("mã"), max_length=16, db_index=True)
    name = models.CharField(_("tên"), max_length=200)
    name_folded = models.CharField(max_length=200, db_index=True, editable=False)
    kind = models.CharField(_("loại"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("đơn vị cấp trên"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hết hiệu lực từ"), null=True, blank=True, db_index=True)
    latitude = models.FloatField(_("vĩ độ"), null=True, blank=True)
    longitude = models.FloatField(_("kinh độ"), null=True, blank=True)
    area_km2 = models.FloatField(_("diện tích (km²)"), null=True, blank=True)
    is_new_rural_target = models.BooleanField(_("mục tiêu nông thôn mới"), default=False)
    source = models.CharField(_("nguồn dữ liệu"), max_length=200, blank=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = _("đơn vị hành chính")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(valid_to__isnull=True),
                name="unit_code_unique_in_force",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    @property
    def is_commune_level(self) -> bool:
        return self.kind in UnitKind.commune_level()

    def save(self, *args, **kwargs):
        self.name_folded = fold(self.name)
        is_new = self.pk is None
        if is_new:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
        old_path = self.path
        self._compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            self._repath_descendants(old_path)

    def _compute_path(self) -> None:
        if self.parent_id:
            parent = Unit.objects.only("path", "depth").get(pk=self.parent_id)
            if parent.path.startswith(self.path) and self.path:
                raise ValueError("Không thể đặt một đơn vị làm cấp dưới của chính nó.")
            self.path = f"{parent.path}{self.pk}{PATH_SEP}"
            self.depth = parent.depth + 1
        else:
            self.path = f"{PATH_SEP}{self.pk}{PATH_SEP}"
            self.depth = 0

    def _repath_descendants(self, old_path: str) -> None:
        shift = self.depth - (old_path.count(PATH_SEP) - 2)
        for child in Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
            child.path = self.path + child.path[len(old_path) :]
            child.depth += shift
            Unit.objects.filter(pk=child.pk).update(path=child.path, depth=child.depth)

    def ancestors(self, include_self: bool = False):
        """Ancestors from the root down, in one query."""
        ids = [int(p) for p in self.path.strip(PATH_SEP).split(PATH_SEP) if p]
        if not include_self:
            ids = ids[:-1]
        return Unit.objects.filter(pk__in=ids).order_by("depth")

    def descendants(self, include_self: bool = False):
        return Unit.objects.descendants_of(self, include_self=include_self)

    def is_within(self, other: Unit) -> bool:
        return self.path.startswith(other.path)


class UnitChange(models.Model):
    """One step of merger history: `predecessor` became (part of) `successor` on `date`."""

    predecessor = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="successions", verbose_name=_("đơn vị cũ")
    )
    successor = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="predecessions", verbose_name=_("đơn vị mới")
    )
    date = models.DateField(_("ngày hiệu lực"))
    resolution = models.CharField(_("căn cứ (nghị quyết)"), max_length=200, blank=True)
    partial = models.BooleanField(_("chỉ một phần"), default=False)
    source = models.CharField(_("nguồn dữ liệu"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("lịch sử sáp nhập")
        verbose_name_plural = _("lịch sử sáp nhập")
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor"], name="unit_change_unique")
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor} ({self.date})"


class UnitBoundary(models.Model):
    """A unit's real boundary: a GeoJSON Polygon or MultiPolygon (WGS 84, lon/lat), loaded
    from a file (`grassroots units boundaries`). A CAP polygon or circle reaches a commune when
    it overlaps this shape; without one the commune's centroid stands in (docs/alerts.md)."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="boundary")
    geometry = models.JSONField()
    # the bounding box, so a far-away area is ruled out without building the shape
    south = models.FloatField()
    west = models.FloatField()
    north = models.FloatField()
    east = models.FloatField()
    source = models.CharField(_("nguồn dữ liệu"), max_length=200, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ranh giới đơn vị")
        verbose_name_plural = _("ranh giới đơn vị")

    def __str__(self) -> str:
        return f"{self.unit} ({self.source})"
