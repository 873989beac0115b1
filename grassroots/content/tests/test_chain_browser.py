"""The provincial approver sets up a two-step approval chain for Phố Hiến in a real headless
Chromium, through the console alone: pick the commune, a refused step shown on that step,
save, reorder, delete after a confirmation. Photographed at desk and phone size under
var/screenshots/editors/; no page may be wider than a phone."""

from __future__ import annotations

import os
import re

import pytest

from grassroots.core.testing import COMMUNE_A
from grassroots.core.testing.browser import login, open_nav, shoot

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def snap(page, name):
    shoot(page, "editors", f"chain-{name}")


def test_approver_builds_reorders_and_deletes_a_chain(browser, live_demo):
    from playwright.sync_api import expect

    from grassroots.content import actions
    from grassroots.core.models import ObjectChange
    from grassroots.core.testing import unit

    base = live_demo.url
    page = login(browser, base, "approver")
    open_nav(page, "Nội dung", "Quy trình duyệt")
    expect(page.locator("h1")).to_have_text("Quy trình duyệt bản tin")
    expect(page.locator("#no-chains")).to_be_visible()
    snap(page, "01-list-empty")

    # Pick Phố Hiến in the unit tree, typed without diacritics.
    page.fill("#chain-unit .unit-picker-search", "pho hien")
    rows = page.locator("#chain-unit .unit-picker-row")
    expect(rows).to_have_count(1)
    rows.first.locator("input").check()
    page.click("#open-chain")
    page.wait_for_url(re.compile(rf"/quy-trinh-duyet/{COMMUNE_A}/$"))
    expect(page.locator("h1")).to_contain_text("Phường Phố Hiến")
    expect(page.locator("#chain-current")).to_contain_text("Quy trình mặc định")

    # Two steps; the second is given a role that cannot approve: refused on that step.
    page.fill("#chain-name", "Phường rồi tỉnh")
    page.fill("#name-0", "Lãnh đạo phường duyệt")
    page.select_option("#role-1", "editor")
    page.select_option("#level-1", "root")
    page.fill("#name-1", "Thẩm định của tỉnh")
    page.fill("#order-1", "2")
    page.click("#save-chain")
    expect(page.locator("#role-1")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#step-1")).to_contain_text("không có quyền Duyệt bản tin")
    expect(page.locator("#name-1")).to_have_value("Thẩm định của tỉnh")  # nothing lost
    expect(page.locator("#chain-name")).to_have_value("Phường rồi tỉnh")
    snap(page, "02-step-refused")
    page.select_option("#role-1", "approver")
    page.click("#save-chain")
    expect(page.locator(".alert-success")).to_contain_text("(2 bước)")
    steps = page.locator("#chain-current .chain-step")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("Lãnh đạo phường duyệt")
    expect(steps.nth(0)).to_contain_text("duyệt tại đơn vị soạn bản tin (Phường Phố Hiến)")
    expect(steps.nth(1)).to_contain_text("duyệt tại cấp tỉnh (Tỉnh Hưng Yên)")
    expect(steps.nth(1)).to_contain_text("Người duyệt được: Ban biên tập tỉnh")
    snap(page, "03-saved")

    # Reorder: the province first.
    page.fill("#order-0", "2")
    page.fill("#order-1", "1")
    page.click("#save-chain")
    steps = page.locator("#chain-current .chain-step")
    expect(steps.nth(0)).to_contain_text("Thẩm định của tỉnh")
    assert [s.level for s in actions.chain_steps(unit(COMMUNE_A))] == ["root", "owner"]

    # The list shows the chain with its steps in order.
    page.click("text=← Quy trình duyệt bản tin")
    card = page.locator(".chain-card", has_text="Phường Phố Hiến")
    expect(card.locator(".chain-step")).to_have_count(2)
    expect(card.locator(".chain-step").first).to_contain_text("Thẩm định của tỉnh")
    snap(page, "04-list")

    # Delete, after the confirmation: back to the default.
    card.locator("a", has_text="Sửa").click()
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-chain")
    expect(page.locator(".alert-success")).to_contain_text("quy trình mặc định")
    expect(page.locator("#no-chains")).to_be_visible()
    assert actions.chain_for(unit(COMMUNE_A)) is None
    changes = ObjectChange.objects.filter(content_type__model="approvalchain", user_name="approver")
    assert sorted(changes.values_list("action", flat=True)) == [
        "create",
        "delete",
        "update",
    ]
    page.context.close()

    # The editor cannot approve: no link, and the Vietnamese 403.
    editor = login(browser, base, "editor")
    expect(editor.locator('[data-nav="approval-chains"]')).to_have_count(0)
    assert editor.goto(f"{base}/ban-tin/quy-trinh-duyet/").status == 403
    expect(editor.locator("h1")).to_have_text("Không có quyền")
    editor.context.close()
