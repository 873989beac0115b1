"""Finding 2: supervision degrades, never gives up. Real child processes, a short clock."""

import json
import socket
import sys
import threading
import time

from grassroots.core.supervisor import Child, Supervisor, read_status


def test_a_child_that_keeps_failing_is_restarted_with_back_off_while_the_others_serve(tmp_path):
    """`grassroots run` used to stop everything after a sixth exit within a minute."""
    failing = Child("worker", [sys.executable, "-c", "import sys; sys.exit(1)"], {})
    healthy = Child("web", [sys.executable, "-c", "import time; time.sleep(120)"], {})
    said = []
    supervisor = Supervisor(
        [failing, healthy],
        status_dir=tmp_path,
        base_delay=0.05,
        max_delay=0.8,
        stable_after=30,
        tick=0.02,
        say=said.append,
    )
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        time.sleep(0.5)
        web_pid = healthy.proc.pid
        deadline = time.monotonic() + 20
        while failing.restarts < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
        status = read_status(tmp_path)
        assert runner.is_alive() and not supervisor.stopping.is_set()
        assert failing.restarts >= 9  # far past the old limit of five a minute
        assert healthy.running and healthy.proc.pid == web_pid  # never touched
        assert status["children"]["web"]["running"] is True
        assert status["children"]["worker"]["failures_in_a_row"] >= 9
        assert "restarting in 0.8 s" in said[-1]  # the back-off grew to its ceiling
        delays = [float(s.split("restarting in ")[1].split(" s")[0]) for s in said]
        assert delays[:5] == [0.05, 0.1, 0.2, 0.4, 0.8]
    finally:
        supervisor.stop()
        runner.join(15)
    assert not healthy.running
    assert not (tmp_path / "processes.json").exists()


def test_a_child_that_ran_long_enough_starts_its_back_off_afresh(tmp_path):
    script = "import time, sys; time.sleep(0.3); sys.exit(3)"
    child = Child("gateway", [sys.executable, "-c", script], {})
    said = []
    supervisor = Supervisor(
        [child], base_delay=0.05, max_delay=5, stable_after=0.2, tick=0.02, say=said.append
    )
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while child.restarts < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        supervisor.stop()
        runner.join(15)
    assert child.restarts >= 3
    assert all("failure 1 in a row" in s and "in 0.05 s" in s for s in said), said


def test_status_of_a_dead_supervisor_is_ignored(tmp_path):
    (tmp_path / "processes.json").write_text(
        json.dumps({"supervisor_pid": 2**22 + 12345, "children": {}})
    )
    assert read_status(tmp_path) is None


def test_readyz_reports_a_child_being_restarted(client, db, settings, tmp_path):
    """Under `grassroots run`, /readyz names the background process that is down ("degraded":
    the web still serves, so a load balancer keeps it)."""
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}
    listener = socket.create_server(("127.0.0.1", 0))  # the broker check only connects
    settings.MQTT_URL = f"mqtt://127.0.0.1:{listener.getsockname()[1]}"
    failing = Child("worker", [sys.executable, "-c", "import sys; sys.exit(2)"], {})
    supervisor = Supervisor(
        [failing], status_dir=tmp_path / "run", base_delay=30, tick=0.02, say=lambda s: None
    )
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while failing.restart_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        response = client.get("/readyz")
        body = response.json()
    finally:
        supervisor.stop()
        runner.join(15)
        listener.close()
    assert response.status_code == 200 and body["status"] == "degraded", body
    processes = body["checks"]["processes"]
    assert processes["ok"] is False and "worker" in processes["info"]
    assert "mã thoát 2" in processes["info"]
    assert "processes" in body["not_ready"]
