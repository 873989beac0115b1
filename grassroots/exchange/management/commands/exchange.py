"""`grassroots exchange`: this system's key, peers, and a push/pull/statistics round by hand."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from grassroots.core import audit
from grassroots.core.models import ChangeAction
from grassroots.exchange import actions, keys, outbound, stats
from grassroots.exchange.choices import Kind
from grassroots.exchange.models import Peer, PeerKey
from grassroots.units.models import Unit


class Command(BaseCommand):
    help = "Liên thông: khoá của hệ thống này, khai báo hệ thống khác, gửi/kéo tin ngay."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("key", help="in khoá liên thông (JSON) để trao cho hệ thống khác")
        add = sub.add_parser("add-peer", help="khai báo một hệ thống liên thông")
        add.add_argument("--code", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--url", required=True)
        add.add_argument("--unit", required=True, help="mã đơn vị: phạm vi của hệ thống đó")
        add.add_argument("--public-key", required=True)
        add.add_argument("--kinds-in", default=",".join(Kind.values))
        add.add_argument("--kinds-out", default=",".join(Kind.values))
        add.add_argument("--no-approval", action="store_true")
        sub.add_parser("push", help="gửi ngay các thông điệp đến hạn")
        sub.add_parser("pull", help="kéo tin từ các hệ thống liên thông")
        st = sub.add_parser("statistics", help="gửi số liệu của tháng")
        st.add_argument("--month", default=None)

    def handle(self, *args, action, **opts):
        if action == "key":
            out = {
                "source": keys.own_id(),
                "kid": keys.key_id(),
                "public_key": keys.public_key_b64(),
            }
            self.stdout.write(json.dumps(out))
        elif action == "add-peer":
            self._add_peer(opts)
        elif action == "push":
            self.stdout.write(json.dumps({"sent": outbound.push_due()}))
        elif action == "pull":
            result = {}
            for peer in Peer.objects.filter(active=True):
                result[peer.code] = outbound.pull(peer)
            self.stdout.write(json.dumps(result))
        elif action == "statistics":
            self.stdout.write(json.dumps({"queued": stats.send(month=opts["month"])}))

    @transaction.atomic
    def _add_peer(self, opts) -> None:
        unit = Unit.objects.current().filter(code=opts["unit"]).first()
        if unit is None:
            raise CommandError(f"Không có đơn vị mã {opts['unit']}.")
        key, kid = actions._public_key(opts["public_key"])
        peer, created = Peer.objects.update_or_create(
            code=opts["code"],
            defaults={
                "name": opts["name"],
                "url": opts["url"],
                "unit": unit,
                "kinds_in": [k for k in opts["kinds_in"].split(",") if k in Kind.values],
                "kinds_out": [k for k in opts["kinds_out"].split(",") if k in Kind.values],
                "bulletins_need_approval": not opts["no_approval"],
            },
        )
        PeerKey.objects.get_or_create(peer=peer, kid=kid, defaults={"public_key": key})
        audit.record(peer, ChangeAction.CREATE if created else ChangeAction.UPDATE)
        self.stdout.write(json.dumps({"peer": peer.code, "kid": kid}))
