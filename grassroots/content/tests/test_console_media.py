"""Attachments in the console: the file type follows the bulletin, an empty file says so, a
rejected file can be deleted (with an audit row)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grassroots.content.choices import MediaStatus
from grassroots.content.models import MediaAsset
from grassroots.content.tasks import process_media
from grassroots.core.models import ObjectChange
from grassroots.core.testing import COMMUNE_A

from .conftest import make_bulletin

pytestmark = pytest.mark.django_db


def test_upload_kind_defaults_to_the_bulletin_kind(client, users):
    client.force_login(users["operator"])
    text = make_bulletin(COMMUNE_A, by=users["operator"])
    page = client.get(f"/ban-tin/{text.pk}/").content.decode()
    assert '<option value="image" selected>' in page
    assert '<option value="audio" selected>' not in page
    audio = make_bulletin(COMMUNE_A, by=users["operator"], kind="audio")
    page = client.get(f"/ban-tin/{audio.pk}/").content.decode()
    assert '<option value="audio" selected>' in page


def test_an_empty_file_is_reported_as_empty(client, users):
    client.force_login(users["operator"])
    b = make_bulletin(COMMUNE_A, by=users["operator"])
    empty = SimpleUploadedFile("rong.mp3", b"")
    page = client.post(
        f"/ban-tin/{b.pk}/tai-len/", {"file": empty, "kind": "audio"}, follow=True
    ).content.decode()
    assert "0 byte" in page and "Hãy chọn tệp" not in page
    assert not MediaAsset.objects.exists()


def test_a_rejected_attachment_can_be_deleted(client, users):
    client.force_login(users["operator"])
    b = make_bulletin(COMMUNE_A, by=users["operator"])
    bad = SimpleUploadedFile("hong.mp3", b"this is not audio at all" * 10)
    client.post(f"/ban-tin/{b.pk}/tai-len/", {"file": bad, "kind": "audio"})
    asset = MediaAsset.objects.get()
    process_media.call(asset.pk)
    asset.refresh_from_db()
    assert asset.status == MediaStatus.REJECTED
    page = client.get(f"/ban-tin/{b.pk}/").content.decode()
    assert f"/ban-tin/{b.pk}/tep/{asset.pk}/xoa/" in page
    # another commune's operator cannot
    client.force_login(users["operator2"])
    client.post(f"/ban-tin/{b.pk}/tep/{asset.pk}/xoa/")
    assert MediaAsset.objects.filter(pk=asset.pk).exists()
    client.force_login(users["operator"])
    done = client.post(f"/ban-tin/{b.pk}/tep/{asset.pk}/xoa/", follow=True).content.decode()
    assert "Đã xoá tệp bị từ chối." in done
    assert not MediaAsset.objects.filter(pk=asset.pk).exists()
    assert ObjectChange.objects.filter(action="delete", object_id=str(asset.pk)).exists()
