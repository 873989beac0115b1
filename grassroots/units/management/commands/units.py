"""`grassroots units generate|load|import|boundaries`: build, load and correct the unit tree,
and load real unit boundaries (GeoJSON) for CAP areas."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grassroots.units import importer, seed


class Command(BaseCommand):
    help = "Tạo dữ liệu gốc từ vietnamadminunits, nạp nó, hoặc nhập danh sách đơn vị CSV/XLSX."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="write the seed JSON from the registry package")
        gen.add_argument("--province", default=settings.GRASSROOTS["PROVINCE_CODE"])
        gen.add_argument("-o", "--output", type=Path)
        load = sub.add_parser("load", help="load a seed JSON (idempotent)")
        load.add_argument("--province", default=settings.GRASSROOTS["PROVINCE_CODE"])
        load.add_argument("--file", type=Path)
        imp = sub.add_parser("import", help="import units from CSV or XLSX (all or nothing)")
        imp.add_argument("file", type=Path)
        bnd = sub.add_parser(
            "boundaries", help="load unit boundaries (GeoJSON FeatureCollection, all or nothing)"
        )
        bnd.add_argument("file", type=Path)
        bnd.add_argument("--code-property", default="code", help="property holding the unit code")
        bnd.add_argument("--skip-unknown", action="store_true", help="ignore codes not loaded")

    def handle(self, *args, action, **opts):
        if action == "generate":
            path = seed.write(opts["province"], opts.get("output"))
            self.stdout.write(f"wrote {path}")
        elif action == "load":
            path = opts.get("file") or seed.seed_path(opts["province"])
            if not path.exists():
                raise CommandError(
                    f"Không có tệp dữ liệu {path}; chạy 'grassroots units generate'."
                )
            counts = seed.load(path)
            self.stdout.write(f"units: {counts}")
        elif action == "boundaries":
            from grassroots.units import boundaries

            try:
                loaded = boundaries.load(
                    opts["file"],
                    code_property=opts["code_property"],
                    skip_unknown=opts["skip_unknown"],
                )
            except (OSError, boundaries.BoundaryError) as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"boundaries loaded: {loaded.loaded}; repaired: {len(loaded.repaired)}; "
                f"skipped (unknown codes): {len(loaded.skipped)}"
            )
        else:
            result = importer.import_units(opts["file"])
            if result.errors:
                for err in result.errors:
                    self.stderr.write(err)
                raise CommandError(f"Không nhập gì: {len(result.errors)} lỗi.")
            self.stdout.write(f"created {result.created}, updated {result.updated}")
