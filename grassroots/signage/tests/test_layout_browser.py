"""The commune operator creates, edits and deletes an e-board layout in a real headless
Chromium, through the console alone; a layout one of her boards uses names that board and is
deleted only when she confirms. Photographed at desk and phone size under
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
    shoot(page, "editors", f"layout-{name}")


def test_operator_creates_edits_and_deletes_a_layout(browser, live_demo):
    from playwright.sync_api import expect

    from grassroots.core.models import ObjectChange
    from grassroots.signage.models import Board, Layout

    from .helpers import paired_board

    board_id = paired_board(COMMUNE_A, name="Bảng tin chợ Phố Hiến")["device"]
    base = live_demo.url
    page = login(browser, base, "operator")
    open_nav(page, "Bảng tin", "Bố cục, danh sách phát")
    expect(page.locator("h1")).to_have_text("Bố cục và danh sách hiển thị")

    # Create: a text size out of range first, shown on the field; the name stays.
    form = page.locator("#layout-form")
    form.locator(".unit-picker-search").fill("pho hien")
    form.locator(".unit-picker-row input").first.check()
    page.fill("#id_name", "Sảnh nhà văn hoá")
    page.fill("#id_text_scale", "400")
    page.click("#create-layout")
    expect(page.locator("#id_text_scale")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#id_name")).to_have_value("Sảnh nhà văn hoá")
    snap(page, "01-create-refused")
    page.fill("#id_text_scale", "130")
    page.click("#create-layout")
    expect(page.locator(".alert-success")).to_contain_text("Đã tạo bố cục")
    row = page.locator(".layout-row", has_text="Sảnh nhà văn hoá")
    # the market's board has no layout of its own: it takes this one as the commune's default
    expect(row).to_contain_text("1 bảng tin đang dùng")
    snap(page, "02-list")

    # Edit: a ticker line and a bigger text.
    row.locator("a", has_text="Sửa, xoá").click()
    page.wait_for_url(re.compile(r"/bang-tin-dien-tu/bo-cuc/\d+/$"))
    expect(page.locator("#id_name")).to_have_value("Sảnh nhà văn hoá")
    page.fill("#id_ticker_text", "Lịch tiếp công dân: sáng thứ Năm hằng tuần")
    page.fill("#id_text_scale", "150")
    snap(page, "03-edit")
    page.click("#save-layout")
    expect(page.locator(".alert-success")).to_contain_text("Đã lưu bố cục 'Sảnh nhà văn hoá'")
    layout = Layout.objects.get(name="Sảnh nhà văn hoá")
    assert layout.text_scale == 150 and layout.ticker_text.startswith("Lịch tiếp công dân")

    # The market's board chooses it on its own page.
    page.goto(f"{base}/bang-tin-dien-tu/{board_id}/")
    page.select_option("#layout", str(layout.pk))
    page.locator("form:has(#layout) button").click()
    page.wait_for_load_state("networkidle")
    assert Board.objects.get(pk=board_id).layout_id == layout.pk

    # Delete: the page names the board; saying no keeps everything.
    page.goto(f"{base}/bang-tin-dien-tu/bo-cuc/{layout.pk}/")
    expect(page.locator("#layout-boards")).to_contain_text("Bảng tin chợ Phố Hiến")
    expect(page.locator("#delete-layout")).to_have_text("Xoá và đưa 1 bảng tin về mặc định")
    snap(page, "04-in-use")
    messages = []

    def dismiss(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#delete-layout")
    expect(page.locator("#delete-layout")).to_be_visible()
    assert "1 bảng tin đang dùng" in messages[0]
    assert Layout.objects.filter(pk=layout.pk).exists()
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-layout")
    expect(page.locator(".alert-success")).to_contain_text(
        "Đã xoá bố cục 'Sảnh nhà văn hoá'. 1 bảng tin đã về bố cục mặc định."
    )
    expect(page.locator("#layouts")).not_to_contain_text("Sảnh nhà văn hoá")
    snap(page, "05-deleted")
    assert Board.objects.get(pk=board_id).layout_id is None
    actions = set(
        ObjectChange.objects.filter(content_type__model="layout", user_name="operator").values_list(
            "action", flat=True
        )
    )
    assert actions == {"create", "update", "delete"}
    page.context.close()

    # A read-only viewer sees layouts but no form, and the edit page answers 403.
    viewer = login(browser, base, "viewer")
    viewer.goto(f"{base}/bang-tin-dien-tu/bo-cuc/")
    expect(viewer.locator("#layout-form")).to_have_count(0)
    assert viewer.goto(f"{base}/bang-tin-dien-tu/bo-cuc/{layout.pk}/").status in (403, 404)
    viewer.context.close()
