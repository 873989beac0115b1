"""Helpers of the console's real-browser tests: log in, open a navigation link, photograph a
step at desk (1366×900) and phone (390×844) size with no page wider than the phone."""

from __future__ import annotations

from pathlib import Path

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def login(browser, base: str, username: str, **context_options):
    """A new page (desk-sized unless `context_options` say otherwise, e.g. a phone's
    `viewport=PHONE, has_touch=True`) logged in as the demo user `username`."""
    from django.conf import settings

    password = settings.GRASSROOTS["DEMO_PASSWORD"]
    options = {"locale": "vi-VN", "viewport": DESK, **context_options}
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#current-user", state="attached")  # in a folded menu on a phone
    return page


def open_nav(page, group: str, link: str) -> None:
    """Open a link of the grouped navigation as a person does: the group, then the link."""
    page.click(f"#nav-groups >> text={group}")
    page.click(f"#nav-groups .dropdown-menu.show >> text={link}")


def shoot(page, folder: str, name: str) -> None:
    """Screenshots under var/screenshots/<folder>/ at desk and phone size; fails when the
    page is wider than a phone or the navigation wraps at desk size."""
    shots = SCREENSHOTS / folder
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}-desk.png"), full_page=True)
    nav_height = page.evaluate("document.querySelector('nav.console-nav').offsetHeight")
    assert nav_height < 70, f"{name}: the navigation wraps onto two lines at 1366 px"
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESK)
    assert width <= PHONE["width"], f"{name}: {width} px wide on a phone"
