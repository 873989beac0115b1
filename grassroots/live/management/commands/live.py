"""`grassroots live`: the live relay process (browser microphone → ffmpeg → Icecast)."""

import signal
import threading

from django.core.management.base import BaseCommand

from grassroots.live.relay import LiveRelay


class Command(BaseCommand):
    help = "Chạy bộ chuyển tiếp phát trực tiếp: đưa âm thanh micro của cán bộ lên Icecast."

    def handle(self, *args, **opts):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        LiveRelay().run(stop)
        self.stdout.write("live relay stopped.")
