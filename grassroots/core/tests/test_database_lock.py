"""Finding 2: a long write lock (an import, a backup, a migration) must not break reads, must
give 503 problem+json with Retry-After on writes, must show in /readyz, and must not stop the
worker. Another connection really holds the lock; nothing is mocked."""

import contextlib
import logging
import sqlite3
import threading
import time

import pytest
from django.db import connection

from grassroots.accounts.models import ApiToken
from grassroots.core.testing import assert_problem

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def write_lock():
    """Hold SQLite's write lock from another connection, as a long import or backup would."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database-wide write lock")


def bearer(users, name="viewer"):
    token, raw = ApiToken.objects.issue(user=users[name], name="lock test")
    return token, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_reads_do_not_wait_for_a_writer(client, users):
    """Token authentication notes "last used"; under a lock that write is skipped, not waited
    for (the old code waited 5 s and answered 500)."""
    sqlite_only()
    token, headers = bearer(users)
    result = {}

    def read():
        start = time.monotonic()
        result["response"] = client.get("/api/v1/me", **headers)
        result["elapsed"] = time.monotonic() - start

    with write_lock():
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(4)
        finished = not reader.is_alive()
    reader.join(10)
    assert finished, "a read waited for the write lock"
    assert result["response"].status_code == 200, result["response"].content
    assert result["elapsed"] < 1.5
    token.refresh_from_db()
    assert token.last_used_at is None  # skipped under the lock...
    client.get("/api/v1/me", **headers)
    token.refresh_from_db()
    assert token.last_used_at is not None  # ...and written on the next request


def test_last_used_is_skipped_on_a_locked_row_in_postgresql(users):
    """The same bookkeeping write on PostgreSQL: a row lock held elsewhere is not waited for."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL row lock")
    import psycopg

    from grassroots.core.db import update_if_free

    token, _ = bearer(users)
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT 1 FROM accounts_apitoken WHERE id = %s FOR UPDATE", [token.pk])
        start = time.monotonic()
        written = update_if_free(ApiToken.objects.filter(pk=token.pk), name="x")
        assert not written and time.monotonic() - start < 2
        other.rollback()
    assert update_if_free(ApiToken.objects.filter(pk=token.pk), name="y")


def test_a_write_under_the_lock_answers_503_problem_with_retry_after(client, users):
    sqlite_only()
    _, headers = bearer(users, "admin")
    client.get("/api/v1/me", **headers)  # "last used" written now, not during the lock
    with write_lock():
        start = time.monotonic()
        response = client.post(
            "/api/v1/auth/token",
            data={"username": "viewer", "password": "grassroots-demo"},
            content_type="application/json",
        )
        elapsed = time.monotonic() - start
    body = assert_problem(response, 503)
    assert response["Retry-After"] == "5"
    assert "khoá" in body["detail"] and body["title"] == "Dịch vụ tạm thời không sẵn sàng"
    assert elapsed < 15  # the bounded wait (busy_timeout), not the lock's whole length


def test_a_console_page_under_the_lock_is_a_vietnamese_503(client, users):
    sqlite_only()
    client.raise_request_exception = False
    with write_lock():
        response = client.post("/dang-nhap/", {"username": "viewer", "password": "grassroots-demo"})
    assert response.status_code == 503, response.status_code
    assert response["Retry-After"] == "5"
    assert "Hệ thống đang bận" in response.content.decode()


def test_readyz_says_the_database_is_locked(client, settings):
    sqlite_only()
    settings.MQTT_URL = "mqtt://127.0.0.1:1"
    assert client.get("/readyz").json()["checks"]["database"]["ok"] is True
    with write_lock():
        start = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - start
    assert response.status_code == 503 and response["Retry-After"]
    body = response.json()
    assert body["checks"]["database"]["ok"] is False
    assert "database is locked" in body["checks"]["database"]["info"]
    assert "database" in body["not_ready"]
    assert elapsed < 2


def test_the_worker_waits_out_a_lock_instead_of_exiting(caplog):
    """The task worker used to exit on "database is locked" (and `grassroots run` gave up after
    a few exits). Now it waits and takes the queue up again: here it returns normally in batch
    mode once the 7 s lock (longer than SQLite's 5 s busy_timeout) is gone."""
    sqlite_only()
    import signal

    from grassroots.core.management.commands.worker import Command

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    other = sqlite3.connect(
        connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(7, lambda: (other.execute("ROLLBACK"), other.close())).start()
    caplog.set_level(logging.WARNING, logger="grassroots.worker")
    try:
        start = time.monotonic()
        Command().serve(threading.Event(), batch=True)
        elapsed = time.monotonic() - start
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    assert 6 < elapsed < 30
