"""The reading table: g2p-hamster's acronyms as a base, the project's table, operator overrides.

Overrides live in ``$GRASSROOTS_HOME/tts-abbreviations.json`` with the same sections as the
packaged ``abbreviations.json`` ("abbreviations", "document_types", "issuers", "units"); an
entry whose value is null or "" removes the default. The content app may later add an
admin-editable model; it would feed the same merge in ``load_table`` (see ``OVERRIDE_SOURCES``).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("abbreviations.json")
OVERRIDE_FILENAME = "tts-abbreviations.json"
SECTIONS = ("abbreviations", "document_types", "issuers", "units")

# g2p-hamster entries we do not take: ambiguous in bulletins, or foreign (months, company forms).
_HAMSTER_SKIP = {
    "TT", "ĐT", "CP", "BTC", "TS", "HN", "SG", "PV", "VCK", "HC", "MC", "LMHT", "KP", "JAN",
    "FEB", "MAR", "APR", "JUN", "JUL", "AUG", "SEP", "SEPT", "OCT", "NOV", "DEC", "INC", "LLC",
    "LTD", "CORP", "SLNA", "HAGL", "CAHN", "II", "III", "IV", "NDCP", "VTV", "P", "Q",
}  # fmt: skip
_ACRONYM = re.compile(r"^[A-ZĐ]{2,8}$")


def override_path() -> Path:
    """Where operators put their additions to the table."""
    home = getattr(settings, "GRASSROOTS", {}).get("HOME") or "."
    return Path(home) / OVERRIDE_FILENAME


def _hamster_base() -> dict[str, str]:
    """Upper-case acronyms from g2p-hamster's abbreviation list (a broad, general base)."""
    try:
        import g2p_hamster.t0.dicts as hamster_dicts
    except ImportError:  # the normaliser works without it, with the project table only
        return {}
    source = Path(hamster_dicts.DATA) / "abbrev_vi.tsv"
    try:
        with source.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t"))[1:]
    except OSError:
        return {}
    return {
        r[0]: r[1]
        for r in rows
        if len(r) >= 2 and _ACRONYM.match(r[0]) and r[0] not in _HAMSTER_SKIP and r[1]
    }


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable TTS table %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _overrides() -> list[dict]:
    """Override sources, lowest priority first. Today: the operator's JSON file."""
    return [_read_json(override_path())]


OVERRIDE_SOURCES = _overrides


def load_table() -> dict[str, dict[str, str]]:
    """The merged reading table: {section: {written form: reading}}."""
    path = override_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _load(str(path), stamp)


@lru_cache(maxsize=4)
def _load(path: str, stamp: int | None) -> dict[str, dict[str, str]]:
    defaults = _read_json(DEFAULT_FILE)
    table = {section: dict(defaults.get(section, {})) for section in SECTIONS}
    table["abbreviations"] = {**_hamster_base(), **table["abbreviations"]}
    for source in OVERRIDE_SOURCES():
        for section in SECTIONS:
            for key, value in (source.get(section) or {}).items():
                if value:
                    table[section][key] = str(value)
                else:
                    table[section].pop(key, None)
    return table
