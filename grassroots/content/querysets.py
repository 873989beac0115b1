"""Reusable reads of bulletins: visibility, accent-insensitive search and archive filters."""

from __future__ import annotations

import datetime
import re

from django.apps import apps
from django.db import connections
from django.db.models import Q
from django.db.models.expressions import RawSQL

from grassroots.core.querysets import RestrictedQuerySet
from grassroots.units.text import fold

FTS_TABLE = "content_bulletin_fts"
_fts_tables: dict[str, bool] = {}


def search_tokens(query: str) -> list[str]:
    """Folded words of a query ("Tiêm phòng!" -> ["tiem", "phong"]), punctuation dropped."""
    words = (re.sub(r"[^\w]", "", w) for w in fold(query).split())
    return [w for w in words if w][:12]


def _has_fts(alias: str) -> bool:
    """Whether the SQLite FTS5 index exists on this database (created by migration 0002)."""
    if alias not in _fts_tables:
        connection = connections[alias]
        _fts_tables[alias] = (
            connection.vendor == "sqlite" and FTS_TABLE in connection.introspection.table_names()
        )
    return _fts_tables[alias]


def index_for_search(bulletin, *, using: str = "default") -> None:
    """Keep the SQLite FTS5 row of a bulletin in step with its folded text."""
    if not _has_fts(using):
        return
    with connections[using].cursor() as cur:
        cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [bulletin.pk])  # noqa: S608
        cur.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (%s, %s)",  # noqa: S608
            [bulletin.pk, bulletin.search_text],
        )


def unindex(pk, *, using: str = "default") -> None:
    if pk is not None and _has_fts(using):
        with connections[using].cursor() as cur:
            cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [pk])  # noqa: S608


class BulletinQuerySet(RestrictedQuerySet):
    """Bulletins: scope, visibility through the inbox, search and archive filters."""

    def visible_to(self, user) -> BulletinQuerySet:
        """Owned by a unit in the user's view scope, or shared down to one of those units."""
        share = apps.get_model("content", "BulletinShare")
        own = self.model.objects.restrict(user, "content.view").values("pk")
        shared = share.objects.restrict(user, "content.view").values("bulletin_id")
        return self.filter(Q(pk__in=own) | Q(pk__in=shared))

    def search(self, query: str, *, engine: str = "auto") -> BulletinQuerySet:
        """Accent-insensitive search: "tiem phong" finds "Tiêm phòng".

        Every word must match. SQLite uses the FTS5 index over the folded column (prefix match);
        elsewhere (PostgreSQL, with a pg_trgm GIN index) a substring match on the folded column.
        """
        tokens = search_tokens(query)
        if not tokens:
            return self
        if engine == "fts" or (engine == "auto" and _has_fts(self.db)):
            match = " ".join(f'"{t}"*' for t in tokens)
            sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
            # The user's words travel only as a bound parameter, quoted as FTS5 strings.
            return self.filter(pk__in=RawSQL(sql, (match,)))  # noqa: S611
        qs = self
        for token in tokens:
            qs = qs.filter(search_text__contains=token)
        return qs

    def archive_filter(
        self,
        *,
        unit=None,
        category: str | None = None,
        priority: str | None = None,
        status: str | None = None,
        date_from: datetime.date | None = None,
        date_to: datetime.date | None = None,
    ) -> BulletinQuerySet:
        """Filters of the archive; `unit` covers its subtree."""
        qs = self
        if unit is not None:
            qs = qs.filter(unit__path__startswith=unit.path)
        if category:
            qs = qs.filter(category__slug=category)
        if priority:
            qs = qs.filter(priority=priority)
        if status:
            qs = qs.filter(status=status)
        if date_from:
            qs = qs.filter(created_at__date__gte=date_from)
        if date_to:
            qs = qs.filter(created_at__date__lte=date_to)
        return qs


class ShareQuerySet(RestrictedQuerySet):
    """Inbox rows of communes."""

    def active(self) -> ShareQuerySet:
        return self.filter(withdrawn_at__isnull=True)

    def inbox(self, user) -> ShareQuerySet:
        """The user's inbox: shares to units in their view scope, newest first."""
        return (
            self.restrict(user, "content.view")
            .select_related("bulletin", "bulletin__unit", "bulletin__category", "unit", "revision")
            .order_by("-shared_at", "-id")
        )


class MediaQuerySet(RestrictedQuerySet):
    """Media assets of bulletins."""

    def for_revision(self, revision) -> MediaQuerySet:
        """Ready files of one revision: its uploads (by hash, as approved) and its TTS voice."""
        shas = [m["sha256"] for m in revision.data.get("media", []) if m.get("sha256")]
        uploaded = Q(synthesized=False) & (Q(sha256__in=shas) | Q(duplicate_of__sha256__in=shas))
        return self.filter(
            uploaded | Q(synthesized=True, revision=revision),
            bulletin_id=revision.bulletin_id,
            status="ready",
        ).order_by("synthesized", "id")
