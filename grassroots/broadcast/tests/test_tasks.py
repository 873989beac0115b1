"""The worker's timed jobs of this app run against the database and do their one thing."""

import pytest

from grassroots.broadcast import tasks
from grassroots.broadcast.models import Manifest, Station
from grassroots.core import periodic
from grassroots.core.testing import COMMUNE_A, unit
from grassroots.devices.tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_jobs_are_registered_and_compile_the_fleet(demo):
    periodic.discover()
    names = {j.rsplit(".", 1)[-1] for j in periodic.JOBS}
    assert {"compile_dirty_manifests", "refresh_expiring_manifests", "ensure_stations"} <= names
    dev = DeviceFactory(unit=unit(COMMUNE_A), station=None)
    tasks.ensure_stations()
    dev.refresh_from_db()
    assert dev.station == Station.objects.get(unit=unit(COMMUNE_A))
    tasks.compile_dirty_manifests()
    assert Manifest.objects.filter(device=dev).exists()
    tasks.proposals_from_inbox()
    tasks.refresh_expiring_manifests()
