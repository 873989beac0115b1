"""Vietnamese text normaliser: what officers write -> what a loudspeaker should say.

Rules run in a fixed order, most specific first, so that a decree number is not read as a date
and a phone number is not read as money: document symbols, phone numbers, dates, times, money,
percentages and units, ordinals and Roman numerals, the abbreviation table, remaining numbers,
unknown acronyms (spelled with Vietnamese letter names). Whatever is still not plain words
(e-mail addresses, web addresses, stray symbols) goes through g2p-hamster's normaliser.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .numbers import (
    read_decimal,
    read_digits,
    read_int,
    read_month,
    read_ordinal,
    roman_to_int,
)
from .table import load_table

W = r"0-9A-Za-zÀ-ỹĐđ"  # a "word character" for our boundaries (digits and Vietnamese letters)
NB = rf"(?<![{W}])"  # not preceded by a word character
NA = rf"(?![{W}])"  # not followed by a word character

LETTER_NAMES = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e",
    "Ê": "ê", "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ",
    "M": "em mờ", "N": "en nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét", "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép",
    "X": "ích", "Y": "i dài", "Z": "dét",
}  # fmt: skip


def spell(acronym: str) -> str:
    """Letter by letter with Vietnamese letter names: "ATTP" -> "a tê tê pê"."""
    return " ".join(LETTER_NAMES.get(c.upper(), c) for c in acronym if c.isalnum())


def _words_before(text: str, end: int, count: int) -> str:
    return " ".join(text[:end].split()[-count:]).lower()


class _Normaliser:
    def __init__(self, table: dict[str, dict[str, str]], dialect: str):
        self.t = table
        self.dialect = dialect

    def num(self, digits: str) -> str:
        return read_int(int(digits), self.dialect)

    # --- document symbols: 49/2024/NĐ-CP, 123/QĐ-UBND, 16/2023/QH15, 18-NQ/TW -------------
    # Read as a person reads them: "[kind] số N [năm YYYY] [của issuer]", never "trên" for the
    # slash. The kind is said once (not again after "Nghị định" or "NĐ", nor when "số" shows
    # the writer named the document already); the issuer is left out when "của ..." follows.
    def documents(self, text: str) -> str:
        state = re.compile(
            NB + r"(?:(số|Số)\s+)?(\d{1,5})/(?:(\d{4})/)?"
            r"([A-ZĐ][A-Za-zĐđ]{0,9}\d{0,2}(?:[-&][A-ZĐ][A-Za-zĐđ0-9]{0,12})*)" + NA
        )
        party = re.compile(
            NB
            + r"(?:(số|Số)\s+)?(\d{1,5})-([A-ZĐ][A-Za-zĐđ]{0,4})/([A-ZĐ][A-Za-zĐđ0-9]{0,12})"
            + NA
        )
        types, issuers = self.t["document_types"], self.t["issuers"]

        def state_repl(m: re.Match) -> str:
            parts = re.split(r"[-&]", m.group(4))
            head = re.sub(r"\d+$", "", parts[0])
            if len(parts) == 1 and not (parts[0] in issuers or head in issuers or head in types):
                return m.group(0)  # "19/19", "24/7", "3/5 thôn": not a document
            if len(parts) == 1:
                kind = types.get(head, "")
                return self._say(text, m, kind, head, self._issuer(parts[0]), m.group(3))
            kind = types.get(parts[0])
            if kind:
                issuer = " và ".join(self._issuer(p) for p in parts[1:])
            else:  # 345/UBND-VP: the office of the issuer
                kind, issuer = "", " ".join(self._issuer(p) for p in parts)
            return self._say(text, m, kind, parts[0], issuer, m.group(3))

        def party_repl(m: re.Match) -> str:
            kind = types.get(m.group(3))
            if kind is None:
                return m.group(0)
            return self._say(text, m, kind, m.group(3), self._issuer(m.group(4)), None)

        text = party.sub(party_repl, text)
        return state.sub(state_repl, text)

    def _say(self, text: str, m: re.Match, kind: str, abbr: str, issuer: str, year) -> str:
        words = []
        said = m.group(1) is not None  # "Luật Đất đai số 31/2024/QH15": named already
        before = _words_before(text, m.start(), len(kind.split()) if kind else 0)
        last = text[: m.start()].split()[-1:] or [""]
        if kind and not said and before != kind.lower() and last[0] != abbr:
            words.append(kind)
        words += ["số", self.num(m.group(2))]
        if year:
            words += ["năm", self.num(year)]
        after = text[m.end() :]
        after = re.sub(r"^\s*,?\s*(?:ngày\s+\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}\s*,?\s*)?", "", after)
        if issuer and not after.lower().startswith("của "):
            words += ["của", issuer]
        return " ".join(words)

    def _issuer(self, part: str) -> str:
        issuers = self.t["issuers"]
        if part in issuers:
            return issuers[part]
        m = re.fullmatch(r"([A-ZĐa-z]+?)(\d+)", part)
        if m and m.group(1) in issuers:  # QH15 -> quốc hội khóa mười lăm
            return f"{issuers[m.group(1)]} khóa {self.num(m.group(2))}"
        return self.t["abbreviations"].get(part) or spell(part)

    # --- roads and virus strains: QL5, ĐT.376, A/H5N1 -----------------------------------------
    def codes(self, text: str) -> str:
        roads = {"QL": "quốc lộ", "ĐT": "đường tỉnh", "ĐH": "đường huyện", "TL": "tỉnh lộ"}
        text = re.sub(
            NB + r"(QL|ĐT|ĐH|TL)\.?\s?(\d{1,4})([A-Z]?)" + NA,
            lambda m: (
                f"{roads[m.group(1)]} {self.num(m.group(2))}"
                + (f" {spell(m.group(3))}" if m.group(3) else "")
            ),
            text,
        )
        text = re.sub(
            r"(?i)(hạng\s+)([A-F])(\d?)" + NA,
            lambda m: (
                m.group(1) + spell(m.group(2)) + (f" {self.num(m.group(3))}" if m.group(3) else "")
            ),
            text,
        )
        return re.sub(
            NB + r"(?:(A)/)?H(\d{1,2})N(\d{1,2})" + NA,
            lambda m: (
                ("a " if m.group(1) else "")
                + f"hát {self.num(m.group(2))} en {self.num(m.group(3))}"
            ),
            text,
        )

    # --- phone numbers: 0221.3862.456, 0912 345 678, +84 912 345 678, 1900 1234 -------------
    def phones(self, text: str) -> str:
        pattern = re.compile(r"(?<![\d.,])(\+84|0|1[89]00)([\s.\-]?\d){6,10}(?!\d|[.,]\d)")

        def repl(m: re.Match) -> str:
            raw = m.group(0)
            digits = re.sub(r"\D", "", raw)
            if raw.startswith(("1800", "1900")):
                if len(digits) not in (8, 10):
                    return raw
            elif (
                not 9 <= len(digits.replace("84", "0", 1) if raw.startswith("+") else digits) <= 11
            ):
                return raw
            groups = re.split(r"[\s.\-]+", raw.lstrip("+"))
            if len(groups) == 1:  # no separators: group the way people say them
                d = groups[0]
                groups = [d[:4], d[4:7], d[7:]] if len(d) == 10 else [d[:4], d[4:8], d[8:]]
            spoken = ", ".join(read_digits(g) for g in groups if g)
            return ("cộng " if raw.startswith("+") else "") + spoken

        # Hotlines 1800/1900 + 4 or 6 digits, with or without a separator: digit by digit.
        hotline = re.compile(
            r"(?<![\d.,])(1[89]00)([\s.\-]?)(\d{2}[\s.\-]?\d{2}(?:[\s.\-]?\d{2})?)(?!\d|[.,]\d)"
        )

        def hot(m: re.Match) -> str:
            if m.group(2) == "-" and re.fullmatch(r"1[89]\d\d|20\d\d", m.group(3)):
                return m.group(0)  # "1900-2000": years, not a hotline
            return f"{read_digits(m.group(1))}, {read_digits(m.group(3))}"

        text = hotline.sub(hot, text)
        text = pattern.sub(repl, text)

        # Emergency and short hotlines are said digit by digit: "gọi 114" -> "gọi một một bốn",
        # also a few words after the word that announces them ("tổng đài ... trẻ em 111").
        def short(m: re.Match) -> str:
            before = _words_before(text, m.start(), 8)
            if re.search(r"gọi|số|đường dây nóng|hotline|tổng đài|điện thoại", before):
                return read_digits(m.group(1))
            return m.group(0)

        return re.sub(NB + r"(11[1-9]|1022)" + NA, short, text)

    # --- dates: 12/3/2025, 15-17/3/2025, ngày 8/3, tháng 3/2025 ------------------------------
    def dates(self, text: str) -> str:
        def valid(d: int, mth: int) -> bool:
            return 1 <= d <= 31 and 1 <= mth <= 12

        def prefix(text_before: str) -> str:
            return "" if text_before.lower().endswith(("ngày", "ngày mùng", "mùng")) else "ngày "

        def year(y: str | None) -> str:
            return f" năm {self.num(y)}" if y else ""

        # "Quý IV/2025", "quý 2/2025": the quarter of a year.
        text = re.sub(
            r"(?i)(quý\s+)([IV]{1,3}|[1-4])\s*/\s*(\d{4})" + NA,
            lambda m: (
                f"{m.group(1)}{self.num(str(roman_to_int(m.group(2)) or m.group(2)))}"
                f" năm {self.num(m.group(3))}"
                if (roman_to_int(m.group(2)) or m.group(2).isdigit())
                else m.group(0)
            ),
            text,
        )
        rng = re.compile(
            NB + r"(\d{1,2})(?:[/.](\d{1,2}))?\s*[-–]\s*(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}))?"
            r"(?![\d/])"
        )

        def rng_repl(m: re.Match) -> str:
            d1, d2, mth = int(m.group(1)), int(m.group(3)), int(m.group(4))
            m1 = int(m.group(2)) if m.group(2) else mth
            if not (valid(d1, m1) and valid(d2, mth)):
                return m.group(0)
            head = prefix(text[: m.start()].rstrip())
            first = f"{head}{self.num(m.group(1))}"
            if m.group(2):  # "18/09 - 19/09/2026": each day with its month
                first += f" tháng {read_month(m1)}"
            return (
                f"{first} đến ngày {self.num(m.group(3))} tháng {read_month(mth)}{year(m.group(5))}"
            )

        text = rng.sub(rng_repl, text)
        full = re.compile(NB + r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})" + NA)

        def full_repl(m: re.Match) -> str:
            d, mth = int(m.group(1)), int(m.group(3))
            if not valid(d, mth):
                return m.group(0)
            head = prefix(m.string[: m.start()].rstrip())
            return f"{head}{self.num(m.group(1))} tháng {read_month(mth)}{year(m.group(4))}"

        text = full.sub(full_repl, text)
        # "ngày 14 và 15/5": both days of the month.
        text = re.sub(
            r"(?i)(ngày\s+)(\d{1,2})\s+và\s+(\d{1,2})/(\d{1,2})" + r"(?![\d/])",
            lambda m: (
                f"{m.group(1)}{self.num(m.group(2))} và ngày {self.num(m.group(3))} "
                f"tháng {read_month(int(m.group(4)))}"
                if valid(int(m.group(3)), int(m.group(4)))
                else m.group(0)
            ),
            text,
        )

        # "8/3" without a year is a date only where a date is expected: after "ngày"/"mùng",
        # "từ ... đến", "trước", "hết", a part of the day, or a holiday's name; elsewhere
        # ("đạt 3/5 thôn", "24/7") it is a fraction.
        def day_month(m: re.Match) -> str:
            d, mth = int(m.group(2)), int(m.group(3))
            if not valid(d, mth):
                return m.group(0)
            word = m.group(1).strip().lower()
            head = "" if word in ("ngày", "mùng", "khánh", "nữ") else "ngày "
            return f"{m.group(1)}{head}{self.num(m.group(2))} tháng {read_month(mth)}"

        text = re.sub(
            r"(?i)(?<![\w/])((?:ngày|mùng|từ|đến|tới|trước|sau|hết|hạn|vào|sáng|chiều|trưa|tối|"
            r"đêm|hôm|khánh|nữ)\s+)(\d{1,2})/(\d{1,2})" + r"(?![\d/]|[.,]\d)",
            day_month,
            text,
        )
        # "tháng 3/2025", "tháng 03-2025"
        return re.sub(
            r"(?i)(tháng\s+)(\d{1,2})[/\-](\d{4})" + NA,
            lambda m: (
                f"{m.group(1)}{read_month(int(m.group(2)))} năm {self.num(m.group(3))}"
                if 1 <= int(m.group(2)) <= 12
                else m.group(0)
            ),
            text,
        )

    # --- times: 14h30, 7h, 7h30', 14:30, 7 giờ 30 phút; ranges 7h30-11h ----------------------
    def times(self, text: str) -> str:
        one = r"(\d{1,2})\s?(?:h|g|giờ|:)\s?(\d{2})?(?:'|p|ph|\s?phút)?"

        def say(h: str, mnt: str | None) -> str | None:
            hh, mm = int(h), int(mnt or 0)
            if hh > 24 or mm > 59:
                return None
            return f"{self.num(h)} giờ" + (f" {self.num(mnt)} phút" if mm else "")

        def repl_range(m: re.Match) -> str:
            a, b = say(m.group(1), m.group(2)), say(m.group(3), m.group(4))
            return f"{a} đến {b}" if a and b else m.group(0)

        text = re.sub(NB + one + r"\s*[-–]\s*" + one + NA, repl_range, text)
        # "7-9h sáng": two hours sharing one "giờ".
        text = re.sub(
            NB + r"(\d{1,2})\s*[-–]\s*(\d{1,2})\s?(?:h|giờ)(?![\w'])",
            lambda m: (
                f"{self.num(m.group(1))} đến {self.num(m.group(2))} giờ"
                if int(m.group(1)) <= 24 and int(m.group(2)) <= 24
                else m.group(0)
            ),
            text,
        )

        def repl(m: re.Match) -> str:
            # "14:30" only when clearly a clock time; "h"/"giờ" forms always.
            return say(m.group(1), m.group(2)) or m.group(0)

        text = re.sub(NB + r"(\d{1,2})\s?(?:h|giờ)\s?(\d{2})?(?:'|p|ph|\s?phút)?" + NA, repl, text)
        return re.sub(NB + r"(\d{1,2}):(\d{2})" + NA, repl, text)

    # --- quantities: money, percentages, units after a number --------------------------------
    def quantities(self, text: str) -> str:
        units = self.t["units"]
        keys = sorted(units, key=len, reverse=True)
        unit_alt = "|".join(re.escape(k) for k in keys)
        number = r"(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?)"
        end = r"(?![A-Za-zÀ-ỹĐđ0-9²³])"
        # "62.000-65.000 đ": a range sharing one unit.
        text = re.sub(
            NB + number + r"\s?[-–]\s?" + number + r"\s?(" + unit_alt + ")" + end,
            lambda m: (
                f"{self.number(m.group(1))} đến {self.number(m.group(2))} {units[m.group(3)]}"
            ),
            text,
        )
        text = re.sub(
            NB + number + r"\s?(" + unit_alt + ")" + end,
            lambda m: f"{self.number(m.group(1))} {units[m.group(2)]}",
            text,
        )

        # "đồng/hộ", "đ/kg": a price per something; "tấn/ha": a rate, read "trên".
        def per(m: re.Match) -> str:
            what = units.get(m.group(2), m.group(2))
            word = "mỗi" if m.group(1) in ("đồng", "nghìn", "triệu", "tỷ", "ngàn") else "trên"
            return f"{m.group(1)} {word} {what}"

        lefts = {v.split()[-1] for v in units.values()} | {"ngàn"}
        left_alt = "|".join(re.escape(w) for w in sorted(lefts, key=len, reverse=True))
        text = re.sub(NB + f"({left_alt})" + r"\s?/\s?([A-Za-zà-ỹđ²³]+)" + NA, per, text)
        # "30.000đ/hộ/tháng": each further slash is one more "mỗi".
        pattern = re.compile(r"(mỗi [a-zà-ỹđ]+)\s?/\s?([a-zà-ỹđ]+)" + NA)
        while pattern.search(text):
            text = pattern.sub(r"\1 mỗi \2", text)
        return text

    def number(self, token: str) -> str:
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", token):
            token = token.replace(".", "")
        if "," in token:
            integer, fraction = token.split(",", 1)
            return read_decimal(integer, fraction, self.dialect)
        return self.num(token)

    # --- ordinals and Roman numerals ---------------------------------------------------------
    def ordinals(self, text: str) -> str:
        text = re.sub(
            r"(?i)(thứ\s+)(\d{1,2})" + NA,
            lambda m: m.group(1) + read_ordinal(int(m.group(2)), self.dialect),
            text,
        )

        def roman(m: re.Match) -> str:
            value = roman_to_int(m.group(2))
            if value is None:
                return m.group(0)
            ordinal = m.group(1).lower().rstrip().endswith("thứ")
            return m.group(1) + (read_ordinal(value) if ordinal else self.num(str(value)))

        return re.sub(
            r"(?i)((?:khóa|khoá|lần thứ|thứ|kỳ|quý|đại hội|thế kỷ|phần|chương|mục|giai đoạn|"
            r"phụ lục|điều)\s+)([IVXLC]{1,6})" + NA,
            roman,
            text,
        )

    # --- the abbreviation table ---------------------------------------------------------------
    def abbreviations(self, text: str) -> str:
        table = self.t["abbreviations"]
        # "Công ty CP" is a joint-stock company; everywhere else in a bulletin CP is the government.
        text = re.sub(r"(?i)(công ty|cty)\s+CP" + NA, r"\1 cổ phần", text)
        pattern = _abbreviation_pattern(tuple(sorted(table, key=len, reverse=True)))
        return pattern.sub(lambda m: table[m.group(0)], text)

    # --- numbers left over --------------------------------------------------------------------
    def numbers(self, text: str) -> str:
        text = re.sub(
            NB + r"(\d+)\s?[-–]\s?(\d+)" + r"(?![\d/]|[.,]\d)",
            lambda m: (
                f"{self.num(m.group(1))} đến {self.num(m.group(2))}"
                if int(m.group(1)) < int(m.group(2))
                else m.group(0)
            ),
            text,
        )
        text = re.sub(
            NB + r"(\d+)\.(\d{1,2})" + r"(?![\d.])",
            lambda m: f"{self.num(m.group(1))} chấm {self.number(m.group(2))}",
            text,
        )
        text = re.sub(
            NB + r"(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d+|\d+)",
            lambda m: self.number(m.group(1)) if len(m.group(1)) <= 18 else read_digits(m.group(1)),
            text,
        )
        # "số 5/2" left over: a fraction-like slash between numbers reads "trên".
        return re.sub(r"(?<=[a-zà-ỹ])\s?/\s?(?=[a-zà-ỹ])", " trên ", text)

    def acronyms(self, text: str) -> str:
        return re.sub(
            NB + r"([A-ZĐ]{2,6})" + NA,
            lambda m: spell(m.group(1)),
            text,
        )


@lru_cache(maxsize=8)
def _abbreviation_pattern(keys: tuple[str, ...]) -> re.Pattern:
    parts = []
    for key in keys:
        escaped = re.escape(key)
        if re.fullmatch(r"[A-ZĐ]\.", key):
            # Single-letter forms ("P. Hiến Nam", "X. Tân Hưng") only before a name or a number.
            escaped += r"(?=\s*[A-ZÀ-ỸĐ0-9])"
        elif key[-1].isalnum():
            escaped += NA
        parts.append(escaped)
    return re.compile(NB + "(?:" + "|".join(parts) + ")")


_LEFTOVER = re.compile(r"[0-9@#$€£&*_=+<>\\|^~]|https?://|www\.")


def _hamster(text: str) -> str:
    """g2p-hamster's T0 normaliser for what our rules leave (URLs, e-mails, symbols)."""
    try:
        from g2p_hamster.t0.pipeline import normalize as hamster_normalize

        return hamster_normalize(text)["read_string"]
    except Exception:  # noqa: BLE001 - a front-end fault must not stop a bulletin
        return re.sub(r"[^\w\s.,;:!?()\-]", " ", text)


def normalize(text: str, *, dialect: str = "north") -> str:
    """The reading text of a bulletin: abbreviations, numbers, dates, times, money... in words."""
    table = load_table()
    starts_upper = text.lstrip()[:1].isupper()
    n = _Normaliser(table, dialect)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00a0", " ").replace("–", "-").replace("—", " - ")
    text = re.sub(r"[ \t]+", " ", text)
    for step in (
        n.documents,
        n.codes,
        n.phones,
        n.dates,
        n.times,
        n.quantities,
        n.ordinals,
        n.abbreviations,
        n.numbers,
        n.acronyms,
    ):
        text = step(text)
    if _LEFTOVER.search(text):
        text = "\n".join(
            _hamster(line) if _LEFTOVER.search(line) else line for line in text.split("\n")
        )
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text).strip()
    # A sentence starts with a capital, also when it starts with an expansion ("Ủy ban...").
    if starts_upper:
        text = text[:1].upper() + text[1:]
    return re.sub(r"([.!?]\s+)([a-zà-ỹđ])", lambda m: m.group(1) + m.group(2).upper(), text)
