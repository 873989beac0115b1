"""Vietnamese alphabetical order of unit names (`core.text.vietnamese_key`)."""

from grassroots.core.text import vietnamese_key


def test_letters_in_vietnamese_order():
    names = ["Yên Mỹ", "Đông Kết", "Ân Thi", "Ái Quốc", "An Bình", "Dương Quang", "Ơn Lộc",
             "Ô Môn", "Ông Đình", "Ưng Hoè", "Uy Nỗ", "Ăn Than", "Cẩm Giang"]  # fmt: skip
    assert sorted(names, key=vietnamese_key) == [
        "Ái Quốc", "An Bình", "Ăn Than", "Ân Thi", "Cẩm Giang", "Dương Quang", "Đông Kết",
        "Ô Môn", "Ông Đình", "Ơn Lộc", "Uy Nỗ", "Ưng Hoè", "Yên Mỹ",
    ]  # fmt: skip


def test_tones_are_secondary_in_dictionary_order():
    names = ["ma", "mạ", "mã", "mả", "má", "mà", "mai"]
    assert sorted(names, key=vietnamese_key) == ["ma", "mà", "má", "mả", "mã", "mạ", "mai"]


def test_short_before_long_and_composition():
    assert sorted(["An Bình", "An"], key=vietnamese_key) == ["An", "An Bình"]
    # the same name typed decomposed sorts with the composed one
    assert vietnamese_key("Đông")[:2] == vietnamese_key("Đo\u0302ng")[:2]
    assert vietnamese_key("")[:2] == ((), ())
