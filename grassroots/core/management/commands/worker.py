"""`grassroots worker`: background tasks (django-tasks database backend) and timed jobs."""

import logging
import threading
import time

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, connection
from django.utils.crypto import get_random_string

from grassroots.core import doorbell, periodic

log = logging.getLogger("grassroots.worker")

# The database answers again after a lock (a long import, a backup, a migration) or a restart:
# wait and take the queue up again instead of exiting (a supervisor would restart the process
# anyway, and `grassroots run` used to give up after a few exits).
RETRY_MIN, RETRY_MAX = 1.0, 15.0
# Without a ring (a task enqueued from another machine) the queue is still looked at this often.
POLL_SECONDS = 0.5


class _QuietPasses(logging.Filter):
    """The library worker logs its start and its end at INFO; run once per wake-up here, that
    would be two lines every half second."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Starting worker", "No more tasks to run"))


logging.getLogger("django_tasks_db").addFilter(_QuietPasses())


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

    def serve(self, stop: threading.Event, *, batch: bool = False) -> None:
        """Run the task queue; when the database is locked or gone, wait and start it again."""
        delay = RETRY_MIN
        bell = doorbell.Listener()
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    self.drain(stop, bell, batch=batch)
                    return
                except (OperationalError, InterfaceError) as exc:
                    if time.monotonic() - started > 60:
                        delay = RETRY_MIN  # it had been working: a new outage starts afresh
                    log.warning("worker: database unavailable (%s); retrying in %.0f s", exc, delay)
                    connection.close()  # a failed transaction may have left it unusable
                    stop.wait(delay)
                    delay = min(RETRY_MAX, delay * 2)
        finally:
            bell.close()

    def drain(self, stop: threading.Event, bell: doorbell.Listener, *, batch: bool) -> None:
        """Run every ready task (highest priority first: an emergency's TTS before a video
        transcode), then wait for the doorbell (a task was enqueued) or the poll interval."""
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=["default"],
            interval=POLL_SECONDS,
            batch=True,  # one pass over the ready tasks; the waiting is done here
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        if threading.current_thread() is threading.main_thread():
            worker.configure_signals()
        while not stop.is_set():
            worker.run()
            if batch or not worker.running:
                return
            bell.wait(POLL_SECONDS)
