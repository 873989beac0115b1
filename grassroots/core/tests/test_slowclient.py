"""core.slowclient's WSGI guard, on a real socket pair (no gunicorn): a body cut off for
slowness ends in 408 whatever the application made of the error."""

import contextlib
import json
import socket

import pytest

from grassroots.core import slowclient


@pytest.fixture
def trickling(monkeypatch):
    """A request whose client sent 3 of the 1,000 bytes it announced, then stalled."""
    monkeypatch.setattr(slowclient, "GRACE_S", 0.3)
    server, client = socket.socketpair()
    client.sendall(b"abc")
    environ = {
        "gunicorn.socket": server,
        "wsgi.input": server.makefile("rb"),
        "CONTENT_LENGTH": "1000",
        "PATH_INFO": "/api/v1/auth/token",
    }
    yield environ
    client.close()
    server.close()


def call(app, environ):
    started = []
    body = b"".join(
        slowclient.SlowClientGuard(app)(environ, lambda s, h, e=None: started.append((s, h)))
    )
    assert len(started) == 1
    return started[0][0], dict(started[0][1]), body


def test_an_app_that_turns_the_cut_into_a_500_still_answers_408(trickling):
    def app(environ, start_response):
        # e.g. code that touched the half-read body afterwards and failed
        with contextlib.suppress(slowclient.SlowClientError):
            environ["wsgi.input"].read(1000)
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"boom"]

    status, headers, body = call(app, trickling)
    assert status.startswith("408")
    assert headers["Connection"] == "close"
    assert json.loads(body)["title"] == slowclient.TITLE


def test_an_app_that_lets_the_cut_escape_answers_408(trickling):
    def app(environ, start_response):
        environ["wsgi.input"].read(1000)

    status, _, body = call(app, trickling)
    assert status.startswith("408") and json.loads(body)["status"] == 408


def test_a_body_that_arrives_in_time_is_passed_through(trickling):
    def app(environ, start_response):
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read(3)]

    status, _, body = call(app, trickling)
    assert status == "201 Created" and body == b"abc"
