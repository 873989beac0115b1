"""CAP 1.2 in and out, with real CAP files (tests/cap/): the OASIS specification's own examples,
a Vietnamese flood warning by geocode and its cancel, a storm polygon over the province, an
expired alert, an alert outside the province, and hostile files."""

import datetime as dt
import json
import resource
import time
from pathlib import Path

import pytest
import time_machine
from lxml import etree

from grassroots.alerts.cap import export, geo
from grassroots.alerts.cap.ingest import province
from grassroots.alerts.cap.parse import CapError, hardened_parser, parse, schema
from grassroots.alerts.models import CapAlert, CapSender, CapState, Emergency, EmergencyStatus
from grassroots.core.models import ObjectChange, OutboxMessage
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call, token_for
from grassroots.core.testing import unit as get_unit

CAP = Path(__file__).with_name("cap")
# The flood warning was sent at 08:00 (+07:00) and expires at 20:00; "now" is 09:00.
NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
HOSTILE = [
    "hostile-xxe.xml",
    "hostile-billion-laughs.xml",
    "hostile-wrong-namespace.xml",
    "hostile-malformed.xml",
    "invalid-missing-scope.xml",
]


def post_cap(client, user, name_or_bytes, *, token: str = ""):
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (CAP / name_or_bytes).read_bytes()
    return client.post(
        "/api/v1/alerts/cap",
        data=data,
        content_type="application/cap+xml",
        HTTP_AUTHORIZATION=f"Bearer {token or token_for(user)}",
    )


@pytest.fixture
def nchmf(demo):
    """The national hydro-meteorological service, trusted with the default thresholds."""
    return CapSender.objects.create(
        unit=province(), sender="canhbao@nchmf.gov.vn", name="TT Dự báo KTTV quốc gia", trusted=True
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.parametrize(
    ("name", "identifier", "infos"),
    [
        ("oasis-a1-homeland-security.xml", "43b080713727", 1),
        ("oasis-a2-thunderstorm.xml", "KSTO1055887203", 1),
        ("oasis-a3-earthquake-update.xml", "TRI13970876.2", 1),
        ("oasis-a4-amber-alert.xml", "KAR0-0306112239-SW", 2),
    ],
)
def test_oasis_specification_examples_parse(name, identifier, infos):
    msg = parse((CAP / name).read_bytes())
    assert msg.identifier == identifier and len(msg.infos) == infos
    assert msg.sent.utcoffset() is not None
    assert msg.info_for("vi") is None  # English and Spanish only: never read aloud here


def test_oasis_examples_details():
    storm = parse((CAP / "oasis-a2-thunderstorm.xml").read_bytes())
    area = storm.infos[0].areas[0]
    assert area.polygons[0][0] == (38.47, -120.14) and ("SAME", "006109") in area.geocodes
    quake = parse((CAP / "oasis-a3-earthquake-update.xml").read_bytes())
    assert quake.msg_type == "Update"
    assert quake.references == [
        ("trinet@caltech.edu", "TRI13970876.1", "2003-06-11T20:30:00-07:00")
    ]
    assert quake.infos[0].areas[0].circles == [(32.9525, -115.5527, 0.0)]


@pytest.mark.django_db
def test_flood_warning_by_geocode_goes_on_air_in_its_communes_and_stops_at_its_cancel(
    client, users, nchmf, frozen, django_capture_on_commit_callbacks
):
    """The TTS step runs in the worker (tests/test_cap_end_to_end.py runs it for real); here
    the worker's send is called as the task calls it once the audio is ready."""
    from grassroots.alerts import actions

    admin = users["admin"]
    with django_capture_on_commit_callbacks() as callbacks:
        answer = post_cap(client, admin, "vn-flood-warning-geocode.xml")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["state"] == CapState.ON_AIR, body["reason"]
    assert sorted(body["units"]) == sorted([COMMUNE_A, COMMUNE_B])
    e = Emergency.objects.get(pk=body["emergency_id"])
    assert e.status == EmergencyStatus.PREPARING and len(callbacks) == 1  # the TTS task
    sha = "ab" * 32  # what the worker stores once the text is read (tts.synthesize)
    e.media = [{"url": f"/media/assets/ab/ab/{sha}.opus", "sha256": sha, "size": 9, "duration": 20}]
    actions.send(e)
    assert e.title == "Cảnh báo lũ khẩn cấp trên sông Luộc" and "Bà con vùng bãi" in e.text
    assert e.expires_at == dt.datetime.fromisoformat("2026-11-29T20:00:00+07:00")
    assert e.repeat == nchmf.repeat
    plays = OutboxMessage.objects.filter(payload__contains='"play.now"')
    assert sorted(plays.values_list("topic", flat=True)) == sorted(
        f"grassroots/v1/unit/{c}/cmd" for c in (COMMUNE_A, COMMUNE_B)
    )
    command = json.loads(plays.first().payload)["payload"]
    assert command["priority"] == "emergency" and command["emergency"]["id"] == e.pk
    # the same message again is recognised by (sender, identifier, sent): nothing new
    again = post_cap(client, admin, "vn-flood-warning-geocode.xml")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Emergency.objects.count() == 1

    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=30), tick=True):
        cancel = post_cap(client, admin, "vn-flood-cancel.xml")
    assert cancel.status_code == 201 and "1 lần phát đã dừng" in cancel.json()["reason"]
    e.refresh_from_db()
    assert e.status == EmergencyStatus.STOPPED
    stops = OutboxMessage.objects.filter(payload__contains='"stop"')
    assert sorted(stops.values_list("topic", flat=True)) == sorted(
        f"grassroots/v1/unit/{c}/cmd" for c in (COMMUNE_A, COMMUNE_B)
    )
    assert CapAlert.objects.get(pk=body["id"]).state == CapState.CANCELLED
    assert ObjectChange.objects.filter(object_repr=e.title, comment__contains="Hủy").exists()


@pytest.mark.django_db
def test_polygon_covering_the_province_reaches_all_104_communes(client, users, nchmf, frozen):
    answer = post_cap(client, users["admin"], "vn-storm-polygon-province.xml")
    body = answer.json()
    assert answer.status_code == 201 and body["state"] == CapState.ON_AIR, body
    assert len(body["units"]) == 104 == geo.communes(province()).count()


def test_centroid_tests():
    square = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)]
    assert geo.inside_polygon(0.5, 0.5, square) and not geo.inside_polygon(1.5, 0.5, square)
    # Phố Hiến to Tân Hưng is about 4 km
    assert 3 < geo.distance_km(20.6634, 106.068, 20.6384, 106.097) < 5


@pytest.mark.django_db
def test_expired_alert_is_recorded_and_not_broadcast(client, users, nchmf, frozen):
    body = post_cap(client, users["admin"], "vn-expired.xml").json()
    assert body["state"] == CapState.EXPIRED and "Đã hết hạn lúc 29/11/2026 07:00" in body["reason"]
    assert body["emergency_id"] is None and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_area_outside_the_province_is_recorded_with_the_reason(client, users, nchmf, frozen):
    body = post_cap(client, users["admin"], "vn-outside-province.xml").json()
    assert body["state"] == CapState.REFUSED and "nằm ngoài Tỉnh Hưng Yên" in body["reason"]
    assert not Emergency.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_sender_rules_priority_bulletin_and_archive(client, users, nchmf, frozen):
    from grassroots.content.models import Bulletin

    nchmf.trusted = False
    nchmf.save()
    body = post_cap(client, users["admin"], "vn-flood-warning-geocode.xml").json()
    assert body["state"] == CapState.AWAITING_APPROVAL and "chưa tin cậy" in body["reason"]
    bulletin = Bulletin.objects.get(pk=body["bulletin_id"])
    assert (bulletin.priority, bulletin.status) == ("priority", "submitted")
    assert not Emergency.objects.exists()
    # an unknown sender is archived; an English-only alert (OASIS A.2) too
    nchmf.delete()
    storm = post_cap(client, users["admin"], "vn-storm-polygon-province.xml").json()
    assert storm["state"] == CapState.ARCHIVED and "chưa được khai báo" in storm["reason"]
    english = post_cap(client, users["admin"], "oasis-a2-thunderstorm.xml").json()
    assert english["state"] == CapState.ARCHIVED and "tiếng Việt" in english["reason"]


@pytest.mark.django_db
def test_operator_cannot_reach_communes_outside_its_scope(client, users, nchmf, frozen):
    """The demo operator holds the emergency right on Phố Hiến only: the storm over the whole
    province goes on air there and nowhere else."""
    body = post_cap(client, users["operator"], "vn-storm-polygon-province.xml").json()
    assert body["units"] == [COMMUNE_A]
    viewer = post_cap(client, users["viewer"], "vn-storm-polygon-province.xml")
    assert_problem(viewer, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_or_invalid_files_are_refused_fast_in_vietnamese(client, users, name):
    admin = users["admin"]
    token = token_for(admin)  # issuing a token is not part of the request's time
    post_cap(client, admin, "oasis-a1-homeland-security.xml", token=token)  # warm up
    before = CapAlert.objects.count()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        answer = post_cap(client, admin, name, token=token)
        times.append(time.perf_counter() - started)
    problem = assert_problem(answer, answer.status_code)
    assert 400 <= answer.status_code < 500 and problem["title"] == "Bản tin CAP bị từ chối"
    assert min(times) < 0.1, times
    assert CapAlert.objects.count() == before
    assert "root:" not in answer.content.decode()  # /etc/passwd never read


def test_hostile_files_do_not_grow_memory_and_parser_expands_nothing():
    laughs = (CAP / "hostile-billion-laughs.xml").read_bytes()
    # even without the DOCTYPE check, the parser itself expands nothing: libxml2 stops the
    # amplification, or (older libxml2) leaves the references unexpanded
    try:
        root = etree.fromstring(laughs, hardened_parser())
        assert len(etree.tostring(root)) < 2000
    except etree.XMLSyntaxError as exc:
        assert "amplification" in str(exc)
    xxe = etree.fromstring((CAP / "hostile-xxe.xml").read_bytes(), hardened_parser())
    assert "root:" not in etree.tostring(xxe).decode()
    files = [(CAP / n).read_bytes() for n in HOSTILE]
    for data in files:  # warm up
        with pytest.raises(CapError):
            parse(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    for _ in range(200):
        for data in files:
            with pytest.raises(CapError):
                parse(data)
    assert (time.perf_counter() - started) / 1000 < 0.01
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 5 * 1024  # KB
    with pytest.raises(CapError) as big:
        parse(b"<alert>" + b" " * (600 * 1024) + b"</alert>")
    assert big.value.status == 413


@pytest.mark.django_db
def test_every_exported_cap_validates_alert_cancel_and_atom(client, users, nchmf, frozen):
    admin = users["admin"]
    body = post_cap(client, admin, "vn-flood-warning-geocode.xml").json()
    e = Emergency.objects.get(pk=body["emergency_id"])
    e.status, e.sent_at = EmergencyStatus.ACTIVE, NOW
    e.save()
    xsd = schema()

    def fetch_cap(pk):
        answer = client.get(f"/api/v1/alerts/{pk}.cap")
        assert answer.status_code == 200 and "cap+xml" in answer["Content-Type"]
        root = etree.fromstring(answer.content, hardened_parser())
        assert xsd.validate(root), xsd.error_log
        return parse(answer.content)

    alert = fetch_cap(e.pk)
    assert alert.msg_type == "Alert" and alert.info_for("vi").headline == e.title
    area = alert.infos[0].areas[0]
    assert sorted(v for _, v in area.geocodes) == sorted([COMMUNE_A, COMMUNE_B])
    assert len(area.polygons[0]) == 5
    # the exported area resolves back to the same communes
    assert sorted(u.code for u in geo.resolve(province(), [area])) == sorted([COMMUNE_A, COMMUNE_B])
    call(client, "post", f"/api/v1/emergencies/{e.pk}/stop", user=admin)
    cancel = fetch_cap(e.pk)
    assert cancel.msg_type == "Cancel"
    assert cancel.references == [(alert.sender, alert.identifier, export.cap_time(alert.sent))]

    feed = client.get("/feeds/cap.atom")
    assert feed.status_code == 200 and "atom+xml" in feed["Content-Type"]
    root = etree.fromstring(feed.content, hardened_parser())
    inside = root.findall(".//{urn:oasis:names:tc:emergency:cap:1.2}alert")
    assert len(inside) == 1
    for el in inside:
        assert xsd.validate(el), xsd.error_log
    # an emergency that never went on air is not published
    waiting = Emergency.objects.create(
        unit=get_unit(COMMUNE_A), title="Chờ", expires_at=NOW + dt.timedelta(hours=1)
    )
    assert client.get(f"/api/v1/alerts/{waiting.pk}.cap").status_code == 404


@pytest.mark.django_db
def test_an_alert_on_air_stops_by_itself_at_its_expires(client, users, nchmf, frozen):
    from grassroots.alerts import actions

    body = post_cap(client, users["admin"], "vn-flood-warning-geocode.xml").json()
    e = Emergency.objects.get(pk=body["emergency_id"])
    e.status = EmergencyStatus.ACTIVE  # the worker read it by TTS and sent it
    e.save()
    assert actions.expire_due(now=NOW + dt.timedelta(hours=10)) == 0  # expires at 20:00
    assert not OutboxMessage.objects.filter(payload__contains='"stop"').exists()
    assert actions.expire_due(now=NOW + dt.timedelta(hours=11, seconds=1)) == 1
    e.refresh_from_db()
    assert e.status == EmergencyStatus.EXPIRED
    stops = OutboxMessage.objects.filter(payload__contains='"stop"')
    assert sorted(stops.values_list("topic", flat=True)) == sorted(
        f"grassroots/v1/unit/{c}/cmd" for c in (COMMUNE_A, COMMUNE_B)
    )
    assert CapAlert.objects.get(pk=body["id"]).state == CapState.EXPIRED


@pytest.mark.django_db
def test_an_update_replaces_what_is_on_air_and_is_published_as_update(client, users, nchmf, frozen):
    admin = users["admin"]
    first = post_cap(client, admin, "vn-flood-warning-geocode.xml").json()
    old = Emergency.objects.get(pk=first["emergency_id"])
    old.status, old.sent_at = EmergencyStatus.ACTIVE, NOW
    old.save()
    update = (
        (CAP / "vn-flood-warning-geocode.xml")
        .read_text()
        .replace("NCHMF-LU-20261129-001", "NCHMF-LU-20261129-001U")
        .replace("<sent>2026-11-29T08:00:00", "<sent>2026-11-29T08:45:00")
        .replace("<msgType>Alert</msgType>", "<msgType>Update</msgType>")
        .replace(
            "<scope>Public</scope>",
            "<scope>Public</scope><references>canhbao@nchmf.gov.vn,NCHMF-LU-20261129-001,"
            "2026-11-29T08:00:00+07:00</references>",
        )
        .replace("vượt báo động 3 là 0,4 m", "vượt báo động 3 là 0,7 m")
        .encode()
    )
    body = post_cap(client, admin, update).json()
    assert body["state"] == CapState.ON_AIR, body
    old.refresh_from_db()
    assert old.status == EmergencyStatus.STOPPED
    assert CapAlert.objects.get(pk=first["id"]).state == CapState.REPLACED
    new = Emergency.objects.get(pk=body["emergency_id"])
    assert new.replaces == old and "0,7 m" in new.text
    new.status, new.sent_at = EmergencyStatus.ACTIVE, NOW
    new.save()
    answer = client.get(f"/api/v1/alerts/{new.pk}.cap")
    assert schema().validate(etree.fromstring(answer.content, hardened_parser()))
    published = parse(answer.content)
    earlier = parse(client.get(f"/api/v1/alerts/{old.pk}.cap").content)
    assert published.msg_type == "Update" and earlier.msg_type == "Cancel"
    assert published.references == [
        (published.sender, f"urn:grassroots:33:emergency:{old.pk}", export.cap_time(NOW))
    ]


def _on_air(e):
    """What the worker does once the text is read (tts.synthesize_quick): media, then send."""
    from grassroots.alerts import actions

    sha = "ab" * 32
    e.media = [{"url": f"/media/assets/ab/ab/{sha}.opus", "sha256": sha, "size": 9, "duration": 20}]
    actions.send(e)
    e.save(update_fields=["media"])


@pytest.mark.django_db
def test_an_alert_is_repeated_as_its_sender_rule_says_until_its_expires(
    client, users, nchmf, frozen
):
    """Every 2 hours (the sender's rule) from 09:00 until 20:00 (`expires`): 11:00, 13:00,
    15:00, 17:00 and 19:00, each a freshly signed play.now to the same communes; at 20:00 the
    alert stops by itself and is never repeated again."""
    from grassroots.alerts import actions

    nchmf.repeat_every_minutes = 120
    nchmf.save()
    body = post_cap(client, users["admin"], "vn-flood-warning-geocode.xml").json()
    e = Emergency.objects.get(pk=body["emergency_id"])
    assert e.repeat_every_minutes == 120
    _on_air(e)
    first_id = e.command_id
    assert abs(e.next_repeat_at - (NOW + dt.timedelta(hours=2))) < dt.timedelta(minutes=1)
    plays = OutboxMessage.objects.filter(payload__contains='"play.now"')
    assert plays.count() == 2  # two communes

    assert actions.repeat_due(now=NOW + dt.timedelta(hours=1)) == 0
    repeated_at = []
    for minutes in range(10, 12 * 60, 10):  # the worker's job, every 10 (frozen) minutes
        at = NOW + dt.timedelta(minutes=minutes)
        if actions.repeat_due(now=at):
            repeated_at.append(at.hour)
        if at >= dt.datetime.fromisoformat("2026-11-29T20:00:00+07:00"):
            actions.expire_due(now=at)
    assert repeated_at == [11, 13, 15, 17, 19]
    e.refresh_from_db()
    assert e.repeats_sent == 5 and e.next_repeat_at is None
    assert e.status == EmergencyStatus.EXPIRED
    assert plays.count() == 2 * 6
    commands = [json.loads(p)["payload"] for p in plays.values_list("payload", flat=True)]
    assert len({c["id"] for c in commands}) == 6 and first_id in {c["id"] for c in commands}
    assert {c["emergency"]["id"] for c in commands} == {e.pk}
    assert OutboxMessage.objects.filter(payload__contains='"stop"').count() == 2
    assert actions.repeat_due(now=NOW + dt.timedelta(hours=12)) == 0


@pytest.mark.django_db
def test_a_cancel_stops_the_repetition_at_once(client, users, nchmf, frozen):
    from grassroots.alerts import actions

    nchmf.repeat_every_minutes = 60
    nchmf.save()
    body = post_cap(client, users["admin"], "vn-flood-warning-geocode.xml").json()
    e = Emergency.objects.get(pk=body["emergency_id"])
    _on_air(e)
    assert actions.repeat_due(now=NOW + dt.timedelta(hours=1, minutes=1)) == 1
    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=30), tick=True):
        cancel = post_cap(client, users["admin"], "vn-flood-cancel.xml")
    assert cancel.status_code == 201
    e.refresh_from_db()
    assert e.status == EmergencyStatus.STOPPED
    plays = OutboxMessage.objects.filter(payload__contains='"play.now"').count()
    for hours in (3, 4, 5):
        assert actions.repeat_due(now=NOW + dt.timedelta(hours=hours)) == 0
    assert OutboxMessage.objects.filter(payload__contains='"play.now"').count() == plays == 4


@pytest.mark.django_db
def test_the_repeat_interval_is_a_sender_rule_setting(users, demo):
    from grassroots.alerts.cap import config
    from grassroots.core.errors import Problem

    rule = config.save_sender(
        user=users["admin"], sender="kttv@hungyen", name="Đài KTTV Hưng Yên", trusted=True,
        live=("Severe", "Expected", "Likely"), priority=("Moderate", "Future", "Possible"),
        repeat=2, repeat_every_minutes=30,
    )  # fmt: skip
    assert rule.repeat_every_minutes == 30
    with pytest.raises(Problem, match="Chu kỳ nhắc lại"):
        config.save_sender(
            user=users["admin"], sender="kttv@hungyen", name="Đài KTTV Hưng Yên", trusted=True,
            live=("Severe", "Expected", "Likely"), priority=("Moderate", "Future", "Possible"),
            repeat=2, repeat_every_minutes=5000,
        )  # fmt: skip
