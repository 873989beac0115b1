"""Factories and helpers of stations and schedules."""

from datetime import datetime

import factory

from grassroots.broadcast.engine import TZ
from grassroots.broadcast.models import Station, UsagePolicy
from grassroots.core.testing import unit


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station
        django_get_or_create = ("unit",)

    name = factory.LazyAttribute(lambda o: f"Đài truyền thanh {o.unit.name}")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsagePolicy
        django_get_or_create = ("unit",)


def station(code: str) -> Station:
    return StationFactory(unit=unit(code))


def vn(day: int, hh: int, mm: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TZ)


STORE_TITLE = "Bản tin trong kho (thử)"


def store_media(code: str) -> list[dict]:
    """Media a schedule may air: the voice of an approved bulletin of unit `code` in the store
    (made once per unit and test). Schedules take files from the store only, never a URL."""
    import hashlib

    from grassroots.broadcast.inbox import revision_media
    from grassroots.content.models import Bulletin, MediaAsset
    from grassroots.content.tests.conftest import make_bulletin

    bulletin = Bulletin.objects.filter(unit__code=code, title=STORE_TITLE).first()
    if bulletin is None:
        bulletin = make_bulletin(code, status="approved", title=STORE_TITLE)
        sha = hashlib.sha256(f"store-media-{code}".encode()).hexdigest()
        MediaAsset.objects.create(
            unit=bulletin.unit,
            bulletin=bulletin,
            synthesized=True,
            revision=bulletin.approved_revision,
            declared_kind="audio",
            kind="audio",
            status="ready",
            sha256=sha,
            size=1234,
            duration_seconds=300.0,
            file=f"assets/{sha[:2]}/{sha[2:4]}/{sha}.opus",
        )
    return [{"sha256": m["sha256"]} for m in revision_media(bulletin.approved_revision)]


def schedule_body(code: str, **kw) -> dict:
    body = {
        "unit": code,
        "title": "Bản tin sáng",
        "priority": "normal",
        "kind": "bulletin",
        "starts_at": "2026-12-01T07:00:00+07:00",
        "duration_seconds": 600,
    }
    body.update(kw)
    if body["kind"] == "bulletin" and "media" not in body and not body.get("revision"):
        body["media"] = store_media(code)
    return body
