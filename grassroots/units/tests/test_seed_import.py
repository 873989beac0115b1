import pytest
from openpyxl import Workbook

from grassroots.core.models import ObjectChange
from grassroots.units import importer, seed
from grassroots.units.models import Unit, UnitChange
from grassroots.units.text import fold


def test_fold_vietnamese():
    assert fold("Phố Hiến") == "pho hien"
    assert fold("  Đông   Hưng ") == "dong hung"


def test_generated_seed_matches_committed_file(tmp_path):
    out = seed.write("33", tmp_path / "s.json")
    import json

    fresh, committed = json.loads(out.read_text()), json.loads(seed.seed_path("33").read_text())
    assert fresh["units"] == committed["units"] and fresh["changes"] == committed["changes"]
    assert "vietnamadminunits" in committed["source"]


@pytest.mark.django_db
def test_seed_load_is_idempotent(demo):
    before = (Unit.objects.count(), UnitChange.objects.count())
    counts = seed.load(seed.seed_path("33"))
    assert counts == {"created": 0, "updated": 0, "links": 0}
    assert (Unit.objects.count(), UnitChange.objects.count()) == before
    current = Unit.objects.filter(parent__code="33", valid_to__isnull=True)
    assert current.count() == 104
    # History: former units stay, linked to their successors.
    old_ty = Unit.objects.get(code="34", valid_to__isnull=False)
    assert old_ty.name == "Tỉnh Thái Bình"
    assert UnitChange.objects.filter(predecessor__parent__parent=old_ty).exists()


def _xlsx(path, rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


@pytest.mark.django_db
def test_import_xlsx_creates_and_updates(demo, tmp_path):
    path = _xlsx(
        tmp_path / "u.xlsx",
        [
            ["code", "name", "kind", "parent_code", "latitude", "longitude"],
            ["99001", "Xã Thử Nghiệm", "Xã", "33", "20.6", "106.1"],
            ["11953", "Phường Phố Hiến", "phường", "33", "20.66", "106.07"],
        ],
    )
    result = importer.import_units(path)
    assert result.errors == [] and (result.created, result.updated) == (1, 1)
    new = Unit.objects.get(code="99001")
    assert new.parent.code == "33" and new.kind == "xa"
    assert ObjectChange.objects.filter(object_id=str(new.pk)).exists()


@pytest.mark.django_db
def test_import_with_errors_saves_nothing(demo, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(
        "code,name,kind,parent_code,latitude\n"
        "99002,Xã Tốt,xa,33,20.5\n"
        "99003,,xa,33,20.5\n"
        "99004,Xã Sai Loại,lang,33,\n"
        "99005,Xã Mồ Côi,xa,77777,\n"
        "99002,Xã Lặp,xa,33,500\n",
        encoding="utf-8",
    )
    result = importer.import_units(path)
    text = "\n".join(result.errors)
    assert "Dòng 3" in text and "Dòng 4" in text and "Dòng 5" in text and "Dòng 6" in text
    assert "bị lặp" in text and "latitude" in text
    assert not Unit.objects.filter(code__in=["99002", "99003"]).exists()


@pytest.mark.django_db
def test_import_rejects_missing_columns(demo, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("ma,ten\n1,2\n", encoding="utf-8")
    assert "Thiếu cột" in importer.import_units(path).errors[0]
