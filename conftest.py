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
