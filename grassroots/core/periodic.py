"""Timed work of the worker process: small jobs run every N seconds, driven by the database.

Apps register jobs in their `tasks.py` with `@every(seconds)`; the worker imports every app's
`tasks` module and runs due jobs in a loop. A failing job is logged and retried next round.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import close_old_connections

log = logging.getLogger("grassroots.periodic")


@dataclass
class Job:
    name: str
    interval: float
    func: Callable[[], object]
    next_run: float = 0.0


JOBS: dict[str, Job] = {}


def every(seconds: float):
    """Register the decorated function to run every `seconds` in the worker."""

    def wrap(func):
        name = f"{func.__module__}.{func.__name__}"
        JOBS[name] = Job(name, seconds, func)
        return func

    return wrap


def discover() -> None:
    """Import every app's `tasks` module and any `*_tasks` module beside it."""
    import pkgutil

    for config in apps.get_app_configs():
        if not config.name.startswith("grassroots."):
            continue
        for module in pkgutil.iter_modules([config.path]):
            if module.name == "tasks" or module.name.endswith("_tasks"):
                importlib.import_module(f"{config.name}.{module.name}")


def run_due(now: float | None = None) -> list[str]:
    """Run the jobs that are due; returns their names."""
    now = time.monotonic() if now is None else now
    ran = []
    for job in JOBS.values():
        if now < job.next_run:
            continue
        job.next_run = now + job.interval
        close_old_connections()
        try:
            job.func()
        except Exception:
            log.exception("periodic job %s failed", job.name)
        ran.append(job.name)
    return ran


def loop(stop: threading.Event, tick: float = 1.0) -> None:
    discover()
    while not stop.is_set():
        run_due()
        stop.wait(tick)
