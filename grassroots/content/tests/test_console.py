"""Console pages: archive search, editor, workflow buttons, approval queue, inbox, TTS preview."""

import pytest

from grassroots.content.choices import Status
from grassroots.content.models import Bulletin, BulletinShare
from grassroots.core.testing import COMMUNE_A, COMMUNE_B, assert_problem, call

from .conftest import make_bulletin

pytestmark = pytest.mark.django_db


def test_archive_page_searches_without_diacritics(client, users):
    make_bulletin("33", title="Tiêm phòng vắc-xin sởi", targets=[COMMUNE_A])
    make_bulletin("33", title="Lịch cắt điện", body="<p>Điện lực thông báo.</p>")
    client.force_login(users["editor"])
    page = client.get("/ban-tin/", {"q": "tiem phong"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tiêm phòng vắc-xin sởi" in html and "Lịch cắt điện" not in html
    partial = client.get("/ban-tin/", {"q": "cat dien"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Lịch cắt điện" in partial and "<html" not in partial


def test_editor_creates_and_moves_through_the_workflow(client, users):
    client.force_login(users["editor"])
    assert client.get("/ban-tin/moi/").status_code == 200
    response = client.post(
        "/ban-tin/moi/",
        {
            "unit": "33",
            "title": "Phòng chống bão số 3",
            "body": "<p>Chằng chống nhà cửa.</p><img src=x onerror=alert(1)>",
            "kind": "text",
            "category": "thien-tai",
            "priority": "emergency",
            "source": "own",
            "targets": [COMMUNE_A],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    bulletin = Bulletin.objects.get(title="Phòng chống bão số 3")
    assert "onerror" not in bulletin.body and "<img" not in bulletin.body
    page = client.get(f"/ban-tin/{bulletin.pk}/").content.decode()
    assert 'id="do-submit"' in page and 'id="do-approve"' not in page
    client.post(f"/ban-tin/{bulletin.pk}/chuyen/gui-duyet/", {"comment": ""})
    bulletin.refresh_from_db()
    assert bulletin.status == Status.SUBMITTED

    client.force_login(users["approver"])
    queue = client.get("/ban-tin/cho-duyet/").content.decode()
    assert "Phòng chống bão số 3" in queue
    client.post(f"/ban-tin/{bulletin.pk}/chuyen/duyet/", {"next": "queue"})
    bulletin.refresh_from_db()
    assert bulletin.status == Status.APPROVED
    assert "Phòng chống bão số 3" not in client.get("/ban-tin/cho-duyet/").content.decode()
    client.post(f"/ban-tin/{bulletin.pk}/chuyen/xuat-ban/")
    bulletin.refresh_from_db()
    assert bulletin.status == Status.PUBLISHED

    client.force_login(users["operator"])
    inbox = client.get("/ban-tin/hop-thu/").content.decode()
    assert "Phòng chống bão số 3" in inbox and "bắt buộc phát" in inbox
    share = BulletinShare.objects.get(bulletin=bulletin, unit__code=COMMUNE_A)
    client.post(f"/ban-tin/hop-thu/{share.pk}/nhan/")
    share.refresh_from_db()
    assert share.picked_up_by == users["operator"]

    client.force_login(users["approver"])
    uptake = client.get("/ban-tin/hop-thu/").content.decode()
    assert 'id="uptake"' in uptake and "1 / 1" in uptake


def test_workflow_errors_are_shown_not_raised(client, users):
    bulletin = make_bulletin("33", targets=[COMMUNE_A])
    client.force_login(users["approver"])
    response = client.post(f"/ban-tin/{bulletin.pk}/chuyen/duyet/", follow=True)
    assert response.status_code == 200
    assert "không thể duyệt" in response.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.status == Status.DRAFT


def test_console_scope(client, users):
    other = make_bulletin(COMMUNE_B, title="Tin nội bộ Tân Hưng")
    client.force_login(users["operator"])
    assert client.get(f"/ban-tin/{other.pk}/").status_code == 404
    assert "Tin nội bộ Tân Hưng" not in client.get("/ban-tin/?q=tan hung").content.decode()
    assert client.get("/ban-tin/cho-duyet/").status_code == 403
    client.post(f"/ban-tin/{other.pk}/chuyen/gui-duyet/")
    other.refresh_from_db()
    assert other.status == Status.DRAFT


def test_tts_preview_endpoint(client, users):
    text = "UBND xã thông báo: lúc 14h30 ngày 15/3 họp dân."
    response = call(
        client, "post", "/api/v1/bulletins/tts/preview", user=users["editor"], body={"text": text}
    )
    assert response.status_code == 200, response.content
    reading = response.json()["reading_text"]
    assert "ủy ban nhân dân" in reading.lower() and "14h30" not in reading
    assert_problem(
        call(
            client,
            "post",
            "/api/v1/bulletins/tts/preview",
            user=users["editor"],
            body={"text": " "},
        ),
        422,
    )
    # The console partial shows the same reading text.
    client.force_login(users["editor"])
    partial = client.post("/ban-tin/doc-thu/", {"title": "", "body": text}).content.decode()
    assert 'id="tts-reading"' in partial and "14h30" not in partial


def test_tts_preview_audio_is_made_by_the_worker(client, users):
    from grassroots.content.tasks import synthesize_preview

    response = call(
        client,
        "post",
        "/api/v1/bulletins/tts/preview",
        user=users["editor"],
        body={"text": "Thông báo lịch tiêm phòng.", "audio": True},
    )
    task_id = response.json()["audio_task"]
    assert task_id
    status = call(client, "get", f"/api/v1/bulletins/tts/preview/{task_id}", user=users["editor"])
    assert status.json()["status"] == "pending"  # queued, not made in the request
    # Someone else cannot read another user's preview.
    other = call(client, "get", f"/api/v1/bulletins/tts/preview/{task_id}", user=users["operator"])
    assert_problem(other, 404)
    out = synthesize_preview.call(
        text="Thông báo lịch tiêm phòng.", voice="vi", speed=150, user_id=users["editor"].pk
    )
    assert out["path"].endswith(".opus") and out["duration_seconds"] > 0.5


def test_tts_preview_needs_a_writer(client, users):
    body = {"text": "Thông báo"}
    assert_problem(
        call(client, "post", "/api/v1/bulletins/tts/preview", user=users["viewer"], body=body), 403
    )


def test_tts_preview_reads_a_published_bulletin_whose_form_is_locked(client, users):
    """A published bulletin's form is disabled (the browser sends no title or body): the
    preview reads the stored bulletin, for anyone who may see it, and the card says so."""
    bulletin = make_bulletin(
        "33", status=Status.PUBLISHED, title="Lịch tiêm phòng", body="<p>UBND xã thông báo.</p>"
    )
    client.force_login(users["approver"])
    page = client.get(f"/ban-tin/{bulletin.pk}/").content.decode()
    assert f'id="tts-bulletin" value="{bulletin.pk}"' in page and "#tts-bulletin" in page
    assert "khi phát bản tin này" in page and "trước khi lưu" not in page
    assert "Lưu phiên bản mới rồi xem lại" not in page
    for user in ("approver", "viewer"):
        client.force_login(users[user])
        partial = client.post("/ban-tin/doc-thu/", {"bulletin": bulletin.pk}).content.decode()
        assert 'id="tts-error"' not in partial, partial
        assert "ủy ban nhân dân" in partial.lower() and "Lịch tiêm phòng" in partial
    # Out of scope is not found, not read.
    other = make_bulletin(COMMUNE_B, status=Status.PUBLISHED, title="Tin của xã khác")
    client.force_login(users["operator"])
    assert client.post("/ban-tin/doc-thu/", {"bulletin": other.pk}).status_code == 404
    # A draft still reads what is being typed, not what is stored.
    draft = make_bulletin("33", title="Bản nháp")
    client.force_login(users["editor"])
    page = client.get(f"/ban-tin/{draft.pk}/").content.decode()
    assert 'id="tts-bulletin"' not in page and "trước khi lưu" in page
    partial = client.post("/ban-tin/doc-thu/", {"title": "Tin mới gõ", "body": ""}).content.decode()
    assert "Tin mới gõ" in partial


def test_publish_asks_first_and_says_who_receives_it(client, users):
    """'Xuất bản…' opens a confirmation naming the communes whose inbox it reaches and what
    they must do; only its own button publishes. People are named, hashes are not shown."""
    must = make_bulletin(
        "33", status=Status.APPROVED, title="Phòng chống rét", priority="priority",
        targets=[COMMUNE_A, COMMUNE_B],
    )  # fmt: skip
    client.force_login(users["approver"])
    page = client.get(f"/ban-tin/{must.pk}/").content.decode()
    assert 'data-bs-target="#publish-confirm"' in page and 'type="button"' in page
    assert 'id="confirm-publish"' in page and "xuat-ban" in page
    assert "hộp thư bản tin của 2 xã, phường" in page
    assert "<li>Phường Phố Hiến</li>" in page and "<li>Xã Tân Hưng</li>" in page
    assert 'id="publish-must-air"' in page and "phải xếp lịch phát trên loa" in page
    # Names, not logins; no hash or key id for an approver.
    assert "Chi tiết kỹ thuật" not in page and must.current_revision.content_hash not in page
    alone = make_bulletin(COMMUNE_A, status=Status.APPROVED, title="Tin nội bộ")
    page = client.get(f"/ban-tin/{alone.pk}/").content.decode()
    assert 'id="publish-no-recipients"' in page and "không xã nào nhận được" in page
    # The auditor (province admin) finds the hash under 'Chi tiết kỹ thuật'.
    client.force_login(users["admin"])
    page = client.get(f"/ban-tin/{must.pk}/").content.decode()
    assert "Chi tiết kỹ thuật" in page and must.current_revision.content_hash in page


def test_history_names_people_not_logins(client, users):
    bulletin = make_bulletin("33", title="Lịch họp", by=users["editor"])
    client.force_login(users["editor"])
    client.post(f"/ban-tin/{bulletin.pk}/chuyen/gui-duyet/", {"comment": ""})
    page = client.get(f"/ban-tin/{bulletin.pk}/").content.decode()
    history = page[page.index('id="transitions"') :]
    history = history[: history.index("</ul>")]
    assert users["editor"].full_name in history and ">editor<" not in history
    client.force_login(users["admin"])
    audit = client.get("/nhat-ky/").content.decode()
    assert users["editor"].full_name in audit and "<td>editor</td>" not in audit


def _editor_textarea(client, bulletin_id: int) -> str:
    """What the editor's body textarea shows (its content as the browser decodes it)."""
    import html as htmllib
    import re

    page = client.get(f"/ban-tin/{bulletin_id}/").content.decode()
    match = re.search(r'<textarea[^>]*id="id_body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, page[:2000]
    return htmllib.unescape(match.group(1)).removeprefix("\n")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (
            "Mang theo sổ tiêm chủng <bản gốc> và đến đúng giờ.",
            "Mang theo sổ tiêm chủng &lt;bản gốc&gt; và đến đúng giờ.",
        ),
        ("Nếu a < b thì báo lại.", "Nếu a &lt; b thì báo lại."),
        ("Cảm ơn bà con <3", "Cảm ơn bà con &lt;3"),
        ("Mức nước<bờ đê, R&D", "Mức nước&lt;bờ đê, R&amp;D"),
    ],
)
def test_editor_keeps_angle_bracket_text_as_typed(client, users, typed, stored):
    """A "<" that does not begin a tag is text: stored escaped, shown as typed, saved again
    unchanged (the sanitiser used to drop "<bản gốc>" as an unknown element)."""
    client.force_login(users["editor"])
    fields = {
        "unit": "33", "title": "Tiêm chủng mở rộng", "body": typed, "kind": "text",
        "category": "thien-tai", "priority": "normal", "source": "own", "targets": [COMMUNE_A],
    }  # fmt: skip
    response = client.post("/ban-tin/moi/", fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    bulletin = Bulletin.objects.get(title="Tiêm chủng mở rộng")
    assert bulletin.body == stored
    shown = _editor_textarea(client, bulletin.pk)
    assert shown == typed
    response = client.post(f"/ban-tin/{bulletin.pk}/", {**fields, "body": shown})
    assert response.status_code == 302, response.content.decode()[:2000]
    bulletin.refresh_from_db()
    assert bulletin.body == stored


def test_editor_keeps_markup_and_angle_text_together_and_drops_scripts(client, users):
    client.force_login(users["editor"])
    typed = (
        "<p><strong>Lưu ý:</strong> mang <bản gốc>, a < b.</p>"
        "<script>alert('x')</script><p onclick=\"x()\">Hết.</p>"
    )
    fields = {
        "unit": "33", "title": "Tiêm chủng", "body": typed, "kind": "text",
        "category": "thien-tai", "priority": "normal", "source": "own", "targets": [COMMUNE_A],
    }  # fmt: skip
    assert client.post("/ban-tin/moi/", fields).status_code == 302
    bulletin = Bulletin.objects.get(title="Tiêm chủng")
    assert bulletin.body == (
        "<p><strong>Lưu ý:</strong> mang &lt;bản gốc&gt;, a &lt; b.</p><p>Hết.</p>"
    )
    shown = _editor_textarea(client, bulletin.pk)
    assert shown == "<p><strong>Lưu ý:</strong> mang <bản gốc>, a < b.</p><p>Hết.</p>"
    assert client.post(f"/ban-tin/{bulletin.pk}/", {**fields, "body": shown}).status_code == 302
    bulletin.refresh_from_db()
    assert "&lt;bản gốc&gt;" in bulletin.body and "<strong>" in bulletin.body
