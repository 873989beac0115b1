"""Vietnamese normaliser on real bulletin sentences, speech loudness, engines and the CLI."""

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from grassroots.content.media import measure_loudness
from grassroots.content.tts import (
    PiperEngine,
    TTSEngine,
    TTSError,
    get_engine,
    load_table,
    normalize,
    synthesize,
    synthesize_quick,
)
from grassroots.content.tts.numbers import read_int


@pytest.fixture(autouse=True)
def _home(settings, tmp_path):
    """A private GRASSROOTS_HOME so an operator's override file never leaks into a test."""
    settings.GRASSROOTS = {**settings.GRASSROOTS, "HOME": tmp_path / "home"}
    (tmp_path / "home").mkdir()


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "không"),
        (10, "mười"),
        (11, "mười một"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (105, "một trăm lẻ năm"),
        (110, "một trăm mười"),
        (1005, "một nghìn không trăm lẻ năm"),
        (2025, "hai nghìn không trăm hai mươi lăm"),
        (15000, "mười lăm nghìn"),
        (1_500_000, "một triệu năm trăm nghìn"),
        (2_000_001, "hai triệu không trăm lẻ một"),
        (3_000_000_000, "ba tỷ"),
    ],
)
def test_vietnamese_number_reading(number, words):
    assert read_int(number) == words


def test_southern_reading_uses_linh_and_ngan():
    assert read_int(105, "south") == "một trăm linh năm"
    assert normalize("Hỗ trợ 105.000 đồng", voice="vi-vn-x-south") == (
        "Hỗ trợ một trăm linh năm ngàn đồng"
    )


def test_commune_announcement():
    text = (
        "UBND xã thông báo: từ 7h30 ngày 15/3/2025, tiêm phòng dại cho chó mèo. "
        "SĐT liên hệ 0221.3862.456"
    )
    assert normalize(text) == (
        "Ủy ban nhân dân xã thông báo: từ bảy giờ ba mươi phút ngày mười lăm tháng ba năm hai "
        "nghìn không trăm hai mươi lăm, tiêm phòng dại cho chó mèo. Số điện thoại liên hệ "
        "không hai hai một, ba tám sáu hai, bốn năm sáu"
    )


def test_decree_numbers():
    assert normalize("Thực hiện Nghị định 49/2024/NĐ-CP của Chính phủ về bảo hiểm") == (
        "Thực hiện Nghị định số bốn mươi chín năm hai nghìn không trăm hai mươi tư của Chính phủ "
        "về bảo hiểm"
    )
    assert normalize("Căn cứ 49/2024/NĐ-CP; Quyết định số 123/QĐ-UBND và Chỉ thị 05/CT-TTg") == (
        "Căn cứ nghị định số bốn mươi chín năm hai nghìn không trăm hai mươi tư của chính phủ; "
        "Quyết định số một trăm hai mươi ba của ủy ban nhân dân và Chỉ thị số năm của thủ tướng "
        "chính phủ"
    )
    assert "thông tư số ba mươi chín năm hai nghìn không trăm hai mươi của bộ thông tin và " in (
        normalize("theo 39/2020/TT-BTTTT")
    )


def test_money_and_units():
    assert normalize("hỗ trợ 1.500.000 đồng/hộ") == "hỗ trợ một triệu năm trăm nghìn đồng mỗi hộ"
    assert normalize("mức phạt 1,5 triệu đồng hoặc 500.000đ") == (
        "mức phạt một phẩy năm triệu đồng hoặc năm trăm nghìn đồng"
    )
    assert normalize("gieo cấy 120 ha, đường dài 3,2 km, nhà 80 m2, 20 kg giống, đạt 95%") == (
        "gieo cấy một trăm hai mươi héc ta, đường dài ba phẩy hai ki lô mét, nhà tám mươi mét "
        "vuông, hai mươi ki lô gam giống, đạt chín mươi lăm phần trăm"
    )


def test_times_dates_and_ranges():
    assert normalize("họp lúc 14h30, kết thúc 17h") == (
        "họp lúc mười bốn giờ ba mươi phút, kết thúc mười bảy giờ"
    )
    assert normalize("từ 7h30-11h00 các ngày 15-17/4/2025") == (
        "từ bảy giờ ba mươi phút đến mười một giờ các ngày mười lăm đến ngày mười bảy tháng tư "
        "năm hai nghìn không trăm hai mươi lăm"
    )
    assert normalize("Ngày 12/3/2025") == (
        "Ngày mười hai tháng ba năm hai nghìn không trăm hai mươi lăm"
    )
    assert normalize("kỷ niệm ngày 8/3, kế hoạch tháng 4/2025") == (
        "kỷ niệm ngày tám tháng ba, kế hoạch tháng tư năm hai nghìn không trăm hai mươi lăm"
    )


def test_phone_numbers_are_read_digit_by_digit():
    assert normalize("Hotline 0912345678, gọi 114 khi có cháy") == (
        "Hotline không chín một hai, ba bốn năm, sáu bảy tám, gọi một một bốn khi có cháy"
    )


def test_abbreviations_ordinals_and_unknown_acronyms():
    assert normalize("HĐND và UBMTTQ TP. Hưng Yên, Công ty CP Sông Hồng") == (
        "Hội đồng nhân dân và ủy ban mặt trận tổ quốc thành phố Hưng Yên, Công ty cổ phần Sông Hồng"
    )
    assert normalize("Kỳ họp thứ 4 HĐND khóa XV") == (
        "Kỳ họp thứ tư hội đồng nhân dân khóa mười lăm"
    )
    assert normalize("Đoàn kiểm tra XYZQ") == "Đoàn kiểm tra ích i dài dét quy"


def test_reading_text_has_no_digits_left():
    text = (
        "Thông báo số 15/TB-UBND: UBND xã tổ chức tiêm vắc xin cho 1.250 trẻ từ 8h-11h30, "
        "ngày 20/5/2025 tại TYT xã; mỗi liều 150.000 đồng, BHYT chi trả 80%. "
        "Liên hệ 0221 3862 456 hoặc email tyt@hungyen.gov.vn."
    )
    reading = normalize(text)
    assert not any(c.isdigit() for c in reading), reading
    assert "trạm y tế" in reading and "bảo hiểm y tế" in reading


def test_operator_overrides_extend_and_replace_the_table(settings):
    override = Path(settings.GRASSROOTS["HOME"]) / "tts-abbreviations.json"
    override.write_text(
        json.dumps({"abbreviations": {"HTXNN": "hợp tác xã nông nghiệp", "UBND": "uỷ ban"}}),
        encoding="utf-8",
    )
    assert load_table()["abbreviations"]["HTXNN"] == "hợp tác xã nông nghiệp"
    assert normalize("HTXNN và UBND") == "Hợp tác xã nông nghiệp và uỷ ban"


def test_table_uses_g2p_hamster_as_a_base():
    table = load_table()["abbreviations"]
    assert table["CNTT"] == "công nghệ thông tin"  # only in g2p-hamster's list
    assert table["ĐT"] == "điện thoại"  # ours wins over hamster's "đội tuyển"


def test_synthesized_bulletin_is_stored_at_minus_16_lufs():
    result = synthesize(
        "UBND xã thông báo: từ 7h30 ngày 15/3/2025, tiêm phòng dại cho chó mèo. "
        "SĐT liên hệ 0221.3862.456",
        voice="vi",
        speed=160,
    )
    assert result["kind"] == "audio" and result["engine"] == "espeak"
    assert result["reading_text"].startswith("Ủy ban nhân dân xã")
    path = Path(settings.MEDIA_ROOT) / result["stored_path"]
    assert result["stored_path"] == result["renditions"]["broadcast"]["path"]
    assert path.suffix == ".opus" and path.stat().st_size == result["size"]
    assert 5 < result["duration_seconds"] < 20
    loudness = measure_loudness(path)
    assert abs(loudness["integrated_lufs"] - -16.0) <= 1.0, loudness
    assert loudness["true_peak_dbtp"] <= -1.5, loudness


@pytest.mark.parametrize("voice", ["vi", "vi-vn-x-south"])
def test_the_quick_emergency_reading_meets_the_same_loudness_contract(voice):
    """The emergency path (one ffmpeg pass, one-pass loudnorm) still lands within 1 LU of
    -16 LUFS and under -1.5 dBTP, measured on the stored Opus file."""
    result = synthesize_quick(
        "Cảnh báo lũ khẩn cấp. Mực nước sông Hồng tại Hưng Yên lên 7,2 m. Bà con vùng bãi "
        "di chuyển ngay lên chỗ cao.",
        voice=voice,
    )
    path = Path(settings.MEDIA_ROOT) / result["stored_path"]
    broadcast = result["renditions"]["broadcast"]
    assert (
        broadcast["normalization_type"] == "one-pass" and broadcast["path"] == result["stored_path"]
    )
    assert path.suffix == ".opus" and path.stat().st_size == result["size"]
    assert 5 < result["duration_seconds"] < 20
    loudness = measure_loudness(path)
    assert abs(loudness["integrated_lufs"] - -16.0) <= 1.0, loudness
    assert loudness["true_peak_dbtp"] <= -1.5, loudness


def test_other_voices_and_bad_parameters():
    assert synthesize("Xin chào bà con", voice="vi-vn-x-south")["duration_seconds"] > 0.5
    with pytest.raises(TTSError, match="Không có giọng đọc"):
        synthesize("Xin chào", voice="en")
    with pytest.raises(TTSError, match="Tốc độ đọc"):
        synthesize("Xin chào", speed=1000)
    with pytest.raises(TTSError, match="Văn bản trống"):
        synthesize("   ")


def test_engine_is_chosen_by_configuration(settings, tmp_path):
    assert get_engine().name == "espeak"
    assert isinstance(get_engine(), TTSEngine)
    settings.GRASSROOTS_TTS_ENGINE = "piper"
    settings.GRASSROOTS_PIPER_MODEL = str(tmp_path / "vi_VN-voice.onnx")
    engine = get_engine()
    assert isinstance(engine, PiperEngine)
    with pytest.raises(TTSError, match="Không tìm thấy tệp mô hình giọng đọc Piper"):
        synthesize("Xin chào")
    settings.GRASSROOTS_TTS_ENGINE = "festival"
    with pytest.raises(TTSError, match="Không có bộ đọc"):
        get_engine()


def test_piper_without_binary_says_so(tmp_path):
    model = tmp_path / "vi.onnx"
    model.write_bytes(b"onnx")
    Path(str(model) + ".json").write_text("{}")
    engine = PiperEngine(model=str(model), binary="piper-not-installed")
    with pytest.raises(TTSError, match="Không tìm thấy chương trình Piper"):
        engine.synthesize_wav("xin chào", "", 150)


def test_cli_normalize_prints_the_reading_text():
    out = StringIO()
    call_command("tts", "normalize", "UBND xã họp lúc 14h30", stdout=out)
    assert out.getvalue().strip() == "Ủy ban nhân dân xã họp lúc mười bốn giờ ba mươi phút"


@pytest.mark.parametrize(("name", "codec"), [("say.opus", "opus"), ("say.wav", "pcm_s16le")])
def test_cli_say_writes_normalised_audio(tmp_path, name, codec):
    target = tmp_path / name
    out = StringIO()
    call_command(
        "tts", "say", "Hỗ trợ 1.500.000 đồng/hộ từ ngày 1/6/2025.", "-o", str(target),
        "--voice", "vi", "--speed", "150", stdout=out,
    )  # fmt: skip
    info = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(target)],
        capture_output=True,
        check=True,
    ).stdout
    assert json.loads(info)["streams"][0]["codec_name"] == codec
    loudness = measure_loudness(target)
    assert abs(loudness["integrated_lufs"] - -16.0) <= 1.0, loudness
    assert loudness["true_peak_dbtp"] <= -1.5, loudness
    assert "LUFS" in out.getvalue()
    assert not list(Path(settings.MEDIA_ROOT).glob("**/*.opus"))  # the CLI stores nothing


def test_cli_say_reports_engine_errors(settings):
    settings.GRASSROOTS_TTS_ENGINE = "piper"
    settings.GRASSROOTS_PIPER_MODEL = ""
    with pytest.raises(CommandError, match="GRASSROOTS_PIPER_MODEL"):
        call_command("tts", "say", "Xin chào", "-o", "/tmp/never.opus")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        (
            "Giá lợn hơi 62.000-65.000 đ/kg; năng suất 6,5 tấn/ha",
            "Giá lợn hơi sáu mươi hai nghìn đến sáu mươi lăm nghìn đồng mỗi ki lô gam; năng suất "
            "sáu phẩy năm tấn trên héc ta",
        ),
        (
            "Cấm đường QL5 và ĐT.376 từ 22h ngày 10/6",
            "Cấm đường quốc lộ năm và đường tỉnh ba trăm bảy mươi sáu từ hai mươi hai giờ ngày "
            "mười tháng sáu",
        ),
        (
            "phòng chống dịch COVID-19 và cúm A/H5N1",
            "phòng chống dịch cô vít mười chín và cúm a hát năm en một",
        ),
        (
            "Đ/c Nguyễn Văn A - Chủ tịch UBND xã; ĐT: 0987.654.321",
            "Đồng chí Nguyễn Văn A - Chủ tịch ủy ban nhân dân xã; điện thoại: không chín tám bảy, "
            "sáu năm bốn, ba hai một",
        ),
        (
            "Diện tích 1.234,5 ha, nhiệm kỳ 2020-2025",
            "Diện tích một nghìn hai trăm ba mươi tư phẩy năm héc ta, nhiệm kỳ hai nghìn không "
            "trăm hai mươi đến hai nghìn không trăm hai mươi lăm",
        ),
    ],
)
def test_more_bulletin_sentences(text, reading):
    assert normalize(text) == reading
