"""Recurrence rules in the words an officer reads, never the RRULE itself."""

from datetime import datetime

import pytest
from django.utils import translation

from grassroots.broadcast.engine import TZ
from grassroots.broadcast.recurrence import describe

START = datetime(2026, 12, 1, 6, 0, tzinfo=TZ)  # a Tuesday


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("", "Một lần"),
        ("FREQ=DAILY", "Hằng ngày lúc 06:00"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Thứ Hai – thứ Sáu lúc 06:00"),
        ("RRULE:FREQ=WEEKLY;BYDAY=FR,MO,WE", "Thứ Hai, Thứ Tư và Thứ Sáu lúc 06:00"),
        ("FREQ=WEEKLY;BYDAY=SA,SU", "Thứ Bảy và Chủ nhật lúc 06:00"),
        ("FREQ=WEEKLY", "Thứ Ba lúc 06:00"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "2 tuần một lần: Thứ Hai lúc 06:00"),
        ("FREQ=DAILY;INTERVAL=3", "3 ngày một lần lúc 06:00"),
        ("FREQ=DAILY;BYHOUR=6,17;BYMINUTE=30", "Hằng ngày lúc 06:30 và 17:30"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "Ngày 1 và 15 hằng tháng lúc 06:00"),
        ("FREQ=MONTHLY;BYDAY=1MO", "Thứ Hai đầu tiên hằng tháng lúc 06:00"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "Thứ Sáu cuối cùng hằng tháng lúc 06:00"),
        ("FREQ=MONTHLY", "Ngày 1 hằng tháng lúc 06:00"),
        ("FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=2", "Ngày 2 tháng 9 hằng năm lúc 06:00"),
        ("FREQ=HOURLY;INTERVAL=2;BYHOUR=6,8,10", "2 giờ một lần lúc 06:00, 08:00 và 10:00"),
        (
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20261231T165959Z",
            "Thứ Hai – thứ Sáu lúc 06:00, đến 31/12/2026",
        ),
        ("FREQ=DAILY;COUNT=5", "Hằng ngày lúc 06:00, 5 lần"),
        ("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", "Lặp theo quy tắc nâng cao"),
        ("FREQ=WEEKLY;BYDAY=XX", "Lặp theo quy tắc nâng cao"),
    ],
)
def test_rules_in_words(rule, words):
    with translation.override("vi"):
        text = describe(rule, START)
    assert text == words
    assert "FREQ" not in text and "RRULE" not in text and "BYDAY" not in text


def test_without_a_start_the_time_is_left_out():
    with translation.override("vi"):
        assert describe("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR") == "Thứ Hai – thứ Sáu"
