"""`grassroots worker`: background tasks (django-tasks database backend) and timed jobs."""

import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, connection

from grassroots.core import periodic

log = logging.getLogger("grassroots.worker")

# The database answers again after a lock (a long import, a backup, a migration) or a restart:
# wait and take the queue up again instead of exiting (a supervisor would restart the process
# anyway, and `grassroots run` used to give up after a few exits).
RETRY_MIN, RETRY_MAX = 1.0, 15.0


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
            self.serve(stop)
        finally:
            stop.set()

    def serve(self, stop: threading.Event, **options) -> None:
        """Run the task queue; when the database is locked or gone, wait and start it again."""
        delay = RETRY_MIN
        while not stop.is_set():
            started = time.monotonic()
            try:
                call_command("db_worker", interval=0.5, startup_delay=False, **options)
                return
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started > 60:
                    delay = RETRY_MIN  # it had been working: a new outage starts afresh
                log.warning("worker: database unavailable (%s); retrying in %.0f s", exc, delay)
                connection.close()  # a failed transaction may have left it unusable
                stop.wait(delay)
                delay = min(RETRY_MAX, delay * 2)
