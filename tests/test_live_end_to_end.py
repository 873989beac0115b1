"""Live broadcast, end to end: a tone sent as webm/Opus slices to the same endpoint the console's
microphone uses → live relay (real ffmpeg) → real Icecast (listener hook asks the platform) →
signed `live.start` through real Mosquitto and the gateway → three real agents in the chosen
communes decode it (the `record` audio backend), a fourth outside hears nothing and its token is
refused by Icecast → the source stops, the session ends by itself, devices stop, the recording is
an archived audio bulletin and each device's as-run log holds the live entry."""

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from grassroots.core import broker, icecast
from grassroots.core.testing.fleet import wait_until, wav_seconds

pytestmark = [pytest.mark.mqtt]

SECONDS = 5  # of tone


def _tone_webm(seconds: float) -> bytes:
    """What a browser's MediaRecorder sends: Opus in a live (unseekable) WebM stream."""
    return subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=880:duration={seconds}",
        ]
        + ["-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-live", "1", "-f", "webm", "pipe:1"],
        check=True,
        capture_output=True,
    ).stdout


def test_live_reaches_the_area_only_and_ends_with_its_source(live_demo, tmp_path, settings):
    from django.test import Client

    from grassroots.accounts.models import User
    from grassroots.broadcast.models import AsRunEntry
    from grassroots.content.models import MediaAsset
    from grassroots.core.testing import COMMUNE_A, COMMUNE_B, unit
    from grassroots.core.testing.fleet import enrol_speaker, live_stack, private_gateway
    from grassroots.live.models import LiveEndReason, LiveSession, LiveStatus
    from grassroots.units.models import Unit
    from grassroots_agent.simulate import Fleet, FleetOptions

    fleet = None
    client = Client()
    with (
        private_gateway(tmp_path, settings) as port,
        live_stack(live_demo.url, tmp_path, settings),
    ):
        try:
            admin = User.objects.get(username="admin")
            others = list(
                Unit.objects.filter(kind=unit(COMMUNE_A).kind, valid_to__isnull=True)
                .exclude(code__in=[COMMUNE_A, COMMUNE_B])
                .order_by("code")
                .values_list("code", flat=True)[:2]
            )
            chosen = [COMMUNE_A, COMMUNE_B, others[0]]
            outside = others[1]
            specs = []
            for i, code in enumerate([*chosen, outside]):
                _, spec, config = enrol_speaker(client, admin, code, name=f"Cụm loa trực tiếp {i}",
                                                serial=f"LIVE-{i}")  # fmt: skip
                specs.append(spec)
            assert broker.sync(tmp_path)
            opts = FleetOptions(
                broker_url=f"mqtt://127.0.0.1:{port}",
                server_url=live_demo.url,
                keys=config["trusted_keys"],
                state_dir=str(tmp_path / "agent"),
                connect_spread=0,
                audio_backend="record",
            )
            fleet = Fleet(specs, opts).start()
            wait_until(lambda: fleet.connected() == 4, what="agents online")

            client.force_login(admin)
            response = client.post(
                "/api/v1/live",
                data=json.dumps(
                    {"units": chosen, "title": "Thông báo phòng chống bão", "priority": "emergency"}
                ),
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            session_id = response.json()["id"]
            session = LiveSession.objects.get(pk=session_id)
            assert session.status == LiveStatus.WAITING
            assert len(session.mount) > 25  # not guessable

            audio = _tone_webm(SECONDS)
            slices = [audio[i : i + 1000] for i in range(0, len(audio), 1000)]
            pace = SECONDS / len(slices)
            offset = 0
            for piece in slices:  # in real time, as MediaRecorder would
                r = client.post(
                    f"/api/v1/live/{session_id}/source?offset={offset}",
                    data=piece,
                    content_type="audio/webm",
                )
                assert r.status_code == 200, r.content
                offset += len(piece)
                time.sleep(pace)
            session.refresh_from_db()
            assert session.status == LiveStatus.ON_AIR, session.status

            dirs = [tmp_path / "agent" / s.id / "audio" for s in specs]
            wait_until(
                lambda: all(wav_seconds(d) >= SECONDS * 0.5 for d in dirs[:3]),
                what=f"the three agents decoding the tone: {[wav_seconds(d) for d in dirs]}",
            )
            assert wav_seconds(dirs[3]) == 0, "the device outside the area heard the live session"

            # the fourth device's own token does not open the mount
            req = urllib.request.Request(
                f"{settings.ICECAST_URL}{session.mount}",
                headers={icecast.TOKEN_HEADER: specs[3].token},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(req, timeout=5)  # noqa: S310
            assert refused.value.code in (401, 403)

            # the source stopped: the session ends by itself and the devices stop
            wait_until(
                lambda: LiveSession.objects.get(pk=session_id).status == LiveStatus.ENDED,
                what="the session to end after its source stopped",
            )
            session.refresh_from_db()
            assert session.end_reason == LiveEndReason.SOURCE_LOST
            agents = fleet.agents[:3]
            wait_until(
                lambda: all(a.player.live is None and a.player.current is None for a in agents),
                what="the agents to stop the live stream",
            )
            # the recording is in the archive, as audio of about the tone's length
            wait_until(
                lambda: LiveSession.objects.get(pk=session_id).bulletin_id, what="the recording"
            )
            session.refresh_from_db()
            asset = MediaAsset.objects.get(bulletin_id=session.bulletin_id)
            wait_until(
                lambda: MediaAsset.objects.get(pk=asset.pk).status in ("ready", "rejected"),
                what="the recording processed",
            )
            asset.refresh_from_db()
            assert asset.status == "ready", asset.error
            assert SECONDS - 1.5 <= asset.duration_seconds <= SECONDS + 1.5
            assert session.bulletin.status == "archived"
            # each device of the area journaled the live session
            wait_until(
                lambda: (
                    AsRunEntry.objects.filter(kind="live", manifest_item=session.live_id).count()
                    >= 3
                ),
                what="as-run entries of the live session",
            )
            journaled = set(
                AsRunEntry.objects.filter(kind="live", manifest_item=session.live_id).values_list(
                    "device_id", flat=True
                )
            )
            assert journaled == {int(s.id) for s in specs[:3]}
        finally:
            if fleet is not None:
                fleet.stop()
