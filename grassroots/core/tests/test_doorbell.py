"""The worker wakes when a task is enqueued (a ring on its Unix socket), not at its next poll:
an emergency read by TTS does not wait for the polling interval."""

from __future__ import annotations

import threading
import time

import pytest
from django_tasks import task

from grassroots.core import doorbell

pytestmark = pytest.mark.django_db(transaction=True)

RAN = threading.Event()


@task()
def wake_me() -> None:
    RAN.set()


def test_a_ring_is_heard_and_a_silent_bell_times_out():
    bell = doorbell.Listener()
    try:
        assert bell.wait(0.05) is False
        doorbell.ring()
        doorbell.ring()
        assert bell.wait(10) is True
        assert bell.wait(0.05) is False  # both rings were drained at once
    finally:
        bell.close()
    doorbell.ring()  # nobody listening: dropped, never an error


def test_the_worker_runs_an_enqueued_task_long_before_its_poll_interval(monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from grassroots.core.management.commands import worker

    monkeypatch.setattr(worker, "POLL_SECONDS", 60.0)
    RAN.clear()
    stop = threading.Event()
    thread = threading.Thread(target=worker.Command().serve, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # the worker has looked at the (empty) queue and waits for 60 s
        result = wake_me.enqueue()
        # rung by the enqueue: far sooner than the 60 s poll, even on a loaded machine
        assert RAN.wait(20), "the worker was not woken by the enqueue"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL":
                break
            time.sleep(0.05)
        assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    finally:
        stop.set()
        doorbell.ring()
        thread.join(20)
    assert not thread.is_alive()
