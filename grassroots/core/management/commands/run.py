"""`grassroots run`: web, worker, gateway, a private Mosquitto and a private Icecast (live audio),
one supervised group."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grassroots.accounts.demo import demo_logins
from grassroots.core import broker, icecast, instance
from grassroots.core.supervisor import Child, Supervisor


def web_argv(home: Path, host: str, port: int, workers: int) -> list[str]:
    """gunicorn for the embedded default, hardened against slow clients.

    Threaded workers (`gthread`): a connection that sends its headers slowly is parked in the
    worker's poller instead of holding a worker, and a slow or stalled request body is cut off by
    `core.slowclient` (WSGI) with a Vietnamese 408. The control socket is this instance's own
    (in `$GRASSROOTS_HOME/run/`): by default every gunicorn of a user on the host shares
    `~/.gunicorn/gunicorn.ctl`, and `gunicornc` would then talk to whichever started last.
    """
    run_dir = Path(home) / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "grassroots.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(THREADS),
        "--keep-alive",
        "5",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
        "--timeout",
        "60",
        "--control-socket",
        str(run_dir / f"gunicorn-{port}.ctl"),
    ]


THREADS = 8


class Command(BaseCommand):
    help = "Chạy toàn bộ hệ thống (web, worker, MQTT broker riêng) ở tiền cảnh; Ctrl-C để dừng."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("GRASSROOTS_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("GRASSROOTS_PORT", "8000"))
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--no-broker",
            action="store_true",
            help="use MQTT_URL as it is instead of a private Mosquitto",
        )
        parser.add_argument(
            "--no-icecast",
            action="store_true",
            help="no private Icecast (live audio); ICECAST_URL, when set, is used as it is",
        )

    def _icecast(self, home: Path, host: str, port: int, env: dict) -> list[Child]:
        """The private Icecast (live audio) and the live relay that feeds it, or nothing (with a
        warning) when Icecast is not installed: everything else works without live broadcast."""
        binary = icecast.icecast_binary()
        if not binary:
            self.stderr.write(
                "Không tìm thấy icecast2: phát trực tiếp tắt. Cài bằng 'apt-get install icecast2'."
            )
            return []
        ice_port = broker.free_port(int(os.environ.get("GRASSROOTS_ICECAST_PORT", "18832")))
        web_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        auth_url = f"http://{web_host}:{port}/api/v1/live/icecast/listener"
        conf = icecast.write_config(home, ice_port, auth_url)
        env["ICECAST_URL"] = f"http://127.0.0.1:{ice_port}"
        env["ICECAST_SOURCE_URL"] = env["ICECAST_URL"]
        return [
            Child("icecast", [binary, "-c", str(conf)], env),
            Child("live", [sys.executable, "-m", "grassroots", "live"], env),
        ]

    def handle(self, *args, host, port, workers, no_broker, no_icecast=False, **opts):
        home = settings.GRASSROOTS["HOME"]
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.config.settings")
        env["GRASSROOTS_HOME"] = str(home)
        children: list[Child] = []
        if not no_broker:
            binary = broker.mosquitto_binary()
            if not binary:
                raise CommandError(
                    "Không tìm thấy mosquitto: cài bằng 'apt-get install mosquitto'."
                )
            mqtt_port = broker.free_port(int(os.environ.get("GRASSROOTS_MQTT_PORT", "18830")))
            ws_port = broker.free_port(int(os.environ.get("GRASSROOTS_MQTT_WS_PORT", "18831")))
            conf = broker.write_config(home, mqtt_port, ws_port, auth=True)
            env["MQTT_WS_URL"] = f"ws://{host}:{ws_port}/"
            secret = broker.server_password(home)
            env["MQTT_URL"] = f"mqtt://{broker.SERVER_USER}:{secret}@127.0.0.1:{mqtt_port}"
            children.append(Child("mosquitto", [binary, "-c", str(conf)], env))
        if not no_icecast and not env.get("ICECAST_URL"):
            children.extend(self._icecast(home, host, port, env))
        children.append(Child("web", web_argv(home, host, port, workers), env))
        children.append(Child("worker", [sys.executable, "-m", "grassroots", "worker"], env))
        children.append(Child("gateway", [sys.executable, "-m", "grassroots", "gateway"], env))

        supervisor = Supervisor(
            children,
            status_dir=Path(home) / "run",
            say=lambda text: (self.stderr.write(text), self.stderr.flush()),
        )

        def stop(signum, frame):
            supervisor.stop()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        shown = env.get("MQTT_URL", settings.MQTT_URL).split("@")[-1].removeprefix("mqtt://")
        instance.write(
            instance.Instance(
                web_url=f"http://{host}:{port}",
                mqtt_url=f"mqtt://{shown}",
                mqtt_ws_url=env.get("MQTT_WS_URL", ""),
                pid=os.getpid(),
            ),
            home,
        )
        # A child that keeps failing is restarted with back-off, forever; the others keep
        # serving (core.supervisor). Only Ctrl-C / SIGTERM stops the group.
        try:
            supervisor.run(
                started=lambda: self._banner(
                    host, port, f"mqtt://{shown}", env.get("ICECAST_URL", "")
                )
            )
        finally:
            instance.remove(home)
        self.stdout.write("grassroots stopped.")

    def _banner(self, host: str, port: int, mqtt_url: str, icecast_url: str = "") -> None:

        password = settings.GRASSROOTS["DEMO_PASSWORD"]
        lines = [
            "",
            f"  grassroots is running at http://{host}:{port}/",
            f"  MQTT broker: {mqtt_url}",
            f"  Live audio:  {icecast_url or 'off (no Icecast)'}",
            f"  API docs:    http://{host}:{port}/api/v1/docs",
            "  Demo logins (password: " + password + "):",
        ]
        for username, role, unit_name in demo_logins():
            lines.append(f"    {username:<10} {role:<24} {unit_name}")
        lines.append("  Press Ctrl-C to stop.\n")
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
