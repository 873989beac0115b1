"""`grassroots exchange`: this system's key and its rotation, peers, and a push/pull/statistics
round by hand."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from grassroots.exchange import actions, keys, outbound, stats
from grassroots.exchange.models import OutboundMessage, Peer
from grassroots.units.models import Unit


class Command(BaseCommand):
    help = "Liên thông: khoá của hệ thống này, khai báo hệ thống khác, gửi/kéo tin ngay."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("key", help="in khoá liên thông (JSON) để trao cho hệ thống khác")
        rotate = sub.add_parser(
            "rotate-key",
            help="xoay khoá của hệ thống này: tạo khoá mới (vẫn ký bằng khoá cũ), in JSON khoá "
            "mới để trao cho các hệ thống liên thông; --activate: bắt đầu ký bằng khoá mới",
        )
        rotate.add_argument(
            "--activate",
            action="store_true",
            help="ký bằng khoá mới từ bây giờ (khi mọi hệ thống liên thông đã thêm khoá mới)",
        )
        add = sub.add_parser(
            "add-peer", help="khai báo (hoặc khai báo lại) một hệ thống liên thông"
        )
        add.add_argument("--code", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--url", required=True)
        add.add_argument("--unit", required=True, help="mã đơn vị: phạm vi của hệ thống đó")
        add.add_argument(
            "--public-key",
            required=True,
            help="khoá công khai base64, hoặc cả JSON lệnh `exchange key` của bên kia in ra",
        )
        add.add_argument("--kid", default="", help="mã khoá (không cần khi đưa cả JSON)")
        add.add_argument(
            "--kinds-in",
            default=None,
            help="loại tin nhận từ hệ thống đó; mặc định theo cấp: trung ương nhận statistics, "
            "report_status; tỉnh nhận bulletin, withdrawal, citizen_report",
        )
        add.add_argument(
            "--kinds-out", default=None, help="loại tin gửi cho hệ thống đó; mặc định theo cấp"
        )
        add.add_argument("--no-approval", action="store_true")
        sub.add_parser("push", help="gửi ngay các thông điệp đến hạn")
        sub.add_parser("pull", help="kéo tin từ các hệ thống liên thông")
        st = sub.add_parser("statistics", help="gửi số liệu của tháng")
        st.add_argument("--month", default=None)

    def handle(self, *args, action, **opts):
        if action == "key":
            self.stdout.write(json.dumps(keys.describe(keys.private_key())))
        elif action == "rotate-key":
            self._rotate(activate=opts["activate"])
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

    def _rotate(self, *, activate: bool) -> None:
        """Step 1 prints the new key's JSON on stdout (for the peers) and what to do next on
        stderr; step 2 (`--activate`) switches, re-signs what is still in the outbox and prints
        {"previous_kid", "kid", "resigned"}."""
        try:
            if not activate:
                staged = keys.stage_next()
                self.stdout.write(json.dumps(keys.describe(staged)))
                self.stderr.write(
                    "Khoá mới đã tạo; hệ thống vẫn ký bằng khoá "
                    f"{keys.key_id()}. Trao JSON trên cho từng hệ thống liên thông (họ thêm "
                    "khoá mới, giữ khoá cũ), rồi chạy `grassroots exchange rotate-key "
                    "--activate`."
                )
                return
            previous, kid = keys.activate_next()
        except keys.RotationError as exc:
            raise CommandError(str(exc)) from None
        resigned = outbound.resign_undelivered()
        pending = OutboundMessage.objects.filter(status="pending").count()
        self.stdout.write(json.dumps({"previous_kid": previous, "kid": kid, "resigned": resigned}))
        self.stderr.write(
            f"Đã ký bằng khoá {kid} từ bây giờ ({resigned} thông điệp chưa gửi được đã ký lại, "
            f"{pending} đang chờ gửi). Khi các hệ thống liên thông đã nhận được thông điệp ký "
            f"bằng khoá mới, họ thu hồi khoá cũ {previous}."
        )

    def _add_peer(self, opts) -> None:
        unit = Unit.objects.current().filter(code=opts["unit"]).first()
        if unit is None:
            raise CommandError(f"Không có đơn vị mã {opts['unit']}.")
        kinds_in, kinds_out = actions.default_kinds()
        if opts["kinds_in"] is not None:
            kinds_in = [k for k in opts["kinds_in"].split(",") if k]
        if opts["kinds_out"] is not None:
            kinds_out = [k for k in opts["kinds_out"].split(",") if k]
        try:
            peer = actions.add_peer(
                user=actions.COMMAND_LINE,
                code=opts["code"],
                name=opts["name"],
                url=opts["url"],
                unit=unit,
                public_key=opts["public_key"],
                kid=opts["kid"],
                kinds_in=kinds_in,
                kinds_out=kinds_out,
                bulletins_need_approval=not opts["no_approval"],
            )
        except ValidationError as exc:
            raise CommandError(
                " ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
            ) from None
        kid = peer.active_keys().first().kid
        self.stdout.write(
            json.dumps({"peer": peer.code, "kid": kid, "redeclared": peer.redeclared})
        )
