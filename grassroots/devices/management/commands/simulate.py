"""`grassroots simulate --devices N`: N real agents (null audio) against the broker and server."""

from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand

from grassroots.core import broker
from grassroots.devices import simulation


class Command(BaseCommand):
    help = "Chạy N thiết bị mô phỏng (agent thật, âm thanh null) với broker và máy chủ."

    def add_arguments(self, parser):
        parser.add_argument("--devices", type=int, default=100)
        parser.add_argument(
            "--server", default=settings.GRASSROOTS.get("SITE_URL") or "http://127.0.0.1:8000"
        )
        parser.add_argument(
            "--duration", type=float, default=None, help="seconds (default: until Ctrl-C)"
        )
        parser.add_argument("--processes", type=int, default=None)

    def handle(self, *args, devices, server, duration, processes, **opts):
        from grassroots_agent import simulate

        specs = simulation.ensure_fleet(devices)
        if not broker.sync():
            self.stderr.write(
                "No private broker found in GRASSROOTS_HOME: make sure the broker "
                "in MQTT_URL knows these devices' logins (see docs/devices.md)."
            )
        url = urlparse(settings.MQTT_URL)
        broker_url = f"mqtt://{url.hostname}:{url.port or 1883}"
        self.stdout.write(f"simulating {len(specs)} devices against {broker_url} and {server}")
        connected = simulate.run(
            len(specs),
            broker_url,
            server_url=server,
            keys=simulation.trusted_keys(),
            devices=[simulate.DeviceSpec(**s) for s in specs],
            processes=processes,
            duration=duration,
            on_ready=lambda n: self.stdout.write(f"{n}/{len(specs)} agents connected"),
        )
        self.stdout.write(f"simulator stopped ({connected} were connected)")
