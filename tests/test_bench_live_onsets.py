"""The live benchmark's watcher (bench/live.py, `Onsets`): when each agent's stream opened, its
first audio, and each beep's onset once, also in the file of a stream opened again."""

import array
import math

from bench.live import Onsets


def _samples(seconds: float, beep: bool) -> bytes:
    n = int(16000 * seconds)
    amp = 20000 if beep else 200
    return array.array(
        "h", (int(amp * math.sin(2 * math.pi * 1000 * i / 16000)) for i in range(n))
    ).tobytes()


class Output:
    """A WAV file written as the record backend writes it: a header, then samples as they come."""

    def __init__(self, path):
        self.fh = path.open("wb")
        self.fh.write(b"\0" * 44)
        self.fh.flush()

    def add(self, data: bytes) -> None:
        self.fh.write(data)
        self.fh.flush()


def test_onsets_join_and_beeps(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr("bench.live.time.monotonic", lambda: now[0])
    a, b = tmp_path / "a" / "audio", tmp_path / "b" / "audio"
    a.mkdir(parents=True)
    onsets = Onsets([a, b])
    onsets.poll()
    assert onsets.opened == {} and onsets.first_audio == {}  # b's directory does not exist yet
    out = Output(a / "live-1-1.wav")
    now[0] = 101.0
    onsets.poll()
    assert onsets.opened == {a: 101.0} and onsets.first_audio == {}  # open, no audio yet
    out.add(_samples(0.2, beep=False))
    now[0] = 101.2
    onsets.poll()
    assert onsets.first_audio == {a: 101.2} and onsets.seen[a] == []
    out.add(_samples(0.1, beep=True))
    now[0] = 101.3
    onsets.poll()
    out.add(_samples(0.05, beep=True))  # the same beep read in a second piece
    now[0] = 101.35
    onsets.poll()
    assert onsets.seen[a] == [101.3]
    # the stream is opened again: a second file, found at the next directory scan
    out.add(_samples(0.2, beep=False))
    again = Output(a / "live-1-2.wav")
    again.add(_samples(0.2, beep=False))
    now[0] = 102.0
    onsets.poll()
    again.add(_samples(0.1, beep=True))
    now[0] = 102.5
    onsets.poll()
    assert onsets.seen[a] == [101.3, 102.5]
    assert b not in onsets.opened and onsets.seen[b] == []
