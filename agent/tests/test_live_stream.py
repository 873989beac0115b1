"""Live streams: a `live.start` asking for device authentication makes the agent present its
token in the header the platform's Icecast passes on; the `record` backend really opens the
stream with it (and hears nothing when the server refuses)."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import pytest

from grassroots_agent.backends import ProcessAudio, Source
from grassroots_protocol import LIVE_TOKEN_HEADER, ProtocolError, parse_command

from .conftest import free_port, wait_for


@pytest.fixture
def stream_server(tmp_path):
    """An HTTP server that streams an Ogg/Opus tone only to requests carrying the token."""
    audio = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=660:duration=0.6"]
        + ["-ac", "1", "-c:a", "libopus", "-b:a", "24k", "-f", "ogg", "pipe:1"],
        check=True,
        capture_output=True,
    ).stdout
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            token = self.headers.get(LIVE_TOKEN_HEADER)
            seen.append(token)
            if token != "gd_secret":
                self.send_response(401)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/ogg")
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

        def log_message(self, *args):
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/live/x.ogg", seen
    server.shutdown()


def _seconds(directory: Path) -> float:
    return sum(max(0, f.stat().st_size - 44) for f in directory.glob("*.wav")) / 32000


def test_the_record_backend_opens_a_stream_with_the_device_token(stream_server, tmp_path):
    url, seen = stream_server
    audio = ProcessAudio("record", {"dir": str(tmp_path / "ok")})
    audio.start("live-1", [Source(url=url, headers={LIVE_TOKEN_HEADER: "gd_secret"})], 80)
    wait_for(audio.finished, 20)
    assert _seconds(tmp_path / "ok") > 0.4
    refused = ProcessAudio("record", {"dir": str(tmp_path / "no")})
    refused.start("live-2", [Source(url=url)], 80)
    wait_for(refused.finished, 20)
    assert _seconds(tmp_path / "no") == 0
    assert seen == ["gd_secret", None]


def test_a_platform_live_mount_is_opened_as_ogg_without_probing(stream_server, tmp_path):
    """The platform's mounts are Ogg: ffmpeg is told so (probing would wait for ~2 KB, speech
    a sound card then plays behind the speaker), and the stream still decodes; a radio's URL
    of unknown format is probed as before."""
    from grassroots_agent.player import LiveJob, live_source

    url, _ = stream_server
    token = {LIVE_TOKEN_HEADER: "gd_secret"}
    source = live_source(LiveJob(id="live-3", url=url + "?x=1", headers=token))
    audio = ProcessAudio("record", {"dir": str(tmp_path / "ogg")})
    assert audio._input(source)[-4:] == ["-f", "ogg", "-i", url + "?x=1"]
    audio.start("live-3", [source], 80)
    wait_for(audio.finished, 20)
    assert _seconds(tmp_path / "ogg") > 0.4
    radio = live_source(LiveJob(id="live-4", url="http://radio.example/vov1"))
    assert radio.container is None and "-f" not in audio._input(radio)


def test_live_start_with_device_auth_carries_the_token(make_agent, signer):
    agent = make_agent(None, None)
    envelope = signer.command(
        "live.start", url="http://icecast.example/live/a.ogg", live_id="live-7", auth="device"
    )
    cmd = parse_command(envelope["payload"])
    agent.prepare(cmd, kid=signer.kid)()
    assert agent.player.live.id == "live-7"
    assert agent.player.live.headers == {LIVE_TOKEN_HEADER: "tok"}
    plain = parse_command(signer.command("live.start", url="http://radio.example/a.ogg")["payload"])
    agent.prepare(plain, kid=signer.kid)()
    assert agent.player.live.headers is None  # a relay of a public stream gets no token


def test_live_start_with_an_fm_relay_tunes_the_receiver(make_agent, signer):
    agent = make_agent(None, None)
    envelope = signer.command(
        "live.start", relay={"type": "fm", "frequency": 99.5}, live_id="live-8"
    )
    cmd = parse_command(envelope["payload"])
    agent.prepare(cmd, kid=signer.kid)()
    agent.player.tick()
    assert agent.player.current.output == "tuner" and agent.player.live.frequency == 99.5
    agent.prepare(
        parse_command(signer.command("live.stop", live_id="live-8")["payload"]), kid=signer.kid
    )()
    assert agent.player.current is None
    # neither a stream nor a frequency, or both: refused by the protocol, naming the rule
    for body in (
        {},
        {"url": "http://radio.example/a.ogg", "relay": {"type": "fm", "frequency": 99}},
    ):
        with pytest.raises(ProtocolError, match="exactly one of url"):
            parse_command(signer.command("live.start", **body)["payload"])


def test_a_live_stream_that_closes_is_opened_again_then_given_up(stream_server, tmp_path):
    """A dropped connection (here: the server's stream ends) is opened again, in the same as-run
    entry, up to LIVE_REOPEN times; then the player goes back to its schedule."""
    import time

    from grassroots_agent.backends import NullTuner, Timeline
    from grassroots_agent.clock import Clock
    from grassroots_agent.player import LIVE_REOPEN, LiveJob, Player
    from grassroots_agent.store import Store

    url, seen = stream_server
    clock = Clock()
    entries = []
    player = Player(
        clock=clock,
        store=Store(tmp_path / "state.db"),
        audio=ProcessAudio("record", {"dir": str(tmp_path / "out")}),
        tuner=NullTuner(Timeline(None, clock)),
        media_path=lambda sha: None,
        on_entry=entries.append,
    )
    job = LiveJob("live-9", url, headers={LIVE_TOKEN_HEADER: "gd_secret"})
    player.live_start(job)
    deadline = time.monotonic() + 60
    while player.live is not None:
        assert time.monotonic() < deadline, f"still live after {job.reopened} reopenings"
        player.tick()
        time.sleep(0.05)
    assert job.reopened == LIVE_REOPEN and len(seen) == LIVE_REOPEN + 1
    [entry] = entries  # one as-run entry for the whole stream
    assert (entry.item_id, entry.kind, entry.status) == ("live-9", "live", "played")
