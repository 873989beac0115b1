"""`grassroots kpi_rebuild --tu 2026-01-01 --den 2026-12-31`: recompute the daily rollups."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grassroots.kpi import rollup


class Command(BaseCommand):
    help = "Tính lại bảng tổng hợp ngày của các chỉ số cho một khoảng ngày (mặc định: hôm qua)."

    def add_arguments(self, parser):
        parser.add_argument("--tu", help="ngày đầu, YYYY-MM-DD")
        parser.add_argument("--den", help="ngày cuối, YYYY-MM-DD (mặc định: bằng ngày đầu)")

    def handle(self, *args, tu=None, den=None, **options):
        yesterday = timezone.localdate() - timedelta(days=1)
        try:
            start = date.fromisoformat(tu) if tu else yesterday
            end = date.fromisoformat(den) if den else start
        except ValueError:
            raise CommandError("Ngày phải viết dạng YYYY-MM-DD, ví dụ 2026-03-01.") from None
        if end < start:
            raise CommandError("--den phải sau hoặc bằng --tu.")
        verbosity = options.get("verbosity", 1)
        n = rollup.rebuild(
            start, end, progress=(lambda d: self.stdout.write(f"{d:%d/%m/%Y}")) if verbosity > 1
            else None,
        )  # fmt: skip
        self.stdout.write(f"Đã tính lại {n} ngày, từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}.")
