"""Real Chromium: a province administrator opens the exchange pages from the menu, sees the
peer and its key, a failed message with its error, retries it; a refused message is listed.
Screenshots at desk and phone size go to var/screenshots/exchange/."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402

from grassroots.core.testing.browser import SCREENSHOTS, login, open_nav, shoot  # noqa: E402


@pytest.mark.browser
def test_admin_sees_peers_and_retries_a_failed_message(browser, live_demo):
    import datetime

    from django.utils import timezone

    from grassroots.exchange import outbound
    from grassroots.exchange.choices import DeliveryStatus, Kind, Refusal, Via
    from grassroots.exchange.models import OutboundMessage, RefusedMessage

    from .helpers import Remote, bulletin_body

    peer = Remote().declare(name="Hệ thống thông tin nguồn trung ương <script>")
    [row] = outbound.emit(
        peers=[peer],
        kind=Kind.BULLETIN,
        message_id="province-33:bulletin:1",
        body=bulletin_body(),
        title="Thông báo lịch tiêm chủng mở rộng tháng 12 cho trẻ em dưới 5 tuổi",
    )
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.FAILED,
        attempts=12,
        last_error="HTTP 503: Hệ thống trung ương đang bảo trì, hãy thử lại sau.",
    )
    RefusedMessage.objects.create(
        source="province-99",
        message_id="x:1",
        version=3,
        kind="bulletin",
        reason=Refusal.UNKNOWN_PEER,
        detail="Hệ thống 'province-99' chưa được khai báo (hoặc đã ngừng liên thông).",
        via=Via.PUSH,
    )
    page = login(browser, live_demo.url, "admin")
    open_nav(page, "Quản trị", "Hệ thống liên thông")
    page.wait_for_selector("#peer-list [data-peer=central]")
    assert "<script>" in page.inner_text("#peer-list")  # shown as text, not run
    assert "province-99" in page.inner_text("#refused-list")
    assert "Thu hồi bản tin" in page.inner_text("#peer-list")  # kinds in Vietnamese
    shoot(page, "exchange", "peers")
    open_nav(page, "Quản trị", "Thông điệp liên thông")
    page.select_option("#ex-status", "failed")
    page.wait_for_selector("#outbound-list [data-status=failed]")
    assert "đang bảo trì" in page.inner_text("#outbound-list")
    shoot(page, "exchange", "messages-failed")
    page.click("#outbound-list [data-status=failed] button")
    page.wait_for_selector(".alert-success, .alert")
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    page.wait_for_selector("#outbound-list [data-status=pending]")
    shoot(page, "exchange", "messages-retried")
    # a province has no national page in its menu
    page.click("#nav-groups >> text=Quản trị")
    menu = page.inner_text("#nav-groups .dropdown-menu.show")
    assert "Thông điệp liên thông" in menu and "Gửi xuống, số liệu toàn quốc" not in menu
    page.keyboard.press("Escape")
    # the row waits in back-off again (the peer is still away): Gửi ngay
    OutboundMessage.objects.filter(pk=row.pk).update(
        attempts=3, next_attempt_at=timezone.now() + datetime.timedelta(minutes=20),
        last_error="không kết nối được tới central.invalid; hãy kiểm tra địa chỉ hoặc hệ "
        "thống bên kia có đang chạy", error_kind="connect",
    )  # fmt: skip
    page.goto(f"{live_demo.url}/lien-thong/thong-diep/?status=pending")
    page.wait_for_selector("#outbound-list [data-action=send-now]")
    shoot(page, "exchange", "messages-back-off")
    page.click("#outbound-list [data-action=send-now]")
    page.wait_for_selector(".alert-success")
    row.refresh_from_db()
    assert row.next_attempt_at <= timezone.now() and row.attempts == 3
    open_nav(page, "Quản trị", "Hệ thống liên thông")
    page.click("#peer-list details summary")
    page.wait_for_selector(".peer-settings input[name=url]")
    shoot(page, "exchange", "peer-settings")


@pytest.mark.browser
def test_central_officer_follows_a_bulletin_province_by_province(browser, live_demo, settings):
    """The national page lists the bulletin sent down with how many provinces received,
    placed and aired it, and the month's indicators per province and for the country; the
    bulletin's page shows each province's state. Statistics come through the real inbox.
    A province with a long name and one whose delivery failed on an HTML error page read
    well at desk and phone size: names wrap, the error is one short line, its detail on
    demand."""
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central",
                           "SITE_URL": "https://ttcs.example.gov.vn"}  # fmt: skip
    import json
    import urllib.request

    from django.utils import timezone

    from grassroots.accounts.models import User
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.exchange import actions
    from grassroots.exchange.choices import Kind

    from .helpers import Remote

    hy = Remote(code="province-33")
    hy_peer = hy.declare(
        kinds_in=[Kind.STATISTICS], kinds_out=[Kind.BULLETIN], name="Tỉnh Hưng Yên"
    )
    other_peer = Remote(code="province-y").declare(
        unit_code="11977", kinds_out=[Kind.BULLETIN], name="Tỉnh <i>thử</i>"
    )
    long_peer = Remote(code="province-long").declare(
        unit_code="11953", kinds_out=[Kind.BULLETIN],
        name="Hệ thống thông tin nguồn của Ủy ban nhân dân tỉnh có tên rất dài để thử xuống dòng",
    )  # fmt: skip
    broken_peer = Remote(code="province-html").declare(
        unit_code="11977", kinds_out=[Kind.BULLETIN], name="Tỉnh trả về trang lỗi HTML"
    )
    bulletin = make_bulletin("33", status="published", title="Thông báo lịch nghỉ Tết Nguyên đán")
    admin = User.objects.get(username="admin")
    rows = actions.send_bulletin(
        user=admin, bulletin=bulletin, peers=[hy_peer, other_peer, long_peer, broken_peer]
    ).queued
    from grassroots.exchange.errors import http_error
    from grassroots.exchange.models import OutboundMessage

    from .test_errors import HTML_404

    error = http_error("https://html.invalid/api/v1/exchange/inbox", 404, HTML_404.encode(),
                       "text/html")  # fmt: skip
    OutboundMessage.objects.filter(peer=broken_peer).update(
        status="failed", last_error=error.detail, error_kind=error.kind,
        error_status=error.status, error_detail=error.technical,
    )  # fmt: skip
    # a row stored before errors were bounded: a whole HTML page as its error
    OutboundMessage.objects.filter(peer=long_peer).update(
        status="failed", last_error=("HTTP 404: " + HTML_404)[:500]
    )
    message_id = rows[0].message_id
    month = timezone.localdate().strftime("%Y-%m")
    body = {
        "province": "33", "month": month, "feedback_received": 4, "feedback_handled": 3,
        "units": [{"unit": "11953", "name": "Phường Phố Hiến", "kind": "phuong",
                   "counters": {"plays": 6, "plays_scheduled": 4, "plays_on_time": 3,
                                "essential_due": 2, "essential_aired": 2, "boards_working": 1},
                   "staff": {"trained": 3, "required": 4}}],
        "emergencies": {"expected": 12, "delivered": 11, "t95_s": [41.5]},
        "aired": [{"ref": message_id, "approved": True, "communes": 104, "placed": 3,
                   "aired_communes": 2, "plays": 6}],
    }  # fmt: skip
    request = urllib.request.Request(
        f"{live_demo.url}/api/v1/exchange/inbox",
        data=json.dumps(hy.seal(Kind.STATISTICS, body, message_id="s")).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 202

    page = login(browser, live_demo.url, "admin")
    open_nav(page, "Quản trị", "Gửi xuống, số liệu toàn quốc")
    sent = page.locator(f"#sent-table tr[data-message='{message_id}']")
    counts = [
        sent.locator(f"[data-count={c}]").inner_text() for c in ("received", "placed", "aired")
    ]
    assert counts == ["1", "1", "1"]
    reach = page.locator("#national-indicators [data-indicator=essential_reach] td")
    assert reach.last.inner_text() == "100"  # the country: 2 of 2
    wards = page.locator("#national-indicators [data-indicator=eboard_wards] td").last
    assert wards.inner_text().split() == ["100", "1/1", "phường,", "thị", "trấn"]
    staff = page.locator("#national-indicators [data-indicator=staff_trained] td").last
    assert "3/4 cán bộ" in staff.inner_text() and "75" in staff.inner_text()
    assert "Tỉnh Hưng Yên" in page.inner_text("#national-table")
    shoot(page, "exchange", "national-sent")
    sent.locator("a").click()
    page.wait_for_selector("#receiver-list")
    hy_row = page.locator("#receiver-list tr[data-peer=province-33]")
    assert hy_row.get_attribute("data-state") == "aired"
    other = page.locator("#receiver-list tr[data-peer=province-y]")
    assert other.get_attribute("data-state") == "pending"
    assert "<i>thử</i>" in other.inner_text()  # shown as text
    assert "Gửi tới 4 tỉnh: 1 đã nhận, 1 đã xếp lịch phát, 1 đã phát." in page.inner_text(
        "#sent-summary"
    )
    _reads_well(page)
    shoot(page, "exchange", "sent-bulletin")
    page.set_viewport_size({"width": 390, "height": 844})
    _reads_well(page)
    broken = page.locator("#receiver-list tbody[data-peer=province-html]")
    assert "trả lời HTTP 404 (không có địa chỉ này)" in broken.inner_text()
    assert "The requested URL" not in broken.inner_text()  # closed until asked for
    broken.locator("details summary").click()
    assert "The requested URL was not found" in broken.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "exchange" / "sent-bulletin-detail-phone.png"),
                    full_page=True)  # fmt: skip
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.browser
def test_admin_declares_a_peer_by_pasting_its_key_and_cannot_revoke_by_mistake(browser, live_demo):
    """The province's exchange manager pastes the other side's key JSON (code and kid filled),
    picks the scope in the unit picker, is refused our own key with what was typed kept, adds
    the peer; "Thu hồi" asks first, naming the peer and the key (dismissed: nothing revoked);
    a key revoked is added back; a peer is retired and declared again."""
    from grassroots.exchange import keys
    from grassroots.exchange.models import Peer

    from .helpers import Remote

    remote = Remote(code="central")
    page = login(browser, live_demo.url, "admin")
    open_nav(page, "Quản trị", "Hệ thống liên thông")
    page.click("#peer-form-card summary")
    # our own key, pasted by mistake: refused, everything typed is still there
    own = page.inner_text("#own-json")
    page.fill("#peer-key", own)
    assert page.input_value("#peer-code") == keys.own_id()  # filled from the JSON
    page.fill("#peer-code", "central")
    page.fill("#peer-name", "Hệ thống thông tin nguồn trung ương")
    page.fill("#peer-url", "https://ttn.example.gov.vn")
    page.fill("#peer-unit .unit-picker-search", "hung yen")
    page.click("#peer-unit .unit-picker-row[data-code='33'] input")
    page.click("#peer-submit")
    page.wait_for_selector("#peer-form .invalid-feedback")
    assert "khoá của chính hệ thống này" in page.inner_text("#peer-form")
    assert page.input_value("#peer-name") == "Hệ thống thông tin nguồn trung ương"
    assert page.input_value("#peer-url") == "https://ttn.example.gov.vn"
    assert page.locator("#peer-unit input[type=hidden][name=unit]").input_value() == "33"
    shoot(page, "exchange", "peer-form-refused")
    # the other side's JSON: the kid comes with it
    page.fill("#peer-kid", "")
    page.fill("#peer-key", remote.as_json())
    assert page.input_value("#peer-kid") == remote.kid()
    assert page.is_visible("#peer-form [data-key-note]")
    page.click("#peer-submit")
    page.wait_for_selector("#peer-list [data-peer=central]")
    peer = Peer.objects.get(code="central")
    assert peer.unit.code == "33" and peer.active_keys().get().kid == remote.kid()

    # "Thu hồi" asks, naming the peer and the key; dismissed, nothing is revoked
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click(f"#peer-list [data-kid='{remote.kid()}'] .revoke-form button")
    page.wait_for_timeout(300)
    assert remote.kid() in asked[0] and "Hệ thống thông tin nguồn trung ương (central)" in asked[0]
    assert "bị từ chối" in asked[0]
    assert peer.active_keys().exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#peer-list [data-kid='{remote.kid()}'] .revoke-form button")
    page.wait_for_selector("#peer-list [data-no-key]")
    assert not peer.active_keys().exists()
    shoot(page, "exchange", "peer-key-revoked")
    # added back by pasting the same JSON
    page.fill("#peer-list [data-peer=central] input[name=public_key]", remote.as_json())
    assert page.input_value("#peer-list [data-peer=central] input[name=kid]") == remote.kid()
    page.click("#peer-list [data-peer=central] .key-form button")
    page.wait_for_selector(f"#peer-list [data-kid='{remote.kid()}'][data-state=in-use]")
    assert "Đã thêm lại khoá" in page.inner_text(".alert-success")

    # retired (asked first), then declared again from the list of retired peers
    page.click("#peer-list [data-peer=central] details summary")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#peer-list [data-peer=central] .retire-form button")
    page.wait_for_selector("#retired-peers [data-retired=central]", state="attached")
    page.click("#retired-peers summary")
    page.click("#retired-peers [data-retired=central] a")
    page.wait_for_selector("#peer-form-card[open]")
    assert page.input_value("#peer-code") == "central"
    assert page.input_value("#peer-url") == "https://ttn.example.gov.vn"
    new = Remote(code="central")
    page.fill("#peer-key", new.as_json())
    page.click("#peer-submit")
    page.wait_for_selector("#peer-list [data-peer=central]")
    assert "Đã khai báo lại hệ thống central" in page.inner_text(".alert-success")
    assert Peer.objects.get(code="central").pk == peer.pk
    page.click("#peer-list [data-peer=central] details summary")
    shoot(page, "exchange", "peer-declared-again")


@pytest.mark.browser
def test_province_approver_sees_central_text_without_tags_and_the_change(browser, live_demo):
    """The centre's real body (its bulletin's sanitised HTML turned into the protocol's plain
    text) through the province's real inbox: the province's editor shows the words, no tags.
    Published at the province, a changed version waits for the approver, who sees the change
    and takes it; the communes keep the bulletin until then."""
    import json
    import urllib.request

    from grassroots.accounts.models import User
    from grassroots.content import actions as content
    from grassroots.content.models import Bulletin
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.core.testing import COMMUNE_A
    from grassroots.exchange import actions

    from .helpers import Remote

    def deliver(envelope):
        request = urllib.request.Request(
            f"{live_demo.url}/api/v1/exchange/inbox",
            data=json.dumps(envelope).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 202

    centre = make_bulletin(
        "33",
        status="approved",
        title="Hướng dẫn phòng chống rét đậm",
        body="<p>Giữ ấm cho người già &amp; trẻ nhỏ.</p><p>Không đốt than<br>trong phòng kín.</p>",
        targets=[COMMUNE_A],
    )
    body = actions.bulletin_body(centre, targets=[COMMUNE_A])
    central = Remote()
    central.declare()
    deliver(central.seal("bulletin", body, message_id="central:bulletin:9"))
    received = Bulletin.objects.exclude(pk=centre.pk).get(title=centre.title)

    page = login(browser, live_demo.url, "approver")
    page.goto(f"{live_demo.url}/ban-tin/{received.pk}/")
    text = page.input_value("#id_body")
    assert text == "Giữ ấm cho người già & trẻ nhỏ.\n\nKhông đốt than\ntrong phòng kín."
    assert "<p>" not in text and "<br>" not in text
    shoot(page, "exchange", "received-bulletin-editor")

    approver = User.objects.get(username="approver")
    received = content.approve(bulletin=received, user=approver)
    content.publish(bulletin=received, user=approver)
    body["title"] = "Hướng dẫn phòng chống rét đậm (bổ sung)"
    body["text"] = "Giữ ấm cho người già & trẻ nhỏ.\n\nKhông đốt than trong phòng kín.\n\nGọi 115."
    deliver(central.seal("bulletin", body, message_id="central:bulletin:9", version=2))

    page.goto(f"{live_demo.url}/ban-tin/cho-duyet/")
    page.click("#central-updates a")
    page.wait_for_selector("#update-summary")
    added = page.locator("[data-change=text] .diff-add")
    assert "Gọi 115." in added.all_inner_texts()[-1]
    assert added.last.locator(".diff-mark").inner_text() == "+"
    shoot(page, "exchange", "central-update")
    page.click("#update-form button[value=accept]")
    page.wait_for_selector("#bulletin-status[data-status=published]")
    assert page.input_value("#id_title") == body["title"]
    assert page.query_selector("#central-update") is None


def _reads_well(page) -> None:
    """No receiver's rows taller than a few lines, nothing pushed out of the table's box."""
    heights = page.eval_on_selector_all(
        "#receiver-list tbody.receiver", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < 330, heights
    box = page.eval_on_selector(
        "#receiver-list", "t => [t.scrollWidth, t.parentElement.clientWidth]"
    )
    assert box[0] <= box[1], f"the table is {box[0]} px in a box of {box[1]} px"


@pytest.mark.browser
def test_approval_queue_of_bulletins_received_fits_a_phone(browser, live_demo):
    """A bulletin received from the centre waits in the province's approval queue: the queue
    reads at desk size and at 390 px without scrolling sideways."""
    import json
    import urllib.request

    from grassroots.exchange.choices import Kind

    from .helpers import Remote, bulletin_body

    centre = Remote()
    centre.declare(kinds_in=[Kind.BULLETIN])
    title = ("Thông báo khẩn về việc phòng, chống cơn bão số 3 và mưa lũ, sạt lở đất trên địa "
             "bàn các tỉnh Bắc Bộ (NhấnMạnhKhôngCóDấuCáchĐểThửXuốngDòngTrongBảng)")  # fmt: skip
    envelope = centre.seal(Kind.BULLETIN, bulletin_body(title=title), message_id="central:1")
    request = urllib.request.Request(
        f"{live_demo.url}/api/v1/exchange/inbox", data=json.dumps(envelope).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 202
    page = login(browser, live_demo.url, "approver")
    open_nav(page, "Nội dung", "Chờ duyệt")
    page.wait_for_selector("#approval-queue .queue-row")
    assert "bão số 3" in page.inner_text("#approval-queue")
    shoot(page, "exchange", "approval-queue")
    page.set_viewport_size({"width": 390, "height": 844})
    box = page.eval_on_selector(
        "#approval-queue", "t => [t.scrollWidth, t.parentElement.clientWidth]"
    )
    assert box[0] <= box[1], f"the queue is {box[0]} px in a box of {box[1]} px"


@pytest.mark.browser
def test_national_admin_at_the_centre(browser, live_demo, settings):
    """The centre's administrator: 'Gửi xuống' with nothing chosen says beside each field what
    to choose; pasting a province's key JSON sets the scope to that province and names the
    peer; the kinds are the centre's; the approval option appears only when bulletins are
    received; the home page names the national role and has no device cards."""
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central", "SITE_URL": ""}
    from grassroots.accounts.demo import ensure_roles
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.exchange.choices import Kind

    from .helpers import Remote

    ensure_roles()
    Remote(code="province-y").declare(
        unit_code="11977", kinds_out=[Kind.BULLETIN], name="Hệ thống tỉnh Y"
    )
    make_bulletin("33", status="published", title="Thông báo lịch nghỉ Tết Nguyên đán")
    page = login(browser, live_demo.url, "admin")
    assert "Quản trị cấp trung ương" in page.inner_text("#home-scope")
    assert page.locator("[data-work=offline], [data-work=faults]").count() == 0
    shoot(page, "exchange", "central-home")
    open_nav(page, "Quản trị", "Gửi xuống, số liệu toàn quốc")
    assert "GRASSROOTS_SITE_URL" in page.inner_text("#site-url-warning")
    page.click("#send-form button")
    page.wait_for_selector("#send-bulletin-error")
    assert page.is_visible("#send-bulletin-error") and page.is_visible("#send-peers-error")
    shoot(page, "exchange", "central-send-errors")

    remote = Remote(code="province-11977")
    open_nav(page, "Quản trị", "Hệ thống liên thông")
    page.click("#peer-form-card summary")
    assert page.locator("#peer-unit input[type=hidden][name=unit]").input_value() == "33"
    assert not page.is_visible("#peer-approval")
    assert page.is_checked("#in-statistics") and page.is_checked("#out-bulletin")
    assert not page.is_checked("#in-bulletin") and not page.is_checked("#out-statistics")
    # a first paste, then the right one: what the first filled is replaced, not kept
    first = Remote(code="province-33")
    page.fill("#peer-key", first.as_json())
    assert page.input_value("#peer-code") == "province-33"
    first_name = page.input_value("#peer-name")
    assert first_name.startswith("Hệ thống ") and page.input_value("#peer-kid") == first.kid()
    page.fill("#peer-key", remote.as_json())
    assert page.input_value("#peer-code") == "province-11977"
    assert page.input_value("#peer-kid") == remote.kid()
    assert page.locator("#peer-unit input[type=hidden][name=unit]").input_value() == "11977"
    assert page.input_value("#peer-name").startswith("Hệ thống ")
    assert page.input_value("#peer-name") != first_name
    # a name the user typed is theirs: another paste keeps it
    page.fill("#peer-name", "Hệ thống thông tin nguồn tỉnh Y")
    page.fill("#peer-key", first.as_json())
    page.fill("#peer-key", remote.as_json())
    assert page.input_value("#peer-name") == "Hệ thống thông tin nguồn tỉnh Y"
    assert page.input_value("#peer-code") == "province-11977"
    page.check("#in-bulletin")
    assert page.is_visible("#peer-approval")
    assert "duyệt của trung ương" in page.inner_text("#peer-form")
    page.uncheck("#in-bulletin")
    assert not page.is_visible("#peer-approval")
    page.fill("#peer-url", "https://y.example.gov.vn")
    shoot(page, "exchange", "central-peer-form")
    page.click("#peer-submit")
    page.wait_for_selector("#peer-list [data-peer=province-11977]")
    from grassroots.exchange.models import Peer

    peer = Peer.objects.get(code="province-11977")
    assert peer.unit.code == "11977" and peer.kinds_in == ["statistics", "report_status"]
    assert peer.name == "Hệ thống thông tin nguồn tỉnh Y"


@pytest.mark.browser
def test_central_edit_diff_and_withdrawn_bulletin_pages(browser, live_demo):
    """The province approver reads the centre's edit as a text diff in the page's font (the
    Vietnamese tone marks stacked, not pushed onto the next character), +/− per line, the
    paragraphs apart; screenshots at desk and phone size."""
    import json

    from django.test import Client

    from grassroots.content import actions as content
    from grassroots.content.choices import Source
    from grassroots.content.models import Bulletin
    from grassroots.content.tests.conftest import root
    from grassroots.core.testing import COMMUNE_A

    from .helpers import Remote, bulletin_body

    central = Remote()
    central.declare()
    api = Client()

    def post(envelope):
        r = api.post(
            "/api/v1/exchange/inbox", data=json.dumps(envelope), content_type="application/json"
        )
        assert r.status_code == 202, r.content

    text = "Đề nghị y tế xã chuẩn bị cơ số thuốc.\n\nKhông ra khơi."
    post(central.seal("bulletin", bulletin_body(targets=[COMMUNE_A], text=text), message_id="u"))
    bulletin = Bulletin.objects.get(source=Source.NATIONAL)
    bulletin = content.approve(bulletin=bulletin, user=root())
    content.publish(bulletin=bulletin, user=root())
    changed = (
        "Đề nghị trạm y tế xã chuẩn bị đủ cơ số thuốc, nước sạch.\n\nKhông ra khơi.\n\n"
        "Bà con theo dõi bản tin trên hệ thống loa của xã."
    )
    post(
        central.seal(
            "bulletin", bulletin_body(targets=[COMMUNE_A], text=changed), message_id="u", version=2
        )
    )
    page = login(browser, live_demo.url, "approver")
    page.goto(f"{live_demo.url}/lien-thong/ban-tin-nhan/{bulletin.pk}/ban-sua/")
    diff = page.locator(".diff-text")
    family = diff.evaluate("e => getComputedStyle(e.querySelector('.flex-grow-1')).fontFamily")
    body_family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family == body_family and "monospace" not in family
    assert page.locator(".diff-text .diff-add").count() == 2
    assert page.locator(".diff-text .diff-del").count() == 1
    shoot(page, "exchange", "central-edit-diff")
