"""The process supervisor of `grassroots run`: restart what dies, with back-off, forever.

A child that keeps failing (the worker while the database is locked, the broker that crashed) is
restarted after 1, 2, 4 ... up to 30 s while the others keep serving; it never stops the whole
platform. What each child is doing is written to `$GRASSROOTS_HOME/run/processes.json`, which
`/readyz` reports.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("grassroots.supervisor")

STATUS_FILE = "processes.json"


@dataclass
class Child:
    """One supervised process and its restart history."""

    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    failures: int = 0  # consecutive exits without a stable run in between
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None  # when it is due again, while it waits
    last_exit: int | None = None
    popen_kwargs: dict = field(default_factory=dict)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, **self.popen_kwargs)
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Start the children, restart each one that exits after a back-off, stop all on request.

    `base_delay` doubles with each consecutive failure up to `max_delay`; a child that ran for
    `stable_after` seconds before exiting starts again from `base_delay`.
    """

    def __init__(
        self,
        children: list[Child],
        *,
        status_dir: Path | None = None,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 30.0,
        tick: float = 0.25,
        say: Callable[[str], None] | None = None,
    ):
        self.children = children
        self.status_path = status_dir / STATUS_FILE if status_dir else None
        self.base_delay, self.max_delay, self.stable_after = base_delay, max_delay, stable_after
        self.tick = tick
        self.say = say or log.warning
        self.stopping = threading.Event()

    def delay(self, failures: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** max(0, failures - 1))

    def run(self, started: Callable[[], object] | None = None) -> None:
        """Supervise until `stop()` (or a signal handler sets `stopping`); then stop every child."""
        try:
            for child in self.children:
                child.start()
            self.write_status()
            if started:
                started()
            while not self.stopping.is_set():
                self.stopping.wait(self.tick)
                if not self.stopping.is_set() and self.check():
                    self.write_status()
        finally:
            self.stop_all()

    def check(self) -> bool:
        """One round: note exits, restart what is due. True when something changed."""
        changed = False
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    changed = True
                    try:
                        child.start()
                    except OSError as exc:  # e.g. the binary went away: try again later
                        child.failures += 1
                        child.restart_at = now + self.delay(child.failures)
                        self.say(f"{child.name} could not start ({exc}); trying again.")
                continue
            code = child.proc.poll() if child.proc else None
            if code is None:
                if child.failures and now - child.started_at >= self.stable_after:
                    child.failures = 0  # it has run long enough: the next exit starts afresh
                    changed = True
                continue
            child.last_exit = code
            if now - child.started_at >= self.stable_after:
                child.failures = 0
            child.failures += 1
            wait = self.delay(child.failures)
            child.restart_at = now + wait
            self.say(
                f"{child.name} exited with {code} (failure {child.failures} in a row); "
                f"restarting in {wait:g} s."
            )
            changed = True
        return changed

    def stop(self) -> None:
        self.stopping.set()

    def stop_all(self, timeout: float = 10.0) -> None:
        for child in reversed(self.children):
            if child.running:
                child.proc.terminate()
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        if self.status_path:
            self.status_path.unlink(missing_ok=True)

    def status(self) -> dict:
        now = time.monotonic()
        children = {}
        for child in self.children:
            entry = {
                "running": child.running,
                "pid": child.proc.pid if child.proc else None,
                "restarts": child.restarts,
                "failures_in_a_row": child.failures,
                "last_exit": child.last_exit,
            }
            if child.restart_at is not None:
                entry["restart_in_s"] = round(max(0.0, child.restart_at - now), 1)
            children[child.name] = entry
        return {"supervisor_pid": os.getpid(), "updated": time.time(), "children": children}

    def write_status(self) -> None:
        if not self.status_path:
            return
        try:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.status_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.status()))
            os.replace(tmp, self.status_path)
        except OSError as exc:  # a full disk must not stop the supervisor
            log.warning("supervisor: cannot write %s: %s", self.status_path, exc)


def read_status(run_dir: Path) -> dict | None:
    """The supervisor's last status, if a live supervisor wrote one here."""
    path = run_dir / STATUS_FILE
    try:
        data = json.loads(path.read_text())
        os.kill(int(data["supervisor_pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data
