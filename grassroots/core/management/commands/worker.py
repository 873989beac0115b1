"""`grassroots worker`: background tasks (django-tasks database backend) and timed jobs."""

import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand

from grassroots.core import periodic


class Command(BaseCommand):
    help = "Chạy tiến trình nền: hàng đợi tác vụ và các việc định kỳ."

    def add_arguments(self, parser):
        parser.add_argument("--no-periodic", action="store_true")

    def handle(self, *args, no_periodic=False, **opts):
        stop = threading.Event()
        if not no_periodic:
            threading.Thread(
                target=periodic.loop, args=(stop,), daemon=True, name="periodic"
            ).start()
        try:
            call_command("db_worker", interval=0.5, startup_delay=False)
        finally:
            stop.set()
