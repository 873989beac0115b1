"""`grassroots simulate --devices N`: N real agents (null audio) against the broker and server.

By default it joins the platform running in `GRASSROOTS_HOME` (what `grassroots run` started):
its private broker and its web address. It refuses to send the devices' logins anywhere else
unless both `--broker` and `--server` are given.
"""

from django.core.management.base import BaseCommand, CommandError

from grassroots.core import broker as private_broker
from grassroots.core import instance
from grassroots.devices import simulation


class Command(BaseCommand):
    help = "Chạy N thiết bị mô phỏng (agent thật, âm thanh null) với nền tảng đang chạy."

    def add_arguments(self, parser):
        parser.add_argument("--devices", type=int, default=100)
        parser.add_argument(
            "--server", default=None, help="web address (default: the running instance's)"
        )
        parser.add_argument(
            "--broker",
            default=None,
            help="mqtt://host:port of the broker (default: the running instance's)",
        )
        parser.add_argument(
            "--duration", type=float, default=None, help="seconds (default: until Ctrl-C)"
        )
        parser.add_argument("--processes", type=int, default=None)

    def handle(self, *args, devices, server, broker, duration, processes, **opts):
        from grassroots_agent import simulate

        running = instance.current()
        if running is None and not (server and broker):
            raise CommandError(
                "Không thấy nền tảng đang chạy trong GRASSROOTS_HOME: hãy chạy `make run` "
                "(hoặc `grassroots run`) trước, hoặc chỉ rõ cả --broker và --server."
            )
        server = server or running.web_url
        broker_url = broker or running.mqtt_url
        specs = simulation.ensure_fleet(devices)
        if not private_broker.sync():
            self.stderr.write(
                "Không có broker riêng trong GRASSROOTS_HOME: hãy bảo đảm broker "
                f"{broker_url} biết tài khoản của các thiết bị này (xem docs/devices.md)."
            )
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
