"""Fixtures shared by the exchange tests."""

import pytest


@pytest.fixture
def central_mode(settings):
    """This system runs as the national system (`GRASSROOTS_LEVEL=central`)."""
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central"}
