"""The simulator: many real agents per process sharing one network loop, acking a broadcast."""

from __future__ import annotations

import pytest

from grassroots_agent.simulate import DeviceSpec, Fleet, FleetOptions, run

from .conftest import Monitor, wait_for

pytestmark = pytest.mark.mqtt


def test_fleet_in_process_acks_a_unit_broadcast(broker, monitor, server, signer, tmp_path):
    alert = server.add_media("alert.opus", b"\x07" * 800, duration=0.2)
    specs = [DeviceSpec(f"sim-{i:03d}", [f"c{i % 3}", "d1", "p1"]) for i in range(30)]
    opts = FleetOptions(
        broker_url=broker.url,
        server_url=server.url,
        keys={signer.kid: signer.public},
        state_dir=str(tmp_path / "fleet"),
        connect_spread=0.3,
    )
    fleet = Fleet(specs, opts).start()
    try:
        wait_for(lambda: all(a.link.subscribed for a in fleet.agents), 10)
        assert fleet.connected() == 30
        cmd = signer.command("play.now", target={"units": ["d1"]}, id="emg", media=[alert])
        monitor.publish("grassroots/v1/unit/d1/cmd", cmd)
        acks = wait_for(lambda: len(monitor.events("ack")) >= 30 and monitor.events("ack"), 10)
        assert {a["device"] for a in acks} == {s.id for s in specs}
        assert {a["status"] for a in acks} == {"ok"}
        # each agent fetches the media and plays it: the as-run entries reach the server
        wait_for(lambda: len({e["id"] for e in server.asrun}) >= 30, 15)
        assert {e["item"] for e in server.asrun} == {"emg"}
    finally:
        fleet.stop()


def test_run_spreads_agents_over_processes(broker, signer, tmp_path):
    mon = Monitor(broker.port)
    seen: dict[str, int] = {}

    def on_ready(connected):
        seen["connected"] = connected
        cmd = signer.command("volume.set", target={"units": ["sim"]}, volume=33)
        mon.publish("grassroots/v1/unit/sim/cmd", cmd)
        acks = wait_for(lambda: len(mon.events("ack")) >= 40 and mon.events("ack"), 20)
        seen["acks"] = len({a["device"] for a in acks})

    try:
        connected = run(
            40,
            broker.url,
            keys={signer.kid: signer.public},
            processes=2,
            state_dir=str(tmp_path / "sim"),
            duration=0,
            on_ready=on_ready,
        )
    finally:
        mon.close()
    assert connected == 40
    assert seen == {"connected": 40, "acks": 40}


def test_simulator_processes_stop_when_the_simulator_is_killed(broker, signer, tmp_path):
    """A SIGKILLed `simulate` must not leave its worker processes (and their logins) behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    code = (
        "from grassroots_agent import simulate\n"
        f"simulate.run(2, {broker.url!r}, keys={{{signer.kid!r}: {signer.public!r}}},"
        f" state_dir={str(tmp_path)!r})\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30

    def workers():
        out = subprocess.run(
            ["pgrep", "-P", str(parent.pid), "-f", "multiprocessing"],
            capture_output=True,
            text=True,
        ).stdout.split()
        return [int(p) for p in out]

    while not workers():
        assert time.monotonic() < deadline, "no worker process started"
        time.sleep(0.2)
    children = workers()
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(5)

    def alive(pid):  # a zombie (exited, not yet reaped by its new parent) counts as gone
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 20
    while any(alive(p) for p in children):
        assert time.monotonic() < deadline, "simulator workers outlived their parent"
        time.sleep(0.2)
