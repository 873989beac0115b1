"""Image checks (Pillow, decompression-bomb guard) and board / thumbnail renditions."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import MediaRejected

BOARD_SIZE = (1920, 1080)
THUMB_SIZE = 320
JPEG_QUALITY = 85

# Pillow's name for each family we accept.
PIL_FORMATS = {
    "png": "PNG",
    "jpeg": "JPEG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
}


def decoded_bytes(img: Image.Image) -> int:
    """Memory the decoded pixels take, read from the header alone (nothing is decoded yet).

    Pillow keeps every multi-band mode (RGB too) in 4 bytes a pixel, one-band modes in 1 (or 2
    and 4 for 16/32-bit); a decoded frame costs this much, and each conversion as much again.
    """
    per_pixel = 1 if img.mode in ("1", "L", "P") else 2 if img.mode.startswith("I;16") else 4
    return img.width * img.height * per_pixel


def check(
    path: Path, family: str, max_pixels: int, max_decoded_bytes: int | None = None
) -> tuple[int, int]:
    """Verify the image is whole, of the claimed format and not a decompression bomb.

    Pixel count and decoded memory are checked from the header before any pixel is decoded: a
    212 KB PNG of 7070×7070 RGBA is under the pixel limit yet decodes to 200 MB, and the
    renditions used to take the worker to 900 MB.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.format != PIL_FORMATS.get(family):
                    raise MediaRejected(
                        "Nội dung ảnh không khớp với định dạng của tệp.", code="mismatch"
                    )
                width, height = img.size
                if width * height > max_pixels:
                    raise MediaRejected(
                        f"Ảnh quá lớn ({width}×{height} điểm ảnh, giới hạn "
                        f"{max_pixels / 1e6:g} triệu điểm ảnh). Hãy thu nhỏ ảnh rồi tải lên lại.",
                        code="too_many_pixels",
                    )
                if max_decoded_bytes and decoded_bytes(img) > max_decoded_bytes:
                    raise MediaRejected(
                        f"Ảnh quá lớn để xử lý ({width}×{height} điểm ảnh, chế độ {img.mode}: "
                        f"cần {decoded_bytes(img) / 2**20:.0f} MB bộ nhớ, giới hạn "
                        f"{max_decoded_bytes / 2**20:.0f} MB). Hãy thu nhỏ ảnh hoặc lưu dạng "
                        "JPEG rồi tải lên lại.",
                        code="too_much_memory",
                    )
                img.verify()
            # A library may have switched Pillow to pad truncated files (WeasyPrint does when
            # imported): a partial upload must still fail to load here.
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            with Image.open(path) as img:
                img.draft("RGB", BOARD_SIZE)  # JPEG: decode at a reduced scale, still all data
                img.load()  # verify() does not decode pixels; a truncated file fails here
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected(
            "Ảnh có kích thước điểm ảnh bất thường (nghi là tệp phá hoại). Hãy dùng ảnh khác.",
            code="bomb",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaRejected(
            "Tệp ảnh bị hỏng hoặc tải lên chưa hết, không mở được. Hãy chụp/xuất lại ảnh và "
            "tải lên lần nữa.",
            code="corrupt",
        ) from exc
    return width, height


def _flatten(img: Image.Image) -> Image.Image:
    """RGB without alpha (JPEG has none): transparent parts become white, as on a board page."""
    img = ImageOps.exif_transpose(img)  # honour the camera's rotation before EXIF is dropped
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def renditions(path: Path, work: Path) -> dict[str, tuple[Path, dict]]:
    """Board (fits 1920×1080, never upscaled) and thumbnail (320 px wide box) JPEGs, no EXIF."""
    out: dict[str, tuple[Path, dict]] = {}
    with Image.open(path) as src:
        src.seek(0)  # first frame of an animated GIF/WebP
        src.draft("RGB", BOARD_SIZE)  # JPEG: let the decoder scale down (1/2 … 1/8)
        # Shrink before flattening: conversions then work on a board-sized copy, not the
        # full frame (the peak is one decoded frame, which `check` has bounded).
        src.thumbnail(BOARD_SIZE, Image.Resampling.LANCZOS)
        base = _flatten(src)
    for name, box in (("board", BOARD_SIZE), ("thumb", (THUMB_SIZE, THUMB_SIZE))):
        img = base.copy()
        img.thumbnail(box, Image.Resampling.LANCZOS)
        target = work / f"{name}.jpg"
        # No exif=, no icc_profile= passed: the written file carries no metadata at all.
        img.save(target, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        out[name] = (target, {"mime": "image/jpeg", "width": img.width, "height": img.height})
    return out


# --- metadata stripping of the stored original (lossless) -------------------------------------
# Phones write the place a photo was taken (GPS) and the device into EXIF. The original is kept
# for the archive, so its metadata is removed without re-encoding the pixels: JPEG APP1 (EXIF,
# XMP) and APP13 (IPTC) segments are dropped and the camera orientation is put back in a minimal
# EXIF block; PNG text and eXIf chunks are dropped. Other formats are stored as uploaded.

_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def strip_metadata(src: Path, dst: Path, family: str) -> bool:
    """Write src without metadata to dst; False when the format is left as it is."""
    if family == "jpeg":
        orientation = 1
        try:
            with Image.open(src) as img:
                orientation = int(img.getexif().get(0x0112, 1))
        except (OSError, ValueError):
            pass
        dst.write_bytes(_strip_jpeg(src.read_bytes(), orientation))
        return True
    if family == "png":
        dst.write_bytes(_strip_png(src.read_bytes()))
        return True
    return False


def _strip_jpeg(data: bytes, orientation: int) -> bytes:
    out = bytearray(data[:2])  # SOI
    pos = 2
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        block = exif.tobytes()
        out += b"\xff\xe1" + (len(block) + 2).to_bytes(2, "big") + block
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9:  # start of scan: the rest is image data
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        if marker not in (0xE1, 0xED, 0xFE):  # APP1 EXIF/XMP, APP13 IPTC, COM comment
            out += segment
        pos += 2 + length
    out += data[pos:]
    return bytes(out)


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        if kind not in _PNG_DROP:
            out += chunk
        pos += 12 + length
        if kind == b"IEND":
            break
    return bytes(out)
