"""Fixtures shared with the e-board browser tests: a private Mosquitto with logins and a
websockets listener plus the real gateway (`ws_broker`), and a browser context (`context`)."""

from grassroots.signage.tests.test_board_browser import context, ws_broker  # noqa: F401
