"""Text as it enters: one cleaning (NFC, no control characters), legacy encodings, dates."""

import datetime as dt
import unicodedata

import pytest

from grassroots.core.dates import VIETNAM, DateParseError, parse_instant, parse_when
from grassroots.core.testing import call
from grassroots.core.text import (
    LegacyEncodingError,
    clean_data,
    clean_text,
    from_legacy,
    legacy_encoding,
)

NFD_XA = unicodedata.normalize("NFD", "Xã")


def test_clean_text_drops_c0_c1_keeps_tab_newline_and_nfc():
    assert NFD_XA != "Xã" and clean_text(NFD_XA) == "Xã"
    assert clean_text("a\u000bb\u001bc\u000cd\u0085e\u009ff\u007fg") == "abcdefg"
    assert clean_text("cột\tmột\r\ndòng hai\rba") == "cột\tmột\ndòng hai\nba"
    assert clean_data({"k\u0001": ["x\u0002", 1, None, {"y": NFD_XA}]}) == {
        "k": ["x", 1, None, {"y": "Xã"}]
    }


def test_clean_text_drops_invisible_format_characters():
    """A title of spaces and a zero-width space is empty once cleaned; bidi overrides that make
    a text show other than it reads are gone; joiners (emoji) and the soft hyphen (TCVN3 "ư",
    still to be decoded) stay."""
    assert clean_text("  \u200b ").strip() == ""
    assert clean_text("\ufeffLoa\u2060 xã\u200e\u200f") == "Loa xã"
    assert clean_text("tên\u202etxt.exe\u202c\u2066a\u2069") == "têntxt.exea"
    assert clean_text("👩\u200d🌾 và ZW\u200cNJ") == "👩\u200d🌾 và ZW\u200cNJ"
    assert clean_text("Ph\xadêng") == "Ph\xadêng"
    assert clean_data({"title": "\u200b"}) == {"title": ""}


@pytest.mark.parametrize(
    ("raw", "kind", "text"),
    [
        ("X· Hßa Héi", "TCVN3", "Xã Hòa Hội"),
        ("Ph\xadêng Hång Ch©u", "TCVN3", "Phường Hồng Châu"),
        ("Xaõ Hoøa Hoäi", "VNI", "Xã Hòa Hội"),
        ("Phöôøng Ñoàng Thaùp", "VNI", "Phường Đồng Tháp"),
        ("Xã Hòa Hội", None, "Xã Hòa Hội"),
        ("Phường Phố Hiến", None, "Phường Phố Hiến"),
        ("Café Hà Nội", None, "Café Hà Nội"),
        ("Loa 30° góc 2 m²", None, "Loa 30° góc 2 m²"),
    ],
)
def test_legacy_encodings_are_recognised_and_converted(raw, kind, text):
    assert legacy_encoding(raw) == kind
    assert from_legacy(raw) == text


def test_unexplained_legacy_signs_are_refused_in_vietnamese():
    with pytest.raises(LegacyEncodingError, match="bảng mã cũ"):
        from_legacy("X· H\xdfa ¿")


@pytest.mark.parametrize(
    "value", ["2026-02-30T00:00:00Z", "2026-13-01", "2026-11-31T23:59:59+07:00", "31/12/2026", ""]
)
def test_impossible_or_unreadable_dates_are_errors_that_say_what_to_write(value):
    with pytest.raises(DateParseError, match="2026-03-01T06:00:00"):
        parse_when(value)


def test_dates_without_offset_are_vietnam_time():
    assert parse_when("2027-03-05") == dt.date(2027, 3, 5)
    naive = parse_when("2027-03-02T06:00:00")
    assert naive == dt.datetime(2027, 3, 1, 23, 0, tzinfo=dt.UTC)
    assert parse_when("2027-03-02T06:00:00Z") == dt.datetime(2027, 3, 2, 6, tzinfo=dt.UTC)
    assert parse_instant("2027-03-05") == dt.datetime(2027, 3, 5, tzinfo=VIETNAM)


@pytest.mark.django_db
def test_api_json_bodies_are_cleaned_at_the_parser(client, users):
    response = call(
        client,
        "post",
        "/api/v1/bulletins",
        user=users["editor"],
        body={"unit_code": "33", "title": f"{NFD_XA}\u000b Tân\u001b Hưng", "body": "<p>a</p>"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Xã Tân Hưng"
