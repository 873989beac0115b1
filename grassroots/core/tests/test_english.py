"""The English console: the catalogue is complete and compiled, and console pages read in
English show no Vietnamese except data (names of units, people, stations, categories)."""

import gettext
import importlib.util
import re
from html import unescape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "grassroots" / "locale" / "en" / "LC_MESSAGES" / "django.po"
# Letters only Vietnamese uses (with their tone marks); plain ASCII words are English.
VIETNAMESE = re.compile(
    r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE
)


def _script():
    spec = importlib.util.spec_from_file_location(
        "translations_en", ROOT / "scripts" / "translations_en.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_has_no_untranslated_or_fuzzy_entry_and_is_compiled():
    script = _script()
    assert script.untranslated(str(PO)) == []
    with open(PO.with_suffix(".mo"), "rb") as f:
        compiled = gettext.GNUTranslations(f)
    msgids = re.findall(r'^msgid "(.+)"$', PO.read_text(encoding="utf-8"), re.MULTILINE)
    stale = [m for m in msgids if m.replace('\\"', '"') not in compiled._catalog  # noqa: SLF001
             and (m.replace('\\"', '"'), 0) not in compiled._catalog]  # fmt: skip
    assert not stale, f"the .mo is older than the .po (run compilemessages): {stale[:5]}"


def _data_strings() -> list[str]:
    """Names and texts that are data, not interface: they stay as people wrote them."""
    from django.apps import apps

    fields = {
        "units.Unit": ["name"],
        "accounts.User": ["full_name"],
        "accounts.Role": ["name"],
        "broadcast.Station": ["name"],
        "broadcast.ScheduleItem": ["title"],
        "content.Bulletin": ["title", "body_text"],
        "content.Category": ["name"],
        "feedback.Category": ["name", "description"],
        "feedback.Holiday": ["name"],
        "signage.Playlist": ["name"],
    }
    names: list[str] = []
    for model, columns in fields.items():
        for column in columns:
            names += apps.get_model(model).objects.values_list(column, flat=True)
    return sorted({n for n in names if n}, key=len, reverse=True)


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<option\b[^>]*>.*?</option>", " ", html, flags=re.S | re.I)  # unit lists
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "admin"])
def test_console_pages_in_english_show_no_vietnamese(client, users, role):
    from datetime import datetime, time, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from grassroots.broadcast import actions as broadcast
    from grassroots.broadcast.engine import TZ
    from grassroots.content.tests.conftest import make_bulletin
    from grassroots.core.testing import COMMUNE_A, unit

    # Something on every page: a shared must-air bulletin, a daily relay on Phố Hiến's station.
    bulletin = make_bulletin(
        "33", status="published", title="Tin thử", priority="priority", targets=[COMMUNE_A]
    )
    station = broadcast.ensure_station(unit(COMMUNE_A))
    tomorrow = timezone.localdate() + timedelta(days=1)
    item, _proposals = broadcast.create_item(
        user=users["operator"],
        unit=station.unit,
        data=broadcast.ItemData(
            title="Tiếp sóng thử",
            priority="normal",
            kind="relay",
            starts_at=datetime.combine(tomorrow, time(8), TZ),
            duration_seconds=1800,
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            relay_type="fm",
            relay_frequency=Decimal("99.5"),
        ),
    )
    client.force_login(users[role])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    pages = ["/", *dict.fromkeys(re.findall(r'data-nav[^>]*href="([^"]+)"', home))]
    pages += re.findall(r'href="([^"]+)"[^>]*data-nav', home)
    day = f"/dai-truyen-thanh/{station.pk}/"
    pages += [f"/ban-tin/{bulletin.pk}/", f"{day}?ngay={tomorrow:%Y-%m-%d}", f"{day}tuan/"]
    pages += [f"{day}lich/{item.pk}/", "/dai-truyen-thanh/bat-buoc-phat/", f"{day}quy-dinh/"]
    data = _data_strings()
    found = {}
    for path in dict.fromkeys(pages):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        if response.status_code == 403:
            continue  # the role may not open it (the admin may not schedule for a commune)
        assert response.status_code == 200, path
        text = _visible_text(response.content.decode())
        for name in data:
            text = text.replace(name, " ")
        # "đ" after an amount is the đồng's sign (like "₫"), not a Vietnamese word
        words = {w for w in re.findall(r"\S+", text) if VIETNAMESE.search(w) and w != "đ"}
        if words:
            found[path] = sorted(words)[:12]
    assert len(pages) > 8
    assert not found, found
