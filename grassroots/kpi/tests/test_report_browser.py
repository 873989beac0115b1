"""Real Chromium: a commune writes and sends its yearly report, the province returns it with a
comment, the commune corrects and sends it again, the province accepts it, compiles the
provincial report and downloads its PDF; the PDF's pages are photographed (pdftoppm)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

from grassroots.core.testing import COMMUNE_A  # noqa: E402
from grassroots.core.testing.browser import SCREENSHOTS, login, open_nav, shoot  # noqa: E402

CLOSING = {
    "#id_text_assessment": "Đài phường hoạt động ổn định, phát đúng khung giờ tiếp sóng.",
    "#id_text_next_year": "Lắp thêm hai bảng tin điện tử tại chợ và nhà văn hóa.",
    "#id_text_proposals": "Đề nghị tỉnh hỗ trợ kinh phí chuyển đổi cụm loa còn lại.",
}


@pytest.mark.browser
def test_commune_sends_province_returns_commune_resends_province_compiles(
    browser, live_demo, settings
):
    from playwright.sync_api import expect

    from grassroots.kpi.models import ReportingBody, YearlyReport
    from grassroots.units.models import Unit

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    province = Unit.objects.get(code="33", valid_to__isnull=True)
    ReportingBody.objects.create(unit=province, name="Sở Văn hóa, Thể thao và Du lịch",
                                 compiles=True)  # fmt: skip
    base = live_demo.url

    # 1. The commune officer writes the report of Phố Hiến and sends it.
    page = login(browser, base, "operator")
    open_nav(page, "Giám sát", "Báo cáo năm")
    page.click(f"#open-{COMMUNE_A}")
    expect(page.locator("#report-state")).to_have_text("Đang soạn")
    expect(page.locator("#report-indicators")).to_contain_text("Phát đúng giờ")
    # a text longer than 20 000 characters is not cut by the browser: the counter turns red
    # and the server refuses it, keeping every character typed
    page.fill("#id_text_radio", "Loa IP. " * 2501)
    expect(page.locator("#id_text_radio + .char-count")).to_have_class(re.compile("text-danger"))
    page.click("#save")
    expect(page.locator("#section-radio")).to_contain_text("tối đa 20000")
    assert page.eval_on_selector("#id_text_radio", "e => e.value.length") == 8 * 2501
    expect(page.locator("body")).not_to_contain_text("Đã lưu báo cáo")
    page.fill("#id_text_radio", "Ba cụm loa IP hoạt động ổn định.")
    expect(page.locator("#id_text_radio + .char-count")).to_contain_text("32 / 20.000")
    # sending freezes the figures: the page asks first, and a "no" sends nothing
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#submit")
    page.wait_for_timeout(300)
    assert asked and "chốt" in asked[0]
    expect(page.locator("#report-state")).to_have_text("Đang soạn")
    page.on("dialog", lambda d: d.accept())
    page.click("#submit")  # the closing parts are still empty: refused, in Vietnamese
    expect(page.locator("#report-errors")).to_contain_text("Hãy viết các phần còn trống")
    for selector, text in CLOSING.items():
        page.fill(selector, text)
    page.click("summary")
    page.fill("#id_signer_name", "Nguyễn Văn Hải")
    shoot(page, "report", "1-commune-draft")
    page.click("#submit")
    expect(page.locator("#report-state")).to_have_text("Đã gửi")
    report = YearlyReport.objects.get(unit__code=COMMUNE_A)

    # 2. The province returns it with a comment.
    admin = login(browser, base, "admin")
    admin.on("dialog", lambda d: d.accept())
    admin.goto(f"{base}/bao-cao-nam/")
    # the province's page opens on its own work: the compiled report and who has reported,
    # not on a "Lập báo cáo" button for every commune
    expect(admin.locator("#compile")).to_be_visible()
    assert admin.locator("#report-status").bounding_box()["y"] < 900
    expect(admin.locator("button", has_text="Lập báo cáo")).to_have_count(0)
    shoot(admin, "report", "0-province-list")
    expect(admin.locator("#report-status")).to_contain_text("Phường Phố Hiến")
    expect(admin.locator("#count-sent")).to_have_text("1")
    admin.click(f"#report-status a[href='/bao-cao-nam/{report.pk}/']")
    admin.click("#return")  # without a comment: refused
    expect(admin.locator("#review-form")).to_contain_text("Hãy ghi rõ cần sửa")
    admin.fill("#id_comment", "Bổ sung kinh phí đã giải ngân trong năm.")
    admin.click("#return")
    expect(admin.locator("#report-state")).to_have_text("Bị trả lại")

    # 3. The commune sees the comment, corrects and sends again.
    page.goto(f"{base}/bao-cao-nam/{report.pk}/")
    expect(page.locator("#review-comment")).to_contain_text("Bổ sung kinh phí")
    page.fill("#id_text_funding", "Đã giải ngân 120 triệu đồng từ nguồn xã hội hóa.")
    page.click("#submit")
    expect(page.locator("#report-state")).to_have_text("Đã gửi")
    shoot(page, "report", "2-commune-resent")

    # 4. The province accepts it, compiles the provincial report and downloads its PDF.
    admin.goto(f"{base}/bao-cao-nam/{report.pk}/")
    admin.click("#accept")
    expect(admin.locator("#report-state")).to_have_text("Đã tiếp nhận")
    admin.goto(f"{base}/bao-cao-nam/")
    # Generation runs in the request in tests (immediate tasks): slow on a loaded machine.
    admin.click("#compile", timeout=120_000)
    expect(admin.locator("#jobs .report-job").first).to_have_attribute("data-status", "done")
    admin.reload()
    expect(admin.locator("body")).to_contain_text("Phụ lục IV. Đánh giá, kiến nghị của các đơn vị")
    expect(admin.locator("body")).to_contain_text(CLOSING["#id_text_proposals"])
    for selector, text in CLOSING.items():
        admin.fill(selector, text.replace("phường", "tỉnh"))
    admin.click("#save")
    admin.click("#export-pdf", timeout=120_000)
    link = admin.locator("#jobs a[data-fmt=pdf]")
    expect(link).to_be_visible(timeout=90_000)
    shoot(admin, "report", "3-province-compiled")
    with admin.expect_download() as info:
        link.click()
    folder = SCREENSHOTS / "report"
    pdf = folder / "bao-cao-tong-hop.pdf"
    info.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    for heading in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                    "UBND TỈNH HƯNG YÊN", "BÁO CÁO", "PHỤ LỤC II", "Phường Phố Hiến"):  # fmt: skip
        assert heading in text, heading
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-l", "3", str(pdf), str(folder / "pdf")],
                   check=True)  # fmt: skip
