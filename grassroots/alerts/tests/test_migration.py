"""The move of emergencies from `broadcast` to `alerts` keeps every row (SQLite and PostgreSQL).

The test database is taken back to before the move (only `alerts` and `broadcast` 0008 are
unapplied), rows are written through the historical `broadcast` models, and the migrations are
applied again: every row, its area, its acks, its policy and its audit trail are found through
the `alerts` models, in tables of the new name.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.core.testing import unit as get_unit

BEFORE_MOVE = [("alerts", None)]  # broadcast 0008 depends on alerts 0001: it goes back too


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_survive_it(demo):
    from grassroots.alerts.models import Emergency, EmergencyAck, EmergencyPolicy
    from grassroots.core.models import ObjectChange
    from grassroots.devices.models import Device

    device = Device.objects.create(
        kind="speaker", unit=get_unit(COMMUNE_A), name="Loa", serial="MIG-1", technology="ip_4g"
    )
    executor = MigrationExecutor(connection)
    old = executor.migrate(BEFORE_MOVE).apps  # the state after going back
    tables = connection.introspection.table_names()
    assert "broadcast_emergency" in tables and "alerts_emergency" not in tables

    OldEmergency = old.get_model("broadcast", "Emergency")
    OldAck = old.get_model("broadcast", "EmergencyAck")
    OldPolicy = old.get_model("broadcast", "EmergencyPolicy")
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldChange = old.get_model("core", "ObjectChange")
    a, b = get_unit(COMMUNE_A), get_unit(COMMUNE_B)
    sent = timezone.now().replace(microsecond=0)
    e = OldEmergency.objects.create(
        unit_id=a.parent_id,
        title="Cảnh báo lũ trước khi chuyển",
        text="Nước lên.",
        media=[{"url": "/media/x.opus", "sha256": "ab" * 32, "size": 1, "duration": 2}],
        repeat=3,
        expires_at=sent + datetime.timedelta(hours=1),
        status="active",
        command_seq=4242,
        command_id="cmd-before-move",
        sent_at=sent,
        expected_devices=1,
    )
    e.area.set([a.pk, b.pk])
    OldAck.objects.create(emergency=e, device_id=device.pk, status="ok", acked_at=sent)
    OldPolicy.objects.create(unit_id=a.pk, two_person=True, confirm_minutes=7)
    ct = OldContentType.objects.get(app_label="broadcast", model="emergency")
    OldChange.objects.create(
        action="create", content_type=ct, object_id=str(e.pk), object_repr=e.title, unit_id=a.pk
    )

    executor.loader.build_graph()  # reads what is applied now
    executor.migrate(executor.loader.graph.leaf_nodes())

    tables = connection.introspection.table_names()
    assert {
        "alerts_emergency",
        "alerts_emergency_area",
        "alerts_emergencyack",
        "alerts_emergencypolicy",
    } <= set(tables)
    assert not [t for t in tables if t.startswith("broadcast_emergency")]
    moved = Emergency.objects.get(pk=e.pk)
    assert (moved.title, moved.repeat, moved.command_seq, moved.sent_at) == (
        "Cảnh báo lũ trước khi chuyển",
        3,
        4242,
        sent,
    )
    assert moved.media[0]["sha256"] == "ab" * 32
    assert sorted(moved.area.values_list("code", flat=True)) == sorted([COMMUNE_A, COMMUNE_B])
    assert EmergencyAck.objects.get(emergency=moved).device_id == device.pk
    assert EmergencyPolicy.objects.get(unit=a).confirm_minutes == 7
    change = ObjectChange.objects.get(object_id=str(e.pk), object_repr=moved.title)
    assert change.content_type == ContentType.objects.get_for_model(Emergency)
    assert change.content_type.app_label == "alerts"
    # new rows continue the ids (the sequence moved with the table on PostgreSQL)
    again = Emergency.objects.create(
        unit=a, title="Sau khi chuyển", expires_at=sent + datetime.timedelta(hours=1)
    )
    assert again.pk > e.pk
