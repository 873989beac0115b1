"""Vietnamese number reading: the linh/lẻ, mốt, lăm and tư rules, digits, decimals, ordinals."""

from __future__ import annotations

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
GROUPS = ["", "nghìn", "triệu", "tỷ"]

# Dialect choices a radio announcer makes: the North says "lẻ" and "nghìn", the South "linh"
# and "ngàn". Both say "mốt" (21), "lăm" (25) and, after "mươi", "tư" (24).
DIALECTS = {
    "north": {"odd": "lẻ", "thousand": "nghìn"},
    "south": {"odd": "linh", "thousand": "ngàn"},
}


def _under_100(n: int, *, full: bool) -> list[str]:
    """0–99; full=True when a hundreds digit precedes (so 5 -> "lẻ năm")."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return [DIGITS[unit]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if unit == 0:
        return words
    if unit == 5:
        return [*words, "lăm"]
    if unit == 1 and tens >= 2:
        return [*words, "mốt"]
    if unit == 4 and tens >= 2:
        return [*words, "tư"]
    return [*words, DIGITS[unit]]


def _under_1000(n: int, *, full: bool, odd: str) -> list[str]:
    hundreds, rest = divmod(n, 100)
    if not full and hundreds == 0:
        return _under_100(rest, full=False)
    words = [DIGITS[hundreds], "trăm"]
    if rest == 0:
        return words
    if rest < 10:
        return [*words, odd, DIGITS[rest]]
    return [*words, *_under_100(rest, full=True)]


def read_int(n: int, dialect: str = "north") -> str:
    """An integer in words: 105 -> "một trăm lẻ năm", 1_500_000 -> "một triệu năm trăm nghìn"."""
    if n < 0:
        return "âm " + read_int(-n, dialect)
    if n == 0:
        return "không"
    words = DIALECTS.get(dialect, DIALECTS["north"])
    odd, thousand = words["odd"], words["thousand"]
    if n >= 10**12:
        # "nghìn tỷ": read the billions above 999 with the same rules.
        high, low = divmod(n, 10**9)
        text = read_int(high, dialect) + " tỷ"
        return text if low == 0 else text + " " + _groups(low, odd, thousand, full=True)
    return _groups(n, odd, thousand, full=False)


def _groups(n: int, odd: str, thousand: str, *, full: bool) -> str:
    groups = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    names = ["", thousand, "triệu", "tỷ"]
    out: list[str] = []
    top = len(groups) - 1
    for i in range(top, -1, -1):
        g = groups[i]
        if g == 0:
            continue
        # Any group after the first nonzero one is read in full: 1_005 -> "một nghìn không trăm
        # lẻ năm"; a leading group is not: 5_000 -> "năm nghìn".
        in_full = full or i != top
        out += _under_1000(g, full=in_full, odd=odd)
        if names[i]:
            out.append(names[i])
    return " ".join(out)


def read_digits(digits: str) -> str:
    """Digit by digit, as for phone numbers: "0221" -> "không hai hai một"."""
    return " ".join(DIGITS[int(c)] for c in digits if c.isdigit())


def read_decimal(integer: str, fraction: str, dialect: str = "north") -> str:
    """A decimal with the Vietnamese comma: ("1", "5") -> "một phẩy năm"."""
    head = read_int(int(integer or "0"), dialect)
    if fraction.startswith("0") or len(fraction) > 2:
        tail = read_digits(fraction)
    else:
        tail = read_int(int(fraction), dialect)
    return f"{head} phẩy {tail}"


def read_ordinal(n: int, dialect: str = "north") -> str:
    """After "thứ": 1 -> "nhất", 4 -> "tư", otherwise the cardinal."""
    return {1: "nhất", 4: "tư"}.get(n) or read_int(n, dialect)


def read_month(n: int, dialect: str = "north") -> str:
    """Month names: "tháng tư" (not "tháng bốn")."""
    return "tư" if n == 4 else read_int(n, dialect)


ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(text: str) -> int | None:
    """XV -> 15; None when the text is not a well-formed Roman numeral."""
    if not text or any(c not in ROMAN for c in text):
        return None
    total = 0
    for i, c in enumerate(text):
        value = ROMAN[c]
        if i + 1 < len(text) and ROMAN[text[i + 1]] > value:
            total -= value
        else:
            total += value
    return total if to_roman(total) == text else None


def to_roman(n: int) -> str:
    out = []
    for value, sym in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)
