"""Project-wide pytest fixtures."""

import os

import pytest

os.environ.setdefault("GRASSROOTS_HOME", os.path.join(os.path.dirname(__file__), "var", "test"))


@pytest.fixture
def demo(db):
    """The Hưng Yên demo data (units, roles, users), loaded once per database state."""
    from grassroots.accounts.demo import load_demo
    from grassroots.units.models import Unit

    if not Unit.objects.filter(code="33", valid_to__isnull=True).exists():
        load_demo()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the demo data once into the test database (tests roll back on top of it)."""
    from grassroots.accounts.demo import load_demo

    with django_db_blocker.unblock():
        load_demo()


@pytest.fixture(autouse=True)
def _fresh_gateway_state(settings, tmp_path):
    """Each test starts with no device ids remembered by the gateway's handlers (a rolled-back
    test can leave an id that the next test gives to another device, or to none), and a spool
    and dead-letter file of its own (a gateway stopped by one test must not replay into the
    next)."""
    from grassroots.devices import handlers

    handlers._known.forget()
    settings.GRASSROOTS = {**settings.GRASSROOTS, "GATEWAY_STATE": tmp_path / "gateway"}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def users(demo):
    from grassroots.accounts.models import User

    return {u.username: u for u in User.objects.all()}


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """A real headless Debian Chromium driven by Playwright (no downloaded browser)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: run `make test` (it installs chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_demo(live_server, transactional_db):
    """The live server with the demo data (transactional tests flush the database)."""
    from grassroots.accounts.demo import load_demo

    load_demo()
    return live_server


@pytest.fixture
def mqtt_broker(tmp_path):
    """A private, real Mosquitto on a free loopback port; yields its mqtt:// URL."""
    import socket
    import subprocess
    import time

    from grassroots.core import broker

    binary = broker.mosquitto_binary()
    if not binary:
        pytest.fail("mosquitto is not installed: run `make test` (it installs it)")
    port = broker.free_port()
    conf = broker.write_config(tmp_path, port)
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("mosquitto did not start")
            time.sleep(0.05)
    yield f"mqtt://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(5)
