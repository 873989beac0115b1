"""The move of live sessions from `alerts` to `live` keeps every row (SQLite and PostgreSQL).

The test database is taken back to before the move (`live` unapplied, and with it `alerts`
0008), rows are written through the historical `alerts` model, and the migrations are applied
again: every session, its area, its links to a speaker, a relay source, a station and a recording,
and its audit trail are found through the `live` model, in tables of the new name. A session
written after the move survives going back and forth too.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from grassroots.core.testing import COMMUNE_A, COMMUNE_B
from grassroots.core.testing import unit as get_unit

BEFORE_MOVE = [("live", None)]  # alerts 0008 depends on live 0001: it goes back too


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


@pytest.mark.django_db(transaction=True)
def test_sessions_written_before_the_move_survive_it(demo):
    from grassroots.accounts.models import User
    from grassroots.broadcast.models import RelaySource
    from grassroots.content.models import Bulletin
    from grassroots.core.models import ObjectChange
    from grassroots.devices.models import Device
    from grassroots.live.models import LiveEndReason, LiveSession, LiveSource, LiveStatus

    a, b = get_unit(COMMUNE_A), get_unit(COMMUNE_B)
    admin = User.objects.get(username="admin")
    device = Device.objects.create(
        kind="speaker", unit=a, name="Cụm loa đài xã", serial="MIG-LIVE-1", technology="ip_4g"
    )
    radio = RelaySource.objects.create(unit=a, name="VOV1", url="http://radio.example/vov1.mp3")
    bulletin = Bulletin.objects.create(unit=a, title="Bản ghi phiên trực tiếp")
    now = timezone.now().replace(microsecond=0)
    after = LiveSession.objects.create(  # written by the new code, before going back
        unit=a, title="Phiên sau khi chuyển", mount="/live/after.ogg", until=now, source="fm",
        relay_frequency=Decimal("99.50"), status=LiveStatus.ENDED, end_reason=LiveEndReason.STOPPED,
    )  # fmt: skip
    after.area.set([a])

    executor = MigrationExecutor(connection)
    old = executor.migrate(BEFORE_MOVE).apps  # the state after going back
    tables = _tables()
    assert {"alerts_livesession", "alerts_livesession_area"} <= tables
    assert not [t for t in tables if t.startswith("live_")]

    OldSession = old.get_model("alerts", "LiveSession")
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldChange = old.get_model("core", "ObjectChange")
    OldPermission = old.get_model("auth", "Permission")
    OldUser = old.get_model("accounts", "User")
    back = OldSession.objects.get(pk=after.pk)  # the new code's row went back with the table
    assert (back.title, back.source, str(back.relay_frequency)) == ("Phiên sau khi chuyển", "fm",
                                                                    "99.50")  # fmt: skip
    assert list(back.area.values_list("pk", flat=True)) == [a.pk]
    s = OldSession.objects.create(
        unit_id=a.parent_id,
        title="Tiếp sóng trước khi chuyển",
        priority="emergency",
        speaker_id=admin.pk,
        status="ended",
        mount="/live/before-the-move.ogg",
        started_at=now,
        ended_at=now + datetime.timedelta(minutes=3),
        until=now + datetime.timedelta(hours=4),
        end_reason="source_lost",
        command_id="cmd-live-before-move",
        expected_devices=2,
        bulletin_id=bulletin.pk,
        source="stream",
        relay_source_id=radio.pk,
        relay_url=radio.url,
        source_device_id=device.pk,
    )
    s.area.set([a.pk, b.pk])
    source_ct = OldContentType.objects.get(app_label="alerts", model="livesession")
    OldChange.objects.create(
        action="create", content_type=source_ct, object_id=str(s.pk), object_repr=s.title,
        unit_id=a.pk,
    )  # fmt: skip
    # post_migrate ran in between (a `migrate live 0001` then `migrate`): both content types
    # exist, each with history and a granted model permission; all of it ends on the new one
    target_ct = OldContentType.objects.create(app_label="live", model="livesession")
    OldChange.objects.create(
        action="update", content_type=target_ct, object_id=str(s.pk), object_repr=s.title,
        unit_id=a.pk,
    )  # fmt: skip
    for ct in (source_ct, target_ct):
        OldPermission.objects.get_or_create(
            content_type=ct, codename="view_livesession", defaults={"name": "Can view"}
        )
    granted = OldPermission.objects.get(content_type=source_ct, codename="view_livesession")
    OldUser.objects.get(pk=admin.pk).user_permissions.add(granted)

    executor.loader.build_graph()  # reads what is applied now
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()  # ids cached by earlier tests in this process are stale

    tables = _tables()
    assert {"live_livesession", "live_livesession_area"} <= tables
    assert not [t for t in tables if t.startswith("alerts_livesession")]
    moved = LiveSession.objects.get(pk=s.pk)
    assert (moved.title, moved.priority, moved.mount, moved.command_id) == (
        "Tiếp sóng trước khi chuyển",
        "emergency",
        "/live/before-the-move.ogg",
        "cmd-live-before-move",
    )
    assert (moved.started_at, moved.expected_devices) == (now, 2)
    assert moved.end_reason == LiveEndReason.SOURCE_LOST and moved.source == LiveSource.STREAM
    assert (moved.speaker, moved.relay_source, moved.source_device, moved.bulletin) == (
        admin,
        radio,
        device,
        bulletin,
    )
    assert sorted(moved.area.values_list("code", flat=True)) == sorted([COMMUNE_A, COMMUNE_B])
    assert list(a.live_sessions.order_by("pk").values_list("pk", flat=True)) == [after.pk, s.pk]
    assert LiveSession.objects.get(pk=after.pk).relay_frequency == Decimal("99.50")
    live_ct = ContentType.objects.get_for_model(LiveSession)
    assert live_ct.app_label == "live"
    assert not ContentType.objects.filter(app_label="alerts", model="livesession").exists()
    history = ObjectChange.objects.filter(object_id=str(s.pk), object_repr=s.title)
    assert sorted(history.values_list("action", flat=True)) == ["create", "update"]
    assert {c.content_type_id for c in history} == {live_ct.pk}
    assert admin.user_permissions.filter(content_type=live_ct, codename="view_livesession").exists()
    # new rows continue the ids (the sequence moved with the table on PostgreSQL)
    again = LiveSession.objects.create(
        unit=a, title="Sau khi chuyển", mount="/live/again.ogg", until=now
    )
    assert again.pk > s.pk
