"""The share of administrative sentences the normaliser reads right (data/tts_admin_sentences.txt).

`python -m grassroots.content.tests.test_tts_corpus` prints the share and every miss.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).with_name("data") / "tts_admin_sentences.txt"
HELD_OUT = CORPUS.with_name("tts_admin_sentences_heldout.txt")
# Measured when the sets were written: main's normaliser read 165/271 (60.9 %) of the main set
# and 23/40 (57.5 %) of the held-out set right; this branch reads 271/271 and 39/40. The rules
# were developed against the main set, so its figure is in-sample; the held-out one is not.
MIN_SHARE = 0.97
MIN_SHARE_HELD_OUT = 0.9


def load(path: Path = CORPUS) -> list[tuple[str, str]]:
    """(text, expected reading) pairs from a corpus file."""
    pairs, text = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("T: "):
            text = line[3:]
        elif line.startswith("R: ") and text is not None:
            pairs.append((text, line[3:]))
            text = None
    return pairs


def words(reading: str) -> list[str]:
    """What a listener hears: words in order; case, punctuation and hyphens do not count."""
    return re.findall(r"[^\s,.;:!?()\"'\-–]+", reading.lower())


def score(normalize, path: Path = CORPUS) -> tuple[int, int, list[tuple[str, str, str]]]:
    pairs = load(path)
    misses = []
    for text, expected in pairs:
        got = normalize(text)
        if words(got) != words(expected):
            misses.append((text, expected, got))
    return len(pairs) - len(misses), len(pairs), misses


def test_corpus_is_large_and_well_formed():
    pairs = load()
    assert len(pairs) >= 200
    assert all(not re.search(r"\d", reading) for _text, reading in pairs)


@pytest.mark.parametrize(("path", "minimum"), [(CORPUS, MIN_SHARE), (HELD_OUT, MIN_SHARE_HELD_OUT)])
def test_share_read_right(path, minimum):
    from grassroots.content.tts import normalize

    right, total, misses = score(normalize, path)
    report = "\n".join(f"{t}\n  want {e}\n  got  {g}" for t, e, g in misses)
    assert right / total >= minimum, f"{right}/{total} read right\n{report}"


# The examples of issue 15, each with the reading a listener must hear.
ISSUE_EXAMPLES = [
    ("Từ 01/7/2025, tỉnh có 104 ĐVHC cấp xã.", "đơn vị hành chính cấp xã"),
    ("CAX Tân Hưng đề nghị…", "Công an xã Tân Hưng đề nghị"),
    (
        "NĐ 49/2024/NĐ-CP",
        "nghị định số bốn mươi chín năm hai nghìn không trăm hai mươi tư của chính phủ",
    ),
    ("Loa phát từ 7-9h sáng", "Loa phát từ bảy đến chín giờ sáng"),
    (
        "giai đoạn 2021-2025.",
        "giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm.",
    ),
    ("gọi tổng đài 1900 1234", "gọi tổng đài một chín không không, một hai ba bốn"),
    ("0221.3862.135", "không hai hai một, ba tám sáu hai, một ba năm"),
    (
        "Luật số 16/2023/QH15",
        "Luật số mười sáu năm hai nghìn không trăm hai mươi ba của quốc hội khóa mười lăm",
    ),
    ("Nghị quyết số 18-NQ/TW", "Nghị quyết số mười tám của trung ương"),
    ("Quý IV/2025", "Quý bốn năm hai nghìn không trăm hai mươi lăm"),
    (
        "Thu phí từ 01/7 đến 15/7.",
        "Thu phí từ ngày một tháng bảy đến ngày mười lăm tháng bảy.",
    ),
    (
        "Chiều 18/09 - 19/09/2026",
        "Chiều ngày mười tám tháng chín đến ngày mười chín tháng chín năm hai nghìn không trăm "
        "hai mươi sáu",
    ),
    ("Đoàn kiểm tra XYZQ", "Đoàn kiểm tra ích i dài dét quy"),  # unknown: spelled
]


@pytest.mark.parametrize(("text", "reading"), ISSUE_EXAMPLES)
def test_issue_examples(text, reading):
    from grassroots.content.tts import normalize

    got = normalize(text)
    assert reading.lower() in got.lower(), got
    assert "trên" not in got


if __name__ == "__main__":
    import sys

    import django

    django.setup()
    from grassroots.content.tts import normalize

    for path in [Path(a) for a in sys.argv[1:]] or [CORPUS, HELD_OUT]:
        right, total, misses = score(normalize, path)
        for text, expected, got in misses:
            print(f"{text}\n  want {expected}\n  got  {got}")
        print(f"{path.name}: {right}/{total} = {right / total:.1%} read right")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("thế kỷ XX (1900-2000)", "một nghìn chín trăm đến hai nghìn"),  # years, not a hotline
        ("Đã có 3/5 thôn hoàn thành", "ba trên năm thôn"),  # a fraction, not a date
        ("hoạt động 24/7", "hai mươi tư trên bảy"),
        ("Đạt 19/19 tiêu chí", "mười chín trên mười chín"),
    ],
)
def test_rules_do_not_overreach(text, reading):
    from grassroots.content.tts import normalize

    assert reading.lower() in normalize(text).lower()
