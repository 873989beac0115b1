"""`grassroots load_demo`: Hưng Yên units, roles and demo users, and a few sample training and
plan records (safe to run again)."""

from django.core.management.base import BaseCommand

from grassroots.accounts.demo import load_demo


class Command(BaseCommand):
    help = "Nạp dữ liệu mẫu Hưng Yên: đơn vị, vai trò, người dùng demo."

    def handle(self, *args, **opts):
        counts = load_demo()
        from grassroots.kpi import demo as kpi_demo
        from grassroots.planning import demo as planning_demo
        from grassroots.training import demo as training_demo

        # Sample records of the plan (training, funding, e-board sites, an inspection, the
        # agencies that send a yearly report): only in
        # the demo instance, not in the test database `load_demo()` seeds.
        counts |= training_demo.load() | planning_demo.load() | kpi_demo.load()
        self.stdout.write(f"demo data: {counts}")
