import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from grassroots.core import signing
from grassroots.core.models import OutboxMessage
from grassroots.devices import protocol


def verify_with_published_key(envelope):
    key = signing.published_keys()[0]
    assert envelope["kid"] == key["kid"]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    data = json.dumps(
        envelope["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    public.verify(base64.b64decode(envelope["sig"]), data)  # raises if forged


@pytest.mark.django_db
def test_commands_are_signed_and_sequenced():
    first = protocol.build(protocol.CommandType.STOP, {"device": "5"})
    second = protocol.build(protocol.CommandType.VOLUME_SET, {"device": "5"}, {"volume": 40})
    verify_with_published_key(first)
    verify_with_published_key(second)
    assert second["payload"]["seq"] == first["payload"]["seq"] + 1
    p = second["payload"]
    assert p["type"] == "volume.set" and p["volume"] == 40 and p["target"] == {"device": "5"}
    assert p["not_before"] < p["expires_at"]
    tampered = json.loads(json.dumps(second))
    tampered["payload"]["volume"] = 100
    with pytest.raises(Exception):  # noqa: B017 - any InvalidSignature
        verify_with_published_key(tampered)


@pytest.mark.django_db
def test_unit_commands_go_once_per_unit_topic():
    envelope, rows = protocol.send_to_units(["11953", "33", "11953"], "volume.set", {"volume": 40})
    assert [r.topic for r in rows] == ["grassroots/v1/unit/11953/cmd", "grassroots/v1/unit/33/cmd"]
    assert json.loads(OutboxMessage.objects.first().payload) == envelope
    assert protocol.device_id_from_topic("grassroots/v1/dev/42/events") == "42"


def test_command_types_are_the_protocols():
    """The server's list of command types is the wire protocol's (one definition)."""
    from grassroots_protocol import COMMAND_TYPES

    assert set(protocol.CommandType.values) == set(COMMAND_TYPES)
