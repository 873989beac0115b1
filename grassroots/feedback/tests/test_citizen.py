"""The citizen app: sending, photos, bad input, abuse limits, tracking, rating, bulletins, PWA."""

import io

import pytest
from django.test import Client
from PIL import Image

from grassroots.core.testing import COMMUNE_A, COMMUNE_B, unit
from grassroots.feedback import actions, photos
from grassroots.feedback.choices import ReportStatus
from grassroots.feedback.models import BulletinRating, Photo, RateCounter, Rating, Report

from .helpers import category, jpeg_bytes, make_report, upload

URL = "/phan-anh/"


def form(**kw):
    data = {
        "category": category().pk,
        "text": "Cống thoát nước ở thôn 3 bị tắc, nước tràn ra đường.",
        "unit_code": COMMUNE_A,
        "name": "",
        "phone": "",
        "email": "",
        "address": "Thôn 3",
    }
    data.update(kw)
    return data


def post(client, **kw):
    files = kw.pop("photos", None)
    data = form(**kw)
    if files is not None:
        data["photos"] = files
    return client.post(URL, data)


@pytest.mark.django_db
def test_form_page_is_mobile_first_and_installable(client):
    resp = client.get(URL)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'name="viewport"' in html and "/phan-anh/manifest.webmanifest" in html
    assert "Phường Phố Hiến" in html and 'name="website"' in html  # honeypot present
    manifest = client.get("/phan-anh/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["scope"] == "/phan-anh/" and manifest.json()["display"] == "standalone"
    sw = client.get("/phan-anh/sw.js")
    assert sw["Content-Type"].startswith("application/javascript")
    assert b"caches.open" in sw.content and b'req.method !== "GET"' in sw.content


@pytest.mark.django_db
def test_submit_with_photo_gives_tracking_code(client, settings):
    resp = post(client, photos=[upload(jpeg_bytes(gps=True))], email="dan@example.vn")
    assert resp.status_code == 302, resp.content.decode()[:2000]
    report = Report.objects.get()
    assert resp["Location"] == f"/phan-anh/theo-doi/{report.tracking_code}/?moi=1"
    assert report.unit.code == COMMUNE_A and report.status == ReportStatus.NEW
    assert report.events.filter(kind="received").exists()
    page = client.get(resp["Location"]).content.decode()
    assert report.tracking_code in page and "Đã nhận phản ánh" in page
    photo = report.photos.get()
    with Image.open(photo.image.path) as img:
        assert img.format == "JPEG"
        exif = img.getexif()
        assert photos.GPS_IFD not in exif and 0x010F not in exif  # location and camera gone
    served = client.get(f"/phan-anh/anh/{photo.token}.jpg")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


@pytest.mark.django_db
def test_photo_keeps_location_when_the_citizen_shares_it(client):
    resp = post(client, photos=[upload(jpeg_bytes(gps=True))], share_location="on")
    assert resp.status_code == 302
    report = Report.objects.get()
    photo = report.photos.get()
    assert photo.has_location
    with Image.open(photo.image.path) as img:
        assert img.getexif().get_ifd(photos.GPS_IFD)
    # the photo's GPS filled the report position
    assert report.latitude == pytest.approx(20.675, abs=0.01)


@pytest.mark.django_db
def test_gps_maps_to_the_nearest_commune(client):
    a = unit(COMMUNE_A)
    resp = post(
        client,
        unit_code="",
        latitude=a.latitude + 0.001,
        longitude=a.longitude,
        share_location="on",
    )
    assert resp.status_code == 302
    report = Report.objects.get()
    assert report.unit == a and report.latitude == pytest.approx(a.latitude + 0.001)
    # without sharing, the position is used to route but not kept
    post(client, unit_code="", latitude=a.latitude, longitude=a.longitude)
    assert Report.objects.filter(latitude__isnull=True).count() == 1


@pytest.mark.django_db
def test_position_outside_the_province(client):
    resp = post(client, unit_code="", latitude=10.77, longitude=106.70)
    assert resp.status_code == 400
    assert "ngoài địa bàn tỉnh" in resp.content.decode()
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_unknown_commune(client):
    resp = post(client, unit_code="99999")
    assert resp.status_code == 400
    assert "Không tìm thấy xã/phường" in resp.content.decode()
    resp = post(client, unit_code="")
    assert "Hãy chọn xã/phường" in resp.content.decode()
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_ten_thousand_characters(client):
    resp = post(client, text="Dài " * 2500)
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "Nội dung quá dài (9999 ký tự); tối đa 5000 ký tự" in html
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_script_in_text_is_stored_as_text_and_escaped(client):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    resp = post(client, text=evil, name="<b>Tên</b>")
    report = Report.objects.get()
    assert report.text == evil  # kept exactly as sent
    page = client.get(f"/phan-anh/theo-doi/{report.tracking_code}/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)" in page
    assert "<img src=x" not in page
    assert resp.status_code == 302


@pytest.mark.django_db
def test_script_is_escaped_in_the_console_too(client, users):
    report = make_report(text="<script>alert(1)</script>", name="<i>x</i>")
    client.force_login(users["operator"])
    html = client.get(f"/xu-ly-phan-anh/{report.pk}/").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<i>x</i>" not in html


@pytest.mark.django_db
def test_oversized_photo(client, monkeypatch):
    monkeypatch.setattr(photos, "MAX_BYTES", 50_000)
    big = jpeg_bytes() + b"\0" * 60_000  # the size is checked before any parsing
    assert len(big) > 50_000
    resp = post(client, photos=[upload(big, "to.jpg")])
    html = resp.content.decode()
    assert resp.status_code == 400 and "quá lớn" in html and "tối đa" in html
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_decompression_bomb_is_refused(client):
    buf = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buf, "PNG")  # tiny file, 144 megapixels
    assert len(buf.getvalue()) < 100_000
    resp = post(client, photos=[upload(buf.getvalue(), "bom.png", "image/png")])
    assert resp.status_code == 400 and "kích thước quá lớn" in resp.content.decode()


@pytest.mark.django_db
def test_non_image_photo(client):
    fake = upload(b"%PDF-1.4 this is not a picture", "giay-to.jpg")
    resp = post(client, photos=[fake])
    html = resp.content.decode()
    assert resp.status_code == 400 and "không phải là ảnh hợp lệ" in html
    truncated = upload(jpeg_bytes()[:200], "hong.jpg")
    assert post(client, photos=[truncated]).status_code == 400
    assert not Report.objects.exists() and not Photo.objects.exists()


@pytest.mark.django_db
def test_at_most_three_photos(client):
    resp = post(client, photos=[upload() for _ in range(4)])
    assert resp.status_code == 400 and "tối đa 3 ảnh" in resp.content.decode()
    assert post(client, photos=[upload() for _ in range(3)]).status_code == 302
    assert Photo.objects.count() == 3


@pytest.mark.django_db
def test_png_with_transparency_is_re_encoded(client):
    buf = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 128)).save(buf, "PNG")
    assert post(client, photos=[upload(buf.getvalue(), "a.png", "image/png")]).status_code == 302
    with Image.open(Photo.objects.get().image.path) as img:
        assert img.format == "JPEG" and img.mode == "RGB"


@pytest.mark.django_db
def test_honeypot(client):
    resp = post(client, website="http://spam.example")
    assert resp.status_code == 400 and "Không gửi được" in resp.content.decode()
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_rate_limit_per_ip(client):
    for _ in range(5):
        assert post(client).status_code == 302
    resp = post(client)
    assert resp.status_code == 429 and "đợi khoảng" in resp.content.decode()
    assert int(resp["Retry-After"]) > 0
    assert Report.objects.count() == 5  # the five accepted are all kept
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert post(other).status_code == 302


@pytest.mark.django_db
def test_rate_limit_per_phone_across_addresses(db):
    for i in range(3):
        c = Client(REMOTE_ADDR=f"10.0.1.{i}")
        assert post(c, phone="0912 345 678").status_code == 302
    resp = post(Client(REMOTE_ADDR="10.0.1.99"), phone="0912.345.678")
    assert resp.status_code == 429 and "Số điện thoại này" in resp.content.decode()
    assert RateCounter.objects.filter(key__startswith="phone:").exists()


@pytest.mark.django_db
def test_bad_phone_and_email(client):
    resp = post(client, phone="abc", email="khong-phai-email")
    html = resp.content.decode()
    assert "Số điện thoại chưa đúng" in html and "thư điện tử chưa đúng" in html


@pytest.mark.django_db
def test_anonymous_report_is_allowed(client):
    assert post(client).status_code == 302
    report = Report.objects.get()
    assert report.name == report.phone == report.email == ""


@pytest.mark.django_db
def test_lookup_by_code(client):
    report = make_report()
    loose = report.tracking_code.lower().replace("-", " ")
    resp = client.get(f"/phan-anh/theo-doi/?ma={loose}")
    assert resp.status_code == 302 and resp["Location"].endswith(f"{report.tracking_code}/")
    miss = client.get("/phan-anh/theo-doi/?ma=PA-0000-0000")
    assert miss.status_code == 404 and "Không tìm thấy phản ánh" in miss.content.decode()


@pytest.mark.django_db
def test_citizen_sees_answer_and_rates(client, users):
    report = make_report()
    page = client.get(f"/phan-anh/theo-doi/{report.tracking_code}/").content.decode()
    assert "Gửi đánh giá" not in page  # nothing to rate yet
    assert (
        client.post(
            f"/phan-anh/theo-doi/{report.tracking_code}/danh-gia/", {"stars": "5"}
        ).status_code
        == 302
    )
    assert not Rating.objects.exists()
    actions.answer(
        report=report,
        user=users["operator"],
        public_answer="Đã nạo vét cống.",
        private_answer="Cảm ơn anh đã báo.",
    )
    page = client.get(f"/phan-anh/theo-doi/{report.tracking_code}/").content.decode()
    assert "Đã nạo vét cống." in page and "Cảm ơn anh đã báo." in page
    resp = client.post(
        f"/phan-anh/theo-doi/{report.tracking_code}/danh-gia/",
        {"stars": "4", "comment": "Nhanh"},
        follow=True,
    )
    assert "Cảm ơn bạn đã đánh giá" in resp.content.decode()
    assert Rating.objects.get().stars == 4
    bad = client.post(
        f"/phan-anh/theo-doi/{report.tracking_code}/danh-gia/", {"stars": "9"}, follow=True
    )
    assert "Hãy chọn số sao" in bad.content.decode() and Rating.objects.count() == 1
    # once per answer: the form is gone, and a second post is refused
    page = client.get(f"/phan-anh/theo-doi/{report.tracking_code}/").content.decode()
    assert 'id="rating-done"' in page and 'id="rate-button"' not in page
    again = client.post(
        f"/phan-anh/theo-doi/{report.tracking_code}/danh-gia/", {"stars": "1"}, follow=True
    )
    assert "một lần" in again.content.decode() and Rating.objects.count() == 1


@pytest.mark.django_db
def test_bulletin_rating_once_per_voter(client):
    first = client.get("/phan-anh/ban-tin/42/")
    assert first.status_code == 200 and "gr_voter" in first.cookies
    client.post("/phan-anh/ban-tin/42/", {"useful": "1"})
    resp = client.post("/phan-anh/ban-tin/42/", {"useful": "0"})
    assert "Chưa hữu ích" in resp.content.decode()
    vote = BulletinRating.objects.get(bulletin_id=42)
    assert vote.useful is False  # changed, not doubled
    Client().post("/phan-anh/ban-tin/42/", {"useful": "1"}, HTTP_USER_AGENT="other")
    assert BulletinRating.objects.filter(bulletin_id=42).count() == 2
    assert client.post("/phan-anh/ban-tin/42/", {"useful": "x"}).status_code == 400


@pytest.mark.django_db
def test_hidden_report_photos_are_not_served(client, users):
    report = actions.submit_report(
        category=category(),
        text="spam",
        unit=unit(COMMUNE_B),
        photos=photos.process_all([upload()], keep_location=False),
    )
    token = report.photos.get().token
    assert client.get(f"/phan-anh/anh/{token}.jpg").status_code == 200
    actions.close(report=report, user=users["operator2"], resolution="hidden_abuse")
    assert client.get(f"/phan-anh/anh/{token}.jpg").status_code == 404


@pytest.mark.django_db
def test_duplicate_page_does_not_reveal_the_other_code(client, users):
    original, dup = make_report(), make_report()
    actions.merge(report=dup, into=original, user=users["operator"])
    actions.answer(report=original, user=users["operator"], public_answer="Đã xử lý chung.")
    page = client.get(f"/phan-anh/theo-doi/{dup.tracking_code}/").content.decode()
    assert "Đã xử lý chung." in page and original.tracking_code not in page


@pytest.mark.django_db
def test_guessing_tracking_codes_is_slowed_down(settings):
    settings.GRASSROOTS = {**settings.GRASSROOTS, "FEEDBACK_LIMITS": {"lookup_miss": [(3, 3600)]}}
    report = make_report()
    guesser = Client(REMOTE_ADDR="10.0.2.1")
    for i in range(3):
        assert guesser.get(f"/phan-anh/theo-doi/?ma=PA-AAAA-AAA{i + 2}").status_code == 404
    blocked = guesser.get("/phan-anh/theo-doi/?ma=PA-AAAA-AAAA")
    assert blocked.status_code == 429 and "sai mã nhiều lần" in blocked.content.decode()
    # A blocked guesser learns nothing, not even that a code exists (302 against 429 would
    # tell); other people are not affected.
    assert guesser.get(f"/phan-anh/theo-doi/?ma={report.tracking_code}").status_code == 429
    assert Client().get(f"/phan-anh/theo-doi/?ma={report.tracking_code}").status_code == 302
    assert Client().get("/phan-anh/theo-doi/?ma=PA-AAAA-AAAA").status_code == 404


@pytest.mark.django_db
def test_bulletin_rating_counts_for_other_apps(db):
    from grassroots.feedback.querysets import bulletin_rating_counts

    for i, useful in enumerate([True, True, False]):
        actions.rate_bulletin(bulletin_id=7, fingerprint=f"f{i}", useful=useful)
    actions.rate_bulletin(bulletin_id=8, fingerprint="f0", useful=False)
    assert bulletin_rating_counts([7, 8, 9]) == {
        7: {"useful": 2, "not_useful": 1},
        8: {"useful": 0, "not_useful": 1},
    }
