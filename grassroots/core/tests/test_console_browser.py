"""Real-browser test of the console: log in as a demo user and browse the unit tree."""

import pytest

pytestmark = pytest.mark.browser


def login(page, base, username, password="grassroots-demo"):
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_login_and_unit_tree(browser, live_demo):
    page = browser.new_page()
    # The console runs under its Content-Security-Policy (script-src 'self'): htmx must work
    # and nothing may be blocked. (Predicates below are functions: a bare expression string
    # would be eval'd by Playwright in the page, which the policy forbids.)
    blocked = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    login(page, live_demo.url, "admin", "wrong-password")
    assert "Sai tên đăng nhập" in page.inner_text(".alert-danger")
    login(page, live_demo.url, "admin")
    page.wait_for_selector("#current-user")
    page.click("#nav-groups >> text=Quản trị")
    page.click("#nav-groups >> text=Đơn vị hành chính")
    page.wait_for_selector(".unit-row")
    assert page.inner_text(".unit-row").startswith("Tỉnh Hưng Yên")
    page.click(".unit-row")
    page.wait_for_function("() => document.querySelectorAll('.unit-row').length == 104")
    # Search without diacritics: "pho hien" finds "Phường Phố Hiến".
    page.fill("#unit-search", "pho hien")
    page.wait_for_function("() => document.querySelectorAll('.unit-row').length == 1")
    assert "Phường Phố Hiến" in page.inner_text("#unit-list")
    assert not blocked, blocked
    page.close()


def test_operator_sees_only_own_commune(browser, live_demo):
    page = browser.new_page()
    login(page, live_demo.url, "operator")
    page.wait_for_selector("#current-user")
    page.goto(f"{live_demo.url}/don-vi/")
    rows = page.locator(".unit-row")
    assert rows.count() == 1 and "Phố Hiến" in rows.first.inner_text()
    response = page.goto(f"{live_demo.url}/don-vi/?code=33")
    assert response.status == 200 and page.locator(".unit-row").count() == 1
    page.close()
