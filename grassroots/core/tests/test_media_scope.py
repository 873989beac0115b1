"""Finding 14.10: /media/assets/<ab>/<cd>/<sha256>.<ext> served any commune's file, drafts
included, to any officer or device token that knew the hash. Now the caller's scope decides;
devices still fetch their manifest's media (with the agent's own HTTP client and cache)."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from grassroots.broadcast.engine import TZ
from grassroots.broadcast.tests.factories import schedule_body, station, vn
from grassroots.content.models import MediaAsset
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, call, device_token, token_for, unit
from grassroots.devices.tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _write_asset(sha: str, ext: str = "opus", data: bytes | None = None) -> str:
    """Put bytes where the store keeps them; returns the /media/assets/... URL."""
    data = data if data is not None else sha.encode()
    path = Path(settings.MEDIA_ROOT) / "assets" / sha[:2] / sha[2:4] / f"{sha}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"/media/assets/{sha[:2]}/{sha[2:4]}/{sha}.{ext}"


def _draft_file(code: str) -> str:
    """A ready file of a draft bulletin of unit `code`."""
    from grassroots.content.tests.conftest import make_bulletin

    bulletin = make_bulletin(code, title="Bản nháp chưa duyệt")
    data = f"draft of {code}".encode()
    sha = hashlib.sha256(data).hexdigest()
    MediaAsset.objects.create(
        unit=bulletin.unit,
        bulletin=bulletin,
        declared_kind="audio",
        kind="audio",
        status="ready",
        sha256=sha,
        size=len(data),
        file=f"assets/{sha[:2]}/{sha[2:4]}/{sha}.opus",
    )
    return _write_asset(sha, data=data)


def _get(client, url, token=None, **extra):
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(url, **extra)


def test_officers_fetch_only_files_in_their_scope(client, users):
    draft_a = _draft_file(COMMUNE_A)
    operator, operator2 = token_for(users["operator"]), token_for(users["operator2"])
    assert _get(client, draft_a, operator).status_code == 200
    assert _get(client, draft_a, token_for(users["viewer"])).status_code == 200  # province
    assert _get(client, draft_a, operator2).status_code == 404  # another commune's draft
    client.force_login(users["operator2"])
    assert client.get(draft_a).status_code == 404
    client.logout()
    assert client.get(draft_a).status_code == 401


def test_devices_fetch_their_manifest_media_only(client, users):
    station(COMMUNE_A), station(COMMUNE_B)
    mine = DeviceFactory(unit=unit(COMMUNE_A), station=station(COMMUNE_A))
    other = DeviceFactory(unit=unit(COMMUNE_B), station=station(COMMUNE_B))
    with time_machine.travel(vn(1, 5), tick=False):
        body = schedule_body(COMMUNE_A)
        res = call(client, "post", "/api/v1/schedules", user=users["operator"], body=body)
        assert res.status_code == 201, res.content
        (entry,) = res.json()["media"]
        url = _write_asset(entry["sha256"])
        draft_a = _draft_file(COMMUNE_A)
        token, other_token = device_token(mine), device_token(other)
        manifest = _get(client, f"/api/v1/devices/{mine.pk}/manifest", token)
        assert entry["sha256"] in manifest.content.decode()
        got = _get(client, url, token)
        assert (
            got.status_code == 200 and b"".join(got.streaming_content) == entry["sha256"].encode()
        )
        resumed = _get(client, url, token, HTTP_RANGE="bytes=10-")
        assert resumed.status_code == 206
        assert _get(client, draft_a, token).status_code == 404  # a draft is in no manifest
        _get(client, f"/api/v1/devices/{other.pk}/manifest", other_token)
        assert _get(client, url, other_token).status_code == 404  # not in its manifest


def test_emergency_media_reaches_devices_of_its_area(client, users):
    from grassroots.alerts import actions as emergency

    dev = DeviceFactory(unit=unit(COMMUNE_A), station=station(COMMUNE_A))
    far = DeviceFactory(unit=unit(COMMUNE_B), station=station(COMMUNE_B))
    data = b"emergency voice"
    sha = hashlib.sha256(data).hexdigest()
    url = _write_asset(sha, data=data)
    e = emergency.start(user=users["operator"], unit_codes=[COMMUNE_A], title="Lũ", text="Sơ tán")
    type(e).objects.filter(pk=e.pk).update(media=[{"url": url, "sha256": sha, "size": len(data)}])
    assert _get(client, url, device_token(dev)).status_code == 200
    assert _get(client, url, device_token(far)).status_code == 404
    assert _get(client, url, token_for(users["operator"])).status_code == 200
    assert _get(client, url, token_for(users["operator2"])).status_code == 404


def _store_file(code: str, data: bytes) -> str:
    """An approved bulletin of unit `code` whose voice is `data`, in the store; its SHA-256."""
    from grassroots.content.tests.conftest import make_bulletin

    bulletin = make_bulletin(code, status="approved", title="Bản tin đã duyệt")
    sha = hashlib.sha256(data).hexdigest()
    MediaAsset.objects.create(
        unit=bulletin.unit,
        bulletin=bulletin,
        synthesized=True,
        revision=bulletin.approved_revision,
        declared_kind="audio",
        kind="audio",
        status="ready",
        sha256=sha,
        size=len(data),
        duration_seconds=60.0,
        file=f"assets/{sha[:2]}/{sha[2:4]}/{sha}.opus",
    )
    _write_asset(sha, data=data)
    return sha


def test_the_agent_cache_downloads_its_manifest_media(live_demo, tmp_path):
    """The agent's own HTTP client and cache against the live server: its fetch still works."""
    from grassroots.accounts.models import User
    from grassroots.broadcast import actions
    from grassroots_agent.cache import HttpClient, MediaCache, MediaRef
    from grassroots_agent.store import Store

    admin = User.objects.get(username="admin")
    dev = DeviceFactory(unit=unit(COMMUNE_A), station=station(COMMUNE_A))
    data = b"ban tin da duyet " * 1000
    sha = _store_file(COMMUNE_A, data)
    starts = timezone.now().astimezone(TZ).replace(microsecond=0) + timedelta(hours=1)
    actions.create_item(
        user=admin,
        unit=unit(COMMUNE_A),
        data=actions.ItemData(
            title="Bản tin",
            priority="normal",
            kind="bulletin",
            starts_at=starts,
            duration_seconds=600,
            media=[{"sha256": sha}],
        ),
    )
    http = HttpClient(live_demo.url, device_token(dev), 5.0)
    manifest = json.loads(http.open(http.request(f"/api/v1/devices/{dev.pk}/manifest")).read())
    refs = [m for i in manifest["payload"]["items"] for m in i.get("media", [])]
    assert [r["sha256"] for r in refs] == [sha], manifest
    cache = MediaCache(tmp_path / "agent", Store(tmp_path / "agent.db"), http, 10**7)
    got = cache.fetch(MediaRef(url=refs[0]["url"], sha256=sha, size=refs[0]["size"]))
    assert got.read_bytes() == data
