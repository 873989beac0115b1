"""Citizen photos: validated with Pillow, re-encoded to JPEG, location stripped unless shared."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024  # what a phone camera sends
# Memory one decoded photo may take, checked from the header before decoding (RGB and RGBA
# take 4 bytes a pixel in Pillow): a small PNG can otherwise decode to hundreds of MB.
MAX_DECODED_BYTES = 128 * 1024 * 1024
MAX_PIXELS = 40_000_000  # ~ 7700 x 5200; anything bigger is a decompression bomb, not a photo
MAX_SIDE = 1920  # what we keep: enough to read a sign, small enough to serve on 3G
GPS_IFD = 0x8825
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO", "HEIF"}


@dataclass
class ProcessedPhoto:
    """A re-encoded photo ready to store."""

    content: bytes
    width: int
    height: int
    has_location: bool
    latitude: float | None = None
    longitude: float | None = None


def _gps_decimal(gps: dict) -> tuple[float | None, float | None]:
    """Latitude/longitude from an EXIF GPS IFD, or (None, None)."""
    try:

        def conv(values, ref) -> float:
            d, m, s = (float(v) for v in values)
            val = d + m / 60 + s / 3600
            return -val if ref in ("S", "W") else val

        return conv(gps[2], gps.get(1, "N")), conv(gps[4], gps.get(3, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None, None


def process(upload, *, keep_location: bool) -> ProcessedPhoto:
    """Check one upload and return it re-encoded; raises ValidationError in Vietnamese."""
    name = getattr(upload, "name", "ảnh")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(
            f"Ảnh “{name}” quá lớn ({size // (1024 * 1024)} MB); mỗi ảnh tối đa "
            f"{MAX_BYTES // (1024 * 1024)} MB. Hãy chụp lại ở độ phân giải thấp hơn."
        )
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"Ảnh “{name}” quá lớn; mỗi ảnh tối đa {MAX_BYTES // (1024 * 1024)} MB."
        )
    not_image = ValidationError(
        f"Tệp “{name}” không phải là ảnh hợp lệ; hãy gửi ảnh JPEG, PNG hoặc WebP."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise not_image
                per_pixel = 1 if probe.mode in ("1", "L", "P") else 4
                if (
                    probe.width * probe.height > MAX_PIXELS
                    or probe.width * probe.height * per_pixel > MAX_DECODED_BYTES
                ):
                    raise ValidationError(
                        f"Ảnh “{name}” có kích thước quá lớn ({probe.width}×{probe.height} "
                        "điểm ảnh); hãy gửi ảnh nhỏ hơn."
                    )
                probe.verify()
            img = Image.open(io.BytesIO(data))
            img.load()
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValidationError(
                f"Ảnh “{name}” có kích thước quá lớn; hãy gửi ảnh nhỏ hơn."
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise not_image from exc

    gps = {}
    try:
        gps = dict(img.getexif().get_ifd(GPS_IFD))
    except Exception:  # noqa: BLE001 - broken EXIF is simply dropped
        gps = {}
    img = ImageOps.exif_transpose(img)
    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        img = background
    elif img.mode == "L":
        img = img.convert("RGB")
    img.thumbnail((MAX_SIDE, MAX_SIDE))

    exif = Image.Exif()  # fresh: nothing of the original EXIF survives by default
    lat = lon = None
    if keep_location and gps:
        exif[GPS_IFD] = gps
        lat, lon = _gps_decimal(gps)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82, optimize=True, exif=exif.tobytes())
    return ProcessedPhoto(
        content=out.getvalue(),
        width=img.width,
        height=img.height,
        has_location=bool(keep_location and gps),
        latitude=lat,
        longitude=lon,
    )


def process_all(uploads, *, keep_location: bool) -> list[ProcessedPhoto]:
    """Check and re-encode every upload (at most MAX_PHOTOS)."""
    uploads = [u for u in uploads if u]
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(f"Chỉ gửi được tối đa {MAX_PHOTOS} ảnh cho một phản ánh.")
    return [process(u, keep_location=keep_location) for u in uploads]
