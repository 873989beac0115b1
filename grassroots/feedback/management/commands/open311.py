"""`grassroots open311 create-key NAME | list | revoke PREFIX`: Open311 api_keys."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from grassroots.feedback import actions
from grassroots.feedback.models import Open311Key


class Command(BaseCommand):
    help = "Cấp, liệt kê, thu hồi khoá Open311 (api_key)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-key", help="issue a key and print it (shown once)")
        create.add_argument("name")
        sub.add_parser("list", help="list keys")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **opts):
        if action == "create-key":
            try:
                _, raw = actions.issue_open311_key(name=opts["name"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(raw)
        elif action == "list":
            for key in Open311Key.objects.all():
                state = "revoked" if key.revoked_at else "active"
                self.stdout.write(f"{key.prefix}\t{state}\t{key.created_at:%Y-%m-%d}\t{key.name}")
        else:
            key = Open311Key.objects.filter(
                prefix=opts["prefix"][:12], revoked_at__isnull=True
            ).first()
            if key is None:
                raise CommandError(f"Không có khoá đang dùng với tiền tố {opts['prefix']}.")
            actions.revoke_open311_key(key=key)
            self.stdout.write(f"revoked {key.prefix} ({key.name})")
