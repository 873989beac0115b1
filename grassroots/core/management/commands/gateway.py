"""`grassroots gateway`: the MQTT gateway process (outbox publisher, state/events ingest)."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from grassroots.core.gateway import Gateway, discover


class Command(BaseCommand):
    help = "Chạy cổng MQTT: gửi lệnh trong hộp thư đi, nhận trạng thái và sự kiện thiết bị."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="MQTT URL (default: MQTT_URL)")

    def handle(self, *args, url=None, **opts):
        discover()
        gateway = Gateway(url)

        async def main():
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, gateway.stop)
            await gateway.run()

        asyncio.run(main())
        self.stdout.write(f"gateway stopped: {gateway.stats}")
