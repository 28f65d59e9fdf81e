"""Product image uploads: decoded, normalised and stored by the hash of what is kept.

What is stored is never what was sent: the image is turned upright by its EXIF orientation, scaled down to
`MAX_STORED_SIDE`, and re-encoded without metadata (no camera, GPS or comment left in a public file), so every
reader of /media/ (pages, the share poster) opens a small, clean file. Its size is checked from the header
before any pixel is decoded: a small file declaring huge dimensions (a decompression bomb) is refused unread.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from fissionmall.core.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
"""What an upload may declare a side to be, checked before decoding: at most 16.7 million pixels (64 MB)."""
MAX_STORED_SIDE = 1600
"""Enough for a full-width phone screen at 2× and for the 750 px poster."""
FORMATS = {"PNG", "JPEG", "WEBP"}
JPEG_QUALITY = 88


def store_image(media_dir: Path, merchant_id: int, data: bytes) -> str:
    """Save an uploaded image, normalised, and return its /media/ URL; anything that is not a sane image is
    refused and nothing is written."""
    if not data or len(data) > MAX_BYTES:
        raise InvalidInput("invalid_image", f"an image must be 1 byte to {MAX_BYTES // 1024 // 1024} MB", field="file")
    encoded, extension = normalised(data)
    name = f"{hashlib.sha256(encoded).hexdigest()[:24]}.{extension}"
    folder = media_dir / "uploads" / str(merchant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(encoded)
    return f"/media/uploads/{merchant_id}/{name}"


def normalised(data: bytes) -> tuple[bytes, str]:
    """The upload upright, at most MAX_STORED_SIDE a side, without metadata: PNG where it has transparency,
    JPEG otherwise; with its file extension."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS or max(image.size) > MAX_SIDE:
                raise InvalidInput("invalid_image", f"PNG, JPEG or WebP up to {MAX_SIDE} px a side", field="file")
            image.draft("RGB", (MAX_STORED_SIDE, MAX_STORED_SIDE))  # a JPEG decodes at 1/2, 1/4 … scale
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
            transparent = upright.has_transparency_data
            pixels = upright.convert("RGBA" if transparent else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("invalid_image", "not a readable PNG, JPEG or WebP image", field="file") from None
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())  # pixels only: no EXIF, ICC or text
    buffer = io.BytesIO()
    if transparent:
        clean.save(buffer, format="PNG", optimize=True)
    else:
        clean.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue(), "png" if transparent else "jpg"
