"""Peers and keys an administrator cannot break (issue 19 A): the add-peer form's checks (our
own key, a key or an address another peer uses, the kid against the key, the whole key JSON
pasted, what was typed kept), keys added back after a revocation, peers retired and declared
again with their history, deleted while unused; the same checks through the API; our own key
rotated with messages verifying on a peer holding both keys; refusals scoped in a queryset."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest
from django.core.management import call_command
from django.urls import reverse

from grassroots.core.models import ObjectChange
from grassroots.exchange import actions, inbound, keys, outbound
from grassroots.exchange.choices import DeliveryStatus, Kind, Refusal, Via
from grassroots.exchange.models import (
    InboundMessage,
    OutboundMessage,
    Peer,
    PeerKey,
    RefusedMessage,
)

from .helpers import Remote, bulletin_body, public_b64

pytestmark = pytest.mark.django_db
URL = "/lien-thong/"


@pytest.fixture(autouse=True)
def _own_home(settings, tmp_path):
    """Our exchange key lives in this test's own home (rotation writes key files)."""
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path}


def _form(remote: Remote, **over) -> dict:
    data = {
        "step": "peer", "code": remote.code, "name": "Hệ thống thông tin nguồn trung ương",
        "url": "https://ttn.example.gov.vn", "unit": "33", "public_key": public_b64(remote.key),
        "kid": remote.kid(), "kinds_in": ["bulletin", "withdrawal"], "kinds_out": ["statistics"],
        "approval": "on",
    }  # fmt: skip
    data.update(over)
    return data


def test_add_peer_refuses_bad_peers_and_keeps_what_was_typed(client, users):
    client.force_login(users["admin"])
    first = Remote(code="central")
    r = client.post(URL, _form(first), follow=True)
    assert "Đã thêm hệ thống liên thông" in r.content.decode()

    # our own key: refused in Vietnamese, the form shown again with everything typed
    own = keys.describe(keys.private_key())
    r = client.post(URL, _form(Remote(code="khac"), public_key=own["public_key"],
                               kid=own["kid"], name="Tên gõ <dở>"))  # fmt: skip
    page = r.content.decode()
    assert "khoá của chính hệ thống này" in page
    assert 'value="khac"' in page and 'value="Tên gõ &lt;dở&gt;"' in page
    assert f'value="{own["public_key"]}"' in page and 'value="https://ttn.example.gov.vn"' in page
    assert 'id="peer-form-card" open' in page and "is-invalid" in page
    # the unit chosen is chosen again, the kinds ticked stay ticked (and only those)
    assert '<input type="hidden" name="unit" value="33">' in page
    assert 'id="in-bulletin" checked' in page and 'id="in-statistics" checked' not in page

    # the same key under a second code: the existing peer is named
    page = client.post(URL, _form(first, code="central-2", url="https://b.example")).content
    assert "đang là khoá của hệ thống 'central'" in unescape(page.decode())
    # the same address (case, trailing slash aside) under a second code
    page = client.post(URL, _form(Remote(code="x"), url="HTTPS://TTN.example.gov.vn/")).content
    assert "Địa chỉ này đã khai báo cho hệ thống 'central'" in unescape(page.decode())
    # a kid that is not the key's: a mistyped or truncated key is caught
    other = Remote(code="y")
    page = client.post(URL, _form(other, url="https://y.example", kid="0123456789abcdef"))
    assert f"khoá này có mã {other.kid()}" in page.content.decode()
    page = client.post(URL, _form(other, url="https://y.example", kid="")).content.decode()
    assert "Hãy nhập mã khoá" in page
    # every error of the form at once
    page = client.post(URL, _form(other, code="a b", name="", url="ftp://y")).content.decode()
    assert "Mã hệ thống chỉ gồm" in page and "Hãy nhập tên" in page and "https://" in page
    assert Peer.objects.count() == 1

    # the whole JSON the other side prints: code and kid from it, no kid typed
    r = client.post(URL, _form(other, url="https://y.example", kid="", public_key=other.as_json()),
                    follow=True)  # fmt: skip
    assert "Đã thêm hệ thống liên thông" in r.content.decode()
    assert Peer.objects.get(code="y").active_keys().get().kid == other.kid()
    # … but not under another system's code
    z = Remote(code="z")
    page = client.post(URL, _form(Remote(code="w"), url="https://w.example", kid="",
                                  public_key=z.as_json())).content.decode()  # fmt: skip
    assert "là của hệ thống 'z', không phải 'w'" in unescape(page)


def test_scope_is_picked_among_the_users_units(client, users):
    """A commune's exchange manager is offered only their commune, and a unit outside it is
    refused by the server whatever the page offered."""
    from grassroots.core.testing import COMMUNE_A, make_user

    commune = make_user("lienthong-xa2", permissions=["exchange.view", "exchange.manage"],
                        unit_code=COMMUNE_A)  # fmt: skip
    client.force_login(commune)
    page = client.get(URL).content.decode()
    assert f'"code": "{COMMUNE_A}"' in page and '"code": "33"' not in page
    remote = Remote(code="xa-a")
    page = client.post(URL, _form(remote, unit="33")).content.decode()
    assert "không thuộc phạm vi quản lý của bạn" in page and not Peer.objects.exists()
    page = client.post(URL, _form(remote, unit="")).content.decode()
    assert "Hãy chọn phạm vi" in page
    client.post(URL, _form(remote, unit=COMMUNE_A))
    assert Peer.objects.get(code="xa-a").unit.code == COMMUNE_A


def test_a_revoked_key_is_added_back(client, users):
    remote = Remote()
    peer = remote.declare(kinds_in=[Kind.BULLETIN])
    key = peer.keys.get()
    client.force_login(users["admin"])
    page = client.get(URL).content.decode()
    # the confirmation names the peer and the key, and says what happens
    assert f"Thu hồi khoá {key.kid} của Hệ thống thông tin nguồn trung ương (central)?" in page
    assert "bị từ chối" in page and "khoá duy nhất đang dùng" in page
    r = client.post(URL, {"step": "revoke", "key": key.pk}, follow=True)
    assert f"Đã thu hồi khoá {key.kid}" in r.content.decode()
    envelope = remote.seal(Kind.BULLETIN, bulletin_body())
    with pytest.raises(inbound.Refused) as refused:
        inbound.authenticate(envelope, Via.PUSH)
    assert refused.value.reason == Refusal.UNKNOWN_KEY

    r = client.post(URL, {"step": "key", "peer": peer.pk, "public_key": remote.as_json()},
                    follow=True)  # fmt: skip
    assert "Đã thêm lại khoá" in r.content.decode()
    rows = list(peer.keys.order_by("added_at").values_list("kid", "revoked_at"))
    assert [k for k, _ in rows] == [key.kid, key.kid]
    assert rows[0][1] is not None and rows[1][1] is None  # the revocation stays as history
    assert ObjectChange.objects.filter(comment__startswith=f"thêm lại khoá {key.kid}").exists()
    assert inbound.authenticate(envelope, Via.PUSH)[1] == peer  # verifies again
    # the same key once more changes nothing
    r = client.post(URL, {"step": "key", "peer": peer.pk, "public_key": remote.as_json()},
                    follow=True)  # fmt: skip
    assert "đang được dùng" in r.content.decode() and peer.keys.count() == 2
    # our own key is not a peer's key, nor the key of another peer
    own = keys.describe(keys.private_key())
    page = client.post(URL, {"step": "key", "peer": peer.pk, "public_key": json.dumps(
        {**own, "source": "central"})}).content.decode()  # fmt: skip
    assert "khoá của chính hệ thống này" in page and peer.keys.count() == 2
    assert f'value="{own["public_key"]}' not in page or "is-invalid" in page


def test_retire_keeps_history_and_the_code_is_declared_again(client, users):
    remote = Remote()
    peer = remote.declare(kinds_in=[Kind.BULLETIN])
    InboundMessage.objects.create(
        peer=peer, message_id="central:bulletin:1", version=1, kind=Kind.BULLETIN,
        content_hash="0" * 64, via=Via.PUSH,
    )  # fmt: skip
    unused = Remote(code="nham").declare(url="https://nham.invalid")
    client.force_login(users["admin"])
    page = client.get(URL).content.decode()
    assert page.count('class="delete-form"') == 1  # only the peer nothing was exchanged with
    # a peer with messages is not deleted (the server says so, whatever the page showed)
    r = client.post(URL, {"step": "delete", "peer": peer.pk}, follow=True)
    assert "không xoá để giữ lịch sử" in r.content.decode() and Peer.objects.filter(pk=peer.pk)
    r = client.post(URL, {"step": "delete", "peer": unused.pk}, follow=True)
    assert "Đã xoá hệ thống nham" in r.content.decode() and not Peer.objects.filter(code="nham")

    r = client.post(URL, {"step": "retire", "peer": peer.pk}, follow=True)
    assert "Đã ngừng hẳn liên thông" in r.content.decode()
    peer.refresh_from_db()
    assert peer.retired_at and not peer.active and not peer.active_keys().exists()
    assert 'data-retired="central"' in r.content.decode()
    with pytest.raises(inbound.Refused) as refused:
        inbound.authenticate(remote.seal(Kind.BULLETIN, bulletin_body()), Via.PUSH)
    assert refused.value.reason == Refusal.UNKNOWN_PEER
    # a retired peer takes no key and no settings until declared again
    new = Remote()
    page = client.post(URL, {"step": "key", "peer": peer.pk,
                             "public_key": new.as_json()}).content.decode()  # fmt: skip
    assert "đã ngừng hẳn" in page and peer.keys.count() == 1

    # "declare again": the add form comes filled with its settings; a new key is pasted
    page = client.get(URL + "?khai-bao-lai=central").content.decode()
    assert 'id="peer-form-card" open' in page and 'value="central"' in page
    data = _form(new, url=peer.url, kid="", public_key=new.as_json(), kinds_in=["bulletin"])
    # sent with the key field left empty: asked for the key, not told its format is wrong
    page = client.post(URL, {**data, "public_key": "  "}).content.decode()
    assert "Hãy dán khoá công khai của hệ thống đó" in page
    assert "phải là khoá Ed25519" not in page and Peer.objects.get(code="central").retired_at
    r = client.post(URL, data, follow=True)
    assert "Đã khai báo lại hệ thống central" in r.content.decode()
    again = Peer.objects.get(code="central")
    assert again.pk == peer.pk and again.active and again.retired_at is None
    assert again.inbound.count() == 1  # its history (and idempotency) kept
    assert inbound.authenticate(new.seal(Kind.BULLETIN, bulletin_body()), Via.PUSH)[1] == again


def test_the_api_applies_the_same_checks(client, users):
    client.force_login(users["admin"])
    api = "/api/v1/exchange/peers"
    own = keys.describe(keys.private_key())
    body = {"code": "central", "name": "Trung ương", "url": "https://central.example",
            "unit_code": "33", "public_key": own["public_key"], "kid": own["kid"]}  # fmt: skip
    r = client.post(api, body, content_type="application/json")
    assert r.status_code == 422 and "khoá của chính hệ thống này" in r.content.decode()
    remote = Remote()
    r = client.post(api, {**body, "public_key": remote.as_json(), "kid": ""},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["keys"][0]["kid"] == remote.kid()
    r = client.post(api, {**body, "code": "central-2", "public_key": remote.as_json(),
                          "kid": ""}, content_type="application/json")  # fmt: skip
    assert r.status_code == 422 and "'central'" in r.content.decode(), r.content
    # rotate: a second key; the kid checked
    new = Remote()
    r = client.post(f"{api}/central/keys", {"public_key": public_b64(new.key), "kid": "f" * 16},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 422 and "không khớp" in r.content.decode()
    r = client.post(f"{api}/central/keys", {"public_key": public_b64(new.key), "kid": new.kid()},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 201
    old_id = PeerKey.objects.get(kid=remote.kid()).pk
    r = client.post(f"{api}/central/keys/{old_id}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = client.post(f"{api}/central/keys", {"public_key": remote.as_json()},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 201 and PeerKey.objects.filter(kid=remote.kid()).count() == 2
    r = client.patch(f"{api}/central", {"url": "ftp://x"}, content_type="application/json")
    assert r.status_code == 422
    r = client.patch(f"{api}/central", {"pull": False}, content_type="application/json")
    assert r.status_code == 200 and r.json()["pull"] is False
    r = client.post(f"{api}/central/retire")
    assert r.status_code == 200 and r.json()["retired_at"] and not r.json()["active"]
    r = client.delete(f"{api}/central")
    assert r.status_code == 204 and not Peer.objects.exists()  # nothing was exchanged yet
    # a viewer reads, never writes
    client.force_login(users["viewer"])
    assert client.get(api).status_code == 200
    assert client.post(api, body, content_type="application/json").status_code == 403


def test_refusals_are_scoped_by_the_queryset(client, users):
    from grassroots.core.testing import COMMUNE_A, make_user

    peer = Remote().declare()
    RefusedMessage.objects.create(peer=peer, source="central", reason=Refusal.BAD_SIGNATURE,
                                  detail="Chữ ký sai", via=Via.PUSH)  # fmt: skip
    RefusedMessage.objects.create(source="la", reason=Refusal.UNKNOWN_PEER, detail="Lạ",
                                  via=Via.PUSH)  # fmt: skip
    commune = make_user("lienthong-xa3", permissions=["exchange.view", "exchange.manage"],
                        unit_code=COMMUNE_A)  # fmt: skip
    assert not RefusedMessage.objects.restrict(commune).exists()
    assert RefusedMessage.objects.restrict(users["admin"]).count() == 2
    # a viewer of the province sees the peer's, not unknown senders' (managers of all only)
    assert [r.source for r in RefusedMessage.objects.restrict(users["viewer"])] == ["central"]
    client.force_login(users["viewer"])
    assert [r["source"] for r in client.get("/api/v1/exchange/refused").json()] == ["central"]
    client.force_login(commune)
    assert client.get("/api/v1/exchange/refused").json() == []


def test_our_key_rotates_and_messages_verify_during_the_overlap(client, users):
    """Step 1 stages a new key (we still sign with the old one) and prints its JSON; the peer
    adds it beside the old one; step 2 switches, re-signs what was not delivered; the peer,
    holding both keys, verifies each message by its kid, then revokes the old key."""
    # this system is its own peer here (as the exchange benchmark does): what it sends, it
    # can check exactly as the other side would
    old = keys.describe(keys.private_key())
    me = Peer.objects.create(code=keys.own_id(), name="Bên kia", url="https://bk.invalid",
                             unit=actions.Unit.objects.current().get(code="33"))  # fmt: skip
    PeerKey.objects.create(peer=me, kid=old["kid"], public_key=old["public_key"])
    [sent_before] = outbound.emit(peers=[me], kind=Kind.BULLETIN, message_id="a",
                                  body=bulletin_body())  # fmt: skip
    delivered_before = json.loads(sent_before.envelope)

    out = io.StringIO()
    call_command("exchange", "rotate-key", stdout=out, stderr=io.StringIO())
    staged = json.loads(out.getvalue())
    assert staged["source"] == keys.own_id() and staged["kid"] != old["kid"]
    assert keys.key_id() == old["kid"]  # still signing with the old key
    again = io.StringIO()
    call_command("exchange", "rotate-key", stdout=again, stderr=io.StringIO())
    assert json.loads(again.getvalue()) == staged  # the key given to peers stays valid
    assert client.get("/api/v1/exchange/key").json()["next"]["kid"] == staged["kid"]
    client.force_login(users["admin"])
    assert staged["kid"] in client.get(URL).content.decode()
    # the next key is ours too: nobody declares it as another system's key
    with pytest.raises(actions.ValidationError):
        actions.add_key(user=users["admin"], peer=Remote(code="p2").declare(url="https://p2.x"),
                        public_key=json.dumps({**staged, "source": "p2"}))  # fmt: skip

    # the peer adds the new key beside the old one (out of band)
    PeerKey.objects.create(peer=me, kid=staged["kid"], public_key=staged["public_key"])
    out = io.StringIO()
    call_command("exchange", "rotate-key", "--activate", stdout=out, stderr=io.StringIO())
    result = json.loads(out.getvalue())
    assert result == {"previous_kid": old["kid"], "kid": staged["kid"], "resigned": 1}
    assert keys.key_id() == staged["kid"] and keys.next_key() is None
    assert (keys.key_dir() / f"exchange-ed25519.{old['kid']}.old.pem").exists()
    sent_before.refresh_from_db()
    resigned = json.loads(sent_before.envelope)
    assert resigned["kid"] == staged["kid"] and resigned["body"] == delivered_before["body"]
    [sent_after] = outbound.emit(peers=[me], kind=Kind.BULLETIN, message_id="b",
                                 body=bulletin_body())  # fmt: skip
    after = json.loads(sent_after.envelope)
    assert after["kid"] == staged["kid"]

    # the overlap: a message signed before the switch (already delivered, pulled again) and
    # one signed after both verify on the peer holding both keys
    for envelope in (delivered_before, resigned, after):
        assert inbound.authenticate(envelope, Via.PULL)[1] == me
    # the peer revokes our old key: only messages signed with it are refused
    me.keys.filter(kid=old["kid"]).update(revoked_at=actions.timezone.now())
    assert inbound.authenticate(after, Via.PULL)[1] == me
    with pytest.raises(inbound.Refused):
        inbound.authenticate(delivered_before, Via.PULL)
    # nothing staged: activating again says what to do
    with pytest.raises(Exception, match="rotate-key"):
        call_command("exchange", "rotate-key", "--activate", stdout=io.StringIO())


def test_a_failed_message_signed_with_our_old_key_is_signed_again_on_retry(users, settings):
    peer = Remote().declare(kinds_out=[Kind.BULLETIN])
    [row] = outbound.emit(peers=[peer], kind=Kind.BULLETIN, message_id="m", body=bulletin_body())
    OutboundMessage.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED)
    old_kid = keys.key_id()
    keys.stage_next()
    keys.activate_next()  # without re-signing the outbox (as if the command was interrupted)
    outbound.retry(message=row, user=users["admin"])
    row.refresh_from_db()
    assert json.loads(row.envelope)["kid"] == keys.key_id() != old_kid


def test_command_add_peer_goes_through_the_same_checks(users):
    from django.core.management.base import CommandError

    own = keys.describe(keys.private_key())
    with pytest.raises(CommandError, match="chính hệ thống này"):
        call_command(
            "exchange", "add-peer", "--code", "central", "--name", "TW", "--url",
            "https://tw.example", "--unit", "33", "--public-key", json.dumps(own),
        )  # fmt: skip
    remote = Remote()
    out = io.StringIO()
    call_command("exchange", "add-peer", "--code", "central", "--name", "TW", "--url",
                 "https://tw.example", "--unit", "33", "--public-key", remote.as_json(),
                 "--kinds-in", "bulletin", stdout=out)  # fmt: skip
    assert json.loads(out.getvalue()) == {"peer": "central", "kid": remote.kid(),
                                          "redeclared": False}  # fmt: skip
    assert Peer.objects.get(code="central").kinds_in == ["bulletin"]


def _checked(page: str, direction: str) -> set[str]:
    """The kinds ticked in the add-peer form's 'in' or 'out' fieldset."""
    form = page[page.index('id="peer-form"') :]
    return set(re.findall(rf'value="(\w+)" id="{direction}-\w+" checked', form))


def test_add_peer_defaults_by_level(client, users, settings):
    """At the centre a new peer is a province: send it what goes down, take what comes up; at a
    province the mirror. The approval option is for a peer that sends us bulletins, worded
    by level; the command defaults the same way."""
    client.force_login(users["admin"])
    page = client.get(reverse("exchange-peers")).content.decode()
    assert _checked(page, "in") == {"bulletin", "withdrawal", "citizen_report"}
    assert _checked(page, "out") == {"statistics", "report_status"}
    approval = re.search(r'<div class="col-12 form-check small ms-2" data-approval([^>]*)>', page)
    assert approval and "hidden" not in approval.group(1)
    assert "phải qua quy trình duyệt của tỉnh" in page
    settings.GRASSROOTS = {**settings.GRASSROOTS, "LEVEL": "central"}
    page = client.get(reverse("exchange-peers")).content.decode()
    assert _checked(page, "in") == {"statistics", "report_status"}
    assert _checked(page, "out") == {"bulletin", "withdrawal", "citizen_report"}
    approval = re.search(r'<div class="col-12 form-check small ms-2" data-approval([^>]*)>', page)
    assert approval and "hidden" in approval.group(1)
    assert "duyệt của tỉnh" not in page and "quy trình duyệt của trung ương" in page
    remote = Remote(code="province-33")
    call_command("exchange", "add-peer", "--code", "province-33", "--name", "Hệ thống tỉnh",
                 "--url", "https://hy.example", "--unit", "33", "--public-key", remote.as_json(),
                 stdout=io.StringIO())  # fmt: skip
    peer = Peer.objects.get(code="province-33")
    assert (peer.kinds_in, peer.kinds_out) == (
        ["statistics", "report_status"],
        ["bulletin", "withdrawal", "citizen_report"],
    )
    # the peer's summary says nothing of approving bulletins it never sends
    page = client.get(reverse("exchange-peers")).content.decode()
    item = page[
        page.index('data-peer="province-33"') : page.index(
            "</li>", page.index('data-peer="province-33"')
        )
    ]
    assert "quy trình duyệt" not in item.split("peer-keys")[0]
