"""The other live sources, end to end with real Icecast, ffmpeg, Mosquitto, the gateway, the live
relay and real agents:

- a radio stream relayed live: a local HTTP radio (ffmpeg serving MP3, as a broadcaster would)
  is the configured relay source; an officer starts the relay now over two communes; the relay
  re-encodes it onto a mount; the agents of the area decode it, the one outside does not; the
  radio goes silent and the session ends by itself; each device journaled it;
- the FM tuner started live: the agents tune their receivers (signed `live.start` with a
  frequency) and go back to their schedule when the officer stops;
- a station controller's own microphone (its capture input configured as an ffmpeg source that
  stands in for ALSA): the agent plays it on its own speaker at once, asks the platform for a
  session with its token, streams it, and the commune's other cluster hears it through Icecast.
"""

import contextlib
import json
import subprocess

import pytest

from grassroots.core import broker
from grassroots.core.testing.fleet import wait_until, wav_seconds

pytestmark = [pytest.mark.mqtt]


@contextlib.contextmanager
def platform(live_demo, tmp_path, settings, codes, **fleet_extra):
    """Icecast, Mosquitto, the gateway and the live relay running; one enrolled real agent per
    commune code (the `record` audio backend, a timeline for the tuner). Yields (fleet, specs,
    client logged in as admin)."""
    from django.test import Client

    from grassroots.accounts.models import User
    from grassroots.core.testing.fleet import enrol_speaker, live_stack, private_gateway
    from grassroots_agent.simulate import Fleet, FleetOptions

    fleet = None
    client = Client()
    with (
        private_gateway(tmp_path, settings) as port,
        live_stack(live_demo.url, tmp_path, settings),
    ):
        try:
            admin = User.objects.get(username="admin")
            specs = []
            for i, code in enumerate(codes):
                _, spec, config = enrol_speaker(client, admin, code, name=f"Cụm loa {i}",
                                                serial=f"SRC-{i}")  # fmt: skip
                specs.append(spec)
            assert broker.sync(tmp_path)
            opts = FleetOptions(
                broker_url=f"mqtt://127.0.0.1:{port}",
                server_url=live_demo.url,
                keys=config["trusted_keys"],
                state_dir=str(tmp_path / "agent"),
                connect_spread=0,
                audio_backend="record",
                timeline=True,
                **fleet_extra,
            )
            fleet = Fleet(specs, opts).start()
            wait_until(lambda: fleet.connected() == len(specs), what="agents online")
            client.force_login(admin)
            yield fleet, specs, client
        finally:
            if fleet is not None:
                fleet.stop()


def _radio(port: int) -> subprocess.Popen:
    """A local radio station: an endless MP3 stream over HTTP, as broadcasters serve one."""
    return subprocess.Popen(
        ["ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=frequency=660"]
        + ["-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg"]
        + ["-f", "mp3", "-listen", "1", f"http://127.0.0.1:{port}/vov1.mp3"],
        stdin=subprocess.DEVNULL,
    )


def _communes(n):
    from grassroots.core.testing import COMMUNE_A, COMMUNE_B, unit
    from grassroots.units.models import Unit

    others = list(
        Unit.objects.filter(kind=unit(COMMUNE_A).kind, valid_to__isnull=True)
        .exclude(code__in=[COMMUNE_A, COMMUNE_B])
        .order_by("code")
        .values_list("code", flat=True)[: max(0, n - 2)]
    )
    return [COMMUNE_A, COMMUNE_B, *others][:n]


def test_a_radio_stream_and_the_fm_tuner_relayed_live(live_demo, tmp_path, settings):
    from grassroots.broadcast.models import AsRunEntry, RelaySource
    from grassroots.core.testing import unit
    from grassroots.live.models import LiveEndReason, LiveSession, LiveStatus

    codes = _communes(3)
    chosen, outside = codes[:2], codes[2]
    radio_port = broker.free_port()
    radio = _radio(radio_port)
    source = RelaySource.objects.create(
        unit=unit(settings.GRASSROOTS["PROVINCE_CODE"]),
        name="VOV1 (thử)",
        url=f"http://127.0.0.1:{radio_port}/vov1.mp3",
    )
    try:
        with platform(live_demo, tmp_path, settings, [*chosen, outside]) as (fleet, specs, client):
            # a source that is not listed is refused with what to do
            bad = client.post(
                "/api/v1/live",
                data=json.dumps(
                    {"units": chosen, "title": "Tiếp sóng", "source": "stream", "relay_source": 0}
                ),
                content_type="application/json",
            )
            assert bad.status_code == 422 and "Nguồn tiếp sóng" in bad.json()["detail"]
            response = client.post(
                "/api/v1/live",
                data=json.dumps(
                    {
                        "units": chosen,
                        "title": "Tiếp sóng thời sự VOV1",
                        "priority": "emergency",
                        "source": "stream",
                        "relay_source": source.pk,
                    }
                ),
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            assert response.json()["source"] == "stream"
            assert response.json()["relay"] == "VOV1 (thử)"
            session_id = response.json()["id"]
            wait_until(
                lambda: LiveSession.objects.get(pk=session_id).status == LiveStatus.ON_AIR,
                what="the relay on air",
            )
            dirs = [tmp_path / "agent" / s.id / "audio" for s in specs]
            wait_until(
                lambda: all(wav_seconds(d) >= 2.5 for d in dirs[:2]),
                what=f"the area's agents decoding the radio: {[wav_seconds(d) for d in dirs]}",
            )
            assert wav_seconds(dirs[2]) == 0, "the device outside the area heard the relay"
            # the radio goes off the air: the session ends by itself, the devices stop
            radio.terminate()
            radio.wait(5)
            wait_until(
                lambda: LiveSession.objects.get(pk=session_id).status == LiveStatus.ENDED,
                what="the session to end when the radio stopped",
            )
            session = LiveSession.objects.get(pk=session_id)
            assert session.end_reason == LiveEndReason.SOURCE_LOST
            assert session.bulletin_id is None  # a broadcaster's programme is not archived
            agents = fleet.agents[:2]
            wait_until(
                lambda: all(a.player.live is None and a.player.current is None for a in agents),
                what="the agents to stop the relay",
            )
            wait_until(
                lambda: (
                    set(
                        AsRunEntry.objects.filter(
                            kind="live", manifest_item=session.live_id
                        ).values_list("device_id", flat=True)
                    )
                    == {int(s.id) for s in specs[:2]}
                ),
                what="as-run entries of the relay",
            )

            # the FM tuner, started live over the first commune, stopped by the officer
            response = client.post(
                "/api/v1/live",
                data=json.dumps(
                    {
                        "units": chosen[:1],
                        "title": "Tiếp sóng FM tỉnh",
                        "priority": "emergency",
                        "source": "fm",
                        "frequency": 99.5,
                    }
                ),
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            fm = response.json()
            assert fm["status"] == "on_air" and fm["listen_url"] == ""
            assert fm["relay"] == "FM 99.5 MHz"
            tuned = fleet.agents[0]
            wait_until(
                lambda: tuned.player.current is not None and tuned.player.current.output == "tuner",
                what="the first agent tuning its FM receiver",
            )
            timeline = (tmp_path / "agent" / specs[0].id / "timeline.jsonl").read_text()
            assert '"source": "fm:99.5"' in timeline
            assert fleet.agents[1].player.current is None  # not in the area
            stopped = client.post(f"/api/v1/live/{fm['id']}/stop")
            assert stopped.status_code == 200 and stopped.json()["status"] == "ended"
            wait_until(lambda: tuned.player.current is None, what="the tuner released")
            wait_until(
                lambda: AsRunEntry.objects.filter(
                    kind="live", manifest_item=f"live-{fm['id']}", device_id=int(specs[0].id)
                ).exists(),
                what="the FM relay journaled",
            )
    finally:
        if radio.poll() is None:
            radio.kill()
        radio.wait(5)


def test_a_station_shares_its_own_microphone_with_the_commune(live_demo, tmp_path, settings):
    from grassroots.broadcast.models import AsRunEntry
    from grassroots.content.models import MediaAsset
    from grassroots.live.models import LiveEndReason, LiveSession, LiveStatus

    codes = _communes(2)
    tone = ["-re", "-f", "lavfi", "-i", "sine=frequency=1000"]  # stands in for the ALSA input
    with platform(
        live_demo, tmp_path, settings, [codes[0], codes[0], codes[1]], mic_input=tone
    ) as (fleet, specs, client):
        station, neighbour, elsewhere = fleet.agents
        dirs = [tmp_path / "agent" / s.id / "audio" for s in specs]
        live_id = station.mic_start(share=True, title="Đài xã thông báo khẩn")
        session = LiveSession.objects.get(source="device")
        assert live_id == session.live_id and session.source_device_id == int(specs[0].id)
        assert session.speaker is None and session.expected_devices == 1
        # heard on the station's own speaker at once, straight from the input
        wait_until(lambda: wav_seconds(dirs[0]) >= 1.0, timeout=10, what="the local microphone")
        wait_until(
            lambda: LiveSession.objects.get(pk=session.pk).status == LiveStatus.ON_AIR,
            what="the microphone on Icecast",
        )
        wait_until(
            lambda: wav_seconds(dirs[1]) >= 2.0,
            what=f"the commune's other cluster hearing it: {[wav_seconds(d) for d in dirs]}",
        )
        assert wav_seconds(dirs[2]) == 0, "a cluster of another commune heard the microphone"
        # the station ignored its own live.start: it still plays the input, not the stream
        assert station.player.current.output == "mic"
        assert len(list(dirs[0].glob("*.wav"))) == 1
        # the console shows who speaks: the station's cluster
        listed = client.get(f"/api/v1/live/{session.pk}").json()
        assert listed["source"] == "device" and listed["relay"] == "Cụm loa 0"
        # another device's token cannot send into this session
        from django.test import Client

        other = Client().post(
            f"/api/v1/live/device/{session.pk}/source?offset=0",
            data=b"x",
            content_type="application/octet-stream",
            HTTP_AUTHORIZATION=f"Bearer {specs[1].token}",
        )
        assert other.status_code == 404
        station.mic_stop()
        wait_until(
            lambda: LiveSession.objects.get(pk=session.pk).status == LiveStatus.ENDED,
            what="the session ended by the station",
        )
        assert LiveSession.objects.get(pk=session.pk).end_reason == LiveEndReason.STOPPED
        wait_until(
            lambda: neighbour.player.current is None, what="the neighbour back to its schedule"
        )
        assert station.player.current is None
        wait_until(lambda: LiveSession.objects.get(pk=session.pk).bulletin_id, what="the recording")
        asset = MediaAsset.objects.get(
            bulletin_id=LiveSession.objects.get(pk=session.pk).bulletin_id
        )
        wait_until(
            lambda: MediaAsset.objects.get(pk=asset.pk).status in ("ready", "rejected"),
            what="the recording processed",
        )
        assert MediaAsset.objects.get(pk=asset.pk).status == "ready"
        wait_until(
            lambda: (
                set(
                    AsRunEntry.objects.filter(
                        kind="live", manifest_item=session.live_id
                    ).values_list("device_id", flat=True)
                )
                == {int(specs[0].id), int(specs[1].id)}
            ),
            what="both clusters journaling the session",
        )
        # an emergency needs an officer: the device is refused, says why, and still sounds here
        refused = Client().post(
            "/api/v1/live/device",
            data=json.dumps({"title": "x", "priority": "emergency"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {specs[0].token}",
        )
        assert refused.status_code == 422  # not in the protocol's DeviceLiveRequest
