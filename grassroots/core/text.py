"""Text as it enters the platform: one cleaning for every entry point, and legacy encodings.

Every text that comes in (console forms and query strings, /api/v1 JSON bodies, Open311,
spreadsheet imports, MQTT messages) goes through `clean_text` once, at the boundary where it
enters: Unicode NFC (so "Xã" typed as "X" + "a" + two combining marks equals "Xã"), line ends as
"\\n", and no control characters (C0 and C1, except tab and newline), which no person means to
type, which break every XML the platform writes and which a terminal would obey; nor invisible
format characters (zero-width space, bidi overrides; `_FORMAT`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 except \t and \n, DEL, C1; and the code points XML 1.0 forbids (surrogates, U+FFFE/FFFF).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# Invisible format characters (Unicode category Cf) no one types on purpose: zero-width space
# U+200B, word joiner U+2060, the byte-order mark U+FEFF inside text, and the
# bidirectional marks, embeddings, overrides and isolates (U+200E/F, U+202A–202E, U+2066–2069),
# which make a text show other than it reads ("Trojan Source", CVE-2021-42574). They make a
# title look empty or two equal names differ. Kept: zero-width (non-)joiner U+200C/U+200D,
# which emoji sequences and some scripts need, and the soft hyphen U+00AD, which is the letter
# "ư" of TCVN3 text still to be decoded (from_legacy).
_FORMAT = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def clean_text(value: str) -> str:
    """NFC, "\\r\\n" and "\\r" as "\\n", control characters and invisible format characters
    (zero-width space, bidi overrides, …) removed; nothing else changes."""
    if not value:
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _FORMAT.sub("", _CONTROL.sub("", value)))


def clean_data(value: Any) -> Any:
    """`clean_text` on every string of a parsed JSON value (dict keys too)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_data(k): clean_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    return value


def xml_text(value: str) -> str:
    """Text an XML 1.0 document may hold: rows stored before the cleaning still serialise."""
    return _CONTROL.sub("", value)


# --- legacy Vietnamese encodings -----------------------------------------------------------------
# Files typed with the old 8-bit fonts (.VnTime = TCVN3/ABC, VNI-Times = VNI Windows) and opened
# as if they were Unicode show Latin-1 letters in place of Vietnamese ones: "X· Hßa Héi" is
# TCVN3 for "Xã Hòa Hội", "Xaõ Hoøa Hoäi" is VNI for the same. The tables are the published
# code charts of TCVN 5712:1993 (ABC) and of VNI Windows.

_TCVN3 = dict(
    zip(
        "¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ",
        "ĂÂÊÔƠƯĐăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
        strict=True,
    )
)

# VNI: a base letter followed by a mark letter; a few letters stand alone.
_VNI_MARKS = {
    "ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323",
    "â": "\u0302", "á": "\u0302\u0301", "à": "\u0302\u0300", "å": "\u0302\u0309",
    "ã": "\u0302\u0303", "ä": "\u0302\u0323",
    "ê": "\u0306", "é": "\u0306\u0301", "è": "\u0306\u0300", "ú": "\u0306\u0309",
    "ü": "\u0306\u0303", "ë": "\u0306\u0323",
}  # fmt: skip
_VNI_MARKS |= {k.upper(): v for k, v in _VNI_MARKS.items()}
_VNI_ALONE = {
    "ô": "ơ", "ö": "ư", "ñ": "đ", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
    "Ô": "Ơ", "Ö": "Ư", "Ñ": "Đ", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ",
}  # fmt: skip
_VNI_PAIR = re.compile("([aeiouyAEIOUYôöÔÖ])([" + re.escape("".join(_VNI_MARKS)) + "])")

# Latin-1 letters Vietnamese uses, and signs Unicode text uses that neither old font maps
# ("30°C", "m²"); any other Latin-1 letter or sign is a legacy sign.
_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ") | set("°±²³´×")
_FOREIGN = re.compile("[" + "".join(c for c in map(chr, range(0xA1, 0x100))
                                    if c not in _VIETNAMESE_LATIN1) + "]")  # fmt: skip
_UNICODE_ONLY = re.compile("[ĂăĐđĨĩŨũƠơƯư\u1ea0-\u1ef9]")


class LegacyEncodingError(ValueError):
    """Text in a legacy encoding that could not be converted with confidence."""


def _from_vni(text: str) -> str:
    out = _VNI_PAIR.sub(lambda m: _VNI_ALONE.get(m.group(1), m.group(1)) + _VNI_MARKS[m.group(2)],
                        text)  # fmt: skip
    out = "".join(_VNI_ALONE.get(c, c) for c in out)
    return unicodedata.normalize("NFC", out)


def file_encoding(texts) -> str | None:
    """The legacy encoding most cells of a file show, if any."""
    seen = [k for k in map(legacy_encoding, texts) if k in ("VNI", "TCVN3")]
    return max(set(seen), key=seen.count) if seen else None


def legacy_encoding(text: str) -> str | None:
    """ "TCVN3" or "VNI" when the text looks typed in that old font, else None."""
    if not text or not _FOREIGN.search(text) or _UNICODE_ONLY.search(text):
        return None
    rest = _VNI_PAIR.sub("", text)
    if not _FOREIGN.search("".join(c for c in rest if c not in _VNI_ALONE)):
        return "VNI"
    if all(c in _TCVN3 for c in _FOREIGN.findall(text)):
        return "TCVN3"
    return "?"


def from_legacy(text: str, kind: str | None = None) -> str:
    """The Unicode text of a TCVN3/VNI string; unchanged when it is not one.

    `kind` is the encoding of the whole file when known: a short cell ("Xaõ") can only be told
    apart from Unicode by the file it comes from. Raises LegacyEncodingError when the text has
    legacy signs that neither table explains.
    """
    own = legacy_encoding(text)
    if own is None and kind in ("VNI", "TCVN3") and text.isascii() is False:
        own = None if _UNICODE_ONLY.search(text) else kind
    kind = own
    if kind is None:
        return text
    if kind == "VNI":
        return _from_vni(text)
    if kind == "TCVN3":
        return "".join(_TCVN3.get(c, c) for c in text)
    raise LegacyEncodingError(
        f"'{text}' có vẻ được gõ bằng bảng mã cũ (TCVN3/VNI) mà không chuyển được; hãy chuyển "
        "tệp sang Unicode (ví dụ bằng công cụ chuyển mã của Unikey) rồi nhập lại."
    )


# Vietnamese alphabetical order (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y; the
# Latin letters Vietnamese does not use sit where Latin puts them), tones secondary, in the
# dictionary order: none, huyền, sắc, hỏi, ngã, nặng.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {c: i for i, c in enumerate(_ALPHABET)}
_MODIFIERS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư)
_TONES = {"\u0300": 1, "\u0301": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}


def vietnamese_key(value: str) -> tuple:
    """A sort key putting names in Vietnamese alphabetical order: "Ái Quốc" < "An Bình" <
    "Đông" < "Yên". Letters first (đ after d, ă and â after a), then tones, then the text."""
    primary, tones = [], []
    base = ""
    for ch in unicodedata.normalize("NFD", (value or "").lower()) + "\0":
        if ch in _MODIFIERS:
            base += ch
            continue
        if ch in _TONES:
            tones.append(_TONES[ch])
            continue
        if base:
            letter = unicodedata.normalize("NFC", base)
            if letter in _LETTER_RANK:
                primary.append((2, _LETTER_RANK[letter]))
            elif letter.isdigit():
                primary.append((1, int(letter)))
            elif letter.isspace():
                primary.append((0, 0))
            else:
                primary.append((3, ord(letter[0])))
            if len(tones) < len(primary):
                tones.append(0)
        base = ch
    return (tuple(primary), tuple(tones), value)
