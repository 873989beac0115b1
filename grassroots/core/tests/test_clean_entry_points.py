"""Every entry point stores clean text: console/citizen forms, MQTT messages (API and Open311
are in test_text_input.py and feedback/tests/test_open311_input.py)."""

import json
import unicodedata

import pytest

from grassroots.core.testing import COMMUNE_A, unit
from grassroots.devices import handlers
from grassroots.devices.models_fleet import DeviceEvent, DeviceStatus
from grassroots.devices.tests.factories import DeviceFactory
from grassroots.feedback.models import Category, Report

NFD = unicodedata.normalize("NFD", "Thôn Hòa Bình")


@pytest.mark.django_db
def test_citizen_form_fields_are_cleaned_at_the_boundary(client, users):
    response = client.post(
        "/phan-anh/",
        {
            "category": Category.objects.filter(is_active=True).first().pk,
            "text": f"Cống tắc\u000b ở {NFD}\u001b[2J",
            "unit_code": COMMUNE_A,
            "address": f"{NFD}\u0085",
            "name": "Lan\u0007",
            "phone": "",
            "email": "",
        },
    )
    assert response.status_code == 302, response.content[:500]
    report = Report.objects.get()
    assert report.text == "Cống tắc ở Thôn Hòa Bình[2J"
    assert report.address == "Thôn Hòa Bình" and report.name == "Lan"


@pytest.mark.django_db
def test_mqtt_messages_are_cleaned_before_they_are_stored(users):
    device = DeviceFactory(unit=unit(COMMUNE_A))
    title = f"Bản tin {NFD}\u001b\u0001"
    playing = {"item_id": "s1-x", "kind": "media", "origin": "schedule", "title": title}
    state = json.dumps({"online": True, "playing": playing}).encode()
    fault = {"type": "fault", "id": "f-1", "code": "audio.failed", "detail": title}
    handlers.ingest_state([(f"grassroots/v1/dev/{device.pk}/state", state)])
    handlers.ingest_events([(f"grassroots/v1/dev/{device.pk}/events", json.dumps(fault).encode())])
    stored = DeviceStatus.objects.get(device=device).state
    assert stored["playing"]["title"] == "Bản tin Thôn Hòa Bình"
    event = DeviceEvent.objects.get(device=device)
    assert event.payload["detail"] == "Bản tin Thôn Hòa Bình"
