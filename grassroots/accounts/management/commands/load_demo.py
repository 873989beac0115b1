"""`grassroots load_demo`: Hưng Yên units, roles and demo users (safe to run again)."""

from django.core.management.base import BaseCommand

from grassroots.accounts.demo import load_demo


class Command(BaseCommand):
    help = "Nạp dữ liệu mẫu Hưng Yên: đơn vị, vai trò, người dùng demo."

    def handle(self, *args, **opts):
        counts = load_demo()
        self.stdout.write(f"demo data: {counts}")
