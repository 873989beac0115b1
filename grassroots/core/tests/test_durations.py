"""Durations read the way people say them, and the console accepts back what it shows."""

from datetime import datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import translation

from grassroots.core import durations
from grassroots.core.dates import VIETNAM


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (25, "25 giây"),
        (60, "1 phút"),
        (95, "1 phút 35 giây"),
        (200, "3 phút 20 giây"),
        (1800, "30 phút"),
        (3600, "1 giờ"),
        (5400, "1 giờ 30 phút"),
        (3725, "1 giờ 2 phút 5 giây"),
        (0, "0 giây"),
        (94.6, "1 phút 35 giây"),
    ],
)
def test_words_and_back(seconds, text):
    with translation.override("vi"):
        assert durations.words(seconds) == text
        assert durations.parse(text) == round(seconds)


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [
        ("15", 900),
        ("2,5", 150),
        ("2.5", 150),
        ("1:35", 95),
        ("0:25", 25),
        ("1:02:03", 3723),
        ("25 giay", 25),
        ("3 phut 20 giay", 200),
        ("3 phút 20", 200),
        ("3p20", 200),
        ("90s", 90),
        ("1h30", 5400),
        ("1 tiếng", 3600),
        ("  25 GIÂY ", 25),
        ("3 min 20 s", 200),
        ("2 minutes", 120),
    ],
)
def test_parse_accepts_what_officers_type(typed, seconds):
    assert durations.parse(typed) == seconds


@pytest.mark.parametrize(
    "typed", ["", "abc", "3 phút 20 giờ", "20 giây 3 phút", "1:75", "-5", "5x"]
)
def test_parse_refuses_with_words_to_fix(typed):
    with translation.override("vi"), pytest.raises(durations.DurationError) as caught:
        durations.parse(typed)
    assert "3 phút 20 giây" in str(caught.value)


def test_english_words():
    with translation.override("en"):
        assert durations.words(200) == "3 minutes 20 seconds"
        assert durations.words(1) == "1 second"
        assert durations.parse(durations.words(3725)) == 3725


def test_clock_shows_seconds_only_when_they_matter():
    start = datetime(2026, 11, 30, 2, 20, tzinfo=VIETNAM)
    end = start + timedelta(seconds=25)
    with translation.override("vi"):
        html = Template("{% load console %}{{ a|clock }}–{{ b|clock }} · {{ n|duration }}").render(
            Context({"a": start, "b": end, "n": 25})
        )
    assert html == "02:20–02:20:25 · 25 giây"
