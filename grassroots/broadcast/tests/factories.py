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


SHA = "ab" * 32
MEDIA = [{"url": "https://media.example/bt.opus", "sha256": SHA, "size": 1234, "duration": 300}]


def schedule_body(code: str, **kw) -> dict:
    body = {
        "unit": code,
        "title": "Bản tin sáng",
        "priority": "normal",
        "kind": "bulletin",
        "starts_at": "2026-12-01T07:00:00+07:00",
        "duration_seconds": 600,
        "media": MEDIA,
    }
    body.update(kw)
    return body
