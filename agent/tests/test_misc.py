"""Configuration, back-off and signing helpers."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

from grassroots_agent.config import load
from grassroots_agent.runtime import Backoff
from grassroots_agent.signing import EnvelopeError, canonical, load_public_key, open_envelope, sign

from .conftest import Signer


def test_backoff_is_exponential_with_jitter():
    b = Backoff(1.0, 30.0, rng=random.Random(1))
    delays = [b.next() for _ in range(12)]
    assert all(0.5 <= d <= 30.0 for d in delays)
    assert max(delays[:2]) <= 2.0
    assert len({round(d, 3) for d in delays}) == len(delays)  # randomised, no lock-step
    assert max(delays[6:]) > 8.0
    b.reset()
    assert b.next() <= 1.0


def test_canonical_json_is_the_contract():
    assert canonical({"b": 1, "a": "Hưng Yên", "c": [1, {"z": 0, "y": None}]}) == (
        '{"a":"Hưng Yên","b":1,"c":[1,{"y":null,"z":0}]}'.encode()
    )


def test_envelope_round_trip_and_tamper():
    s = Signer()
    keys = {s.kid: load_public_key(s.public)}
    env = sign({"type": "stop", "seq": 1}, s.key, s.kid)
    assert open_envelope(env, keys) == {"type": "stop", "seq": 1}
    env["payload"]["seq"] = 2
    try:
        open_envelope(env, keys)
    except EnvelopeError as exc:
        assert exc.code == "bad_signature"
    else:
        raise AssertionError("tampered envelope accepted")


def test_config_file(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(
        textwrap.dedent(
            """
            [device]
            id = "hy-1"
            units = ["33.01.00001", "33.01", "33"]
            [mqtt]
            url = "mqtts://hy-1:s%40cret@broker.example:8883"
            [server]
            url = "https://radio.example/"
            token = "t"
            [keys]
            k1 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
            [cache]
            dir = "state"
            limit = "64MB"
            [audio]
            backend = "null"
            timeline = "tl.jsonl"
            [tuner]
            backend = "command"
            command = "rtl_fm -f {freq_hz} | aplay"
            [microphone]
            input = "-f alsa -i 'hw:1,0'"
            title = "Đài xã"
            """
        )
    )
    cfg = load(path)
    assert cfg.mic_input == ["-f", "alsa", "-i", "hw:1,0"] and cfg.mic_title == "Đài xã"
    assert cfg.mic_priority == "priority"
    assert cfg.device_id == "hy-1" and cfg.units[-1] == "33"
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.tls) == ("broker.example", 8883, True)
    assert (cfg.mqtt.username, cfg.mqtt.password) == ("hy-1", "s@cret")
    assert cfg.server_url == "https://radio.example"
    assert cfg.state_dir == tmp_path / "state" and cfg.cache_limit == 64 << 20
    assert cfg.timeline == tmp_path / "tl.jsonl"
    out = subprocess.run(
        [sys.executable, "-m", "grassroots_agent", "-c", str(path), "--check"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "hy-1" in out.stdout


def test_enrol_writes_a_loadable_config(tmp_path):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    s = Signer()
    answer = {
        "device_id": 42,
        "kind": "speaker",
        "units": ["11953", "33"],
        "mqtt_url": "mqtt://127.0.0.1:1883",
        "mqtt_ws_url": "ws://127.0.0.1:9001",
        "mqtt_username": "dev-42",
        "mqtt_password": 'p"w\\d',
        "token": "gd_x",
        "server_url": "",
        "trusted_keys": {s.kid: s.public},
    }
    seen = {}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            seen["path"] = self.path
            seen["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    path = tmp_path / "agent.toml"
    try:
        from grassroots_agent.cli import main

        assert main(["-c", str(path), "--enrol", "K7Q3-M9XD", "--server", url + "/"]) == 0
    finally:
        httpd.shutdown()
    assert seen == {"path": "/api/v1/devices/enrol", "body": {"code": "K7Q3-M9XD"}}
    assert path.stat().st_mode & 0o777 == 0o600
    cfg = load(path)
    assert (cfg.device_id, cfg.units, cfg.token) == ("42", ["11953", "33"], "gd_x")
    assert (cfg.mqtt.username, cfg.mqtt.password) == ("dev-42", 'p"w\\d')
    assert cfg.server_url == url and cfg.keys == {s.kid: s.public}


def test_replay_window_takes_each_seq_once_and_refuses_older_than_the_window(tmp_path):
    from grassroots_agent.store import SEQ_WINDOW, SeqVerdict, Store

    store = Store(tmp_path / "state.db")
    new, dup, old = SeqVerdict.NEW, SeqVerdict.DUPLICATE, SeqVerdict.TOO_OLD
    assert [store.accept_seq("k", s) for s in (10, 10, 8, 8, 9, 11, 7)] == [
        new,
        dup,
        new,
        dup,
        new,
        new,
        new,
    ]
    assert store.accept_seq("k2", 3) == new  # each key has its own window
    top = 11 + SEQ_WINDOW
    assert store.accept_seq("k", top) == new
    assert store.accept_seq("k", 11) == dup  # still inside the window, and seen
    assert store.accept_seq("k", 12) == new
    assert store.accept_seq("k", 10) == old  # fell out of the window
    assert store.accept_seq("k", top + 1000) == new  # a big jump forgets the window
    assert store.accept_seq("k", top + 999) == new
    store.close()
    # persisted: a restart remembers exactly what was taken
    again = Store(tmp_path / "state.db")
    assert again.accept_seq("k", top + 999) == dup
    assert again.accept_seq("k", top + 998) == new
    assert again.last_seq("k") == top + 1000
    again.close()


def test_a_journal_from_before_the_window_counts_older_seqs_as_seen(tmp_path):
    import sqlite3

    from grassroots_agent.store import SeqVerdict, Store

    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("CREATE TABLE seq (kid TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
    db.execute("INSERT INTO seq VALUES ('k', 50)")
    db.commit()
    db.close()
    store = Store(tmp_path / "state.db")
    assert store.accept_seq("k", 49) == SeqVerdict.DUPLICATE  # unknown history: refused
    assert store.accept_seq("k", 51) == SeqVerdict.NEW
    store.close()
