"""Product image uploads: checked by actually decoding them, stored by content hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from fissionmall.core.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def store_image(media_dir: Path, merchant_id: int, data: bytes) -> str:
    """Save an uploaded image and return its /media/ URL; anything that is not a sane image is refused."""
    if not data or len(data) > MAX_BYTES:
        raise InvalidInput("invalid_image", f"an image must be 1 byte to {MAX_BYTES // 1024 // 1024} MB", field="file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind, size = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise InvalidInput("invalid_image", "not a readable PNG, JPEG or WebP image", field="file") from None
    if kind not in FORMATS or max(size) > MAX_SIDE:
        raise InvalidInput("invalid_image", f"PNG, JPEG or WebP up to {MAX_SIDE} px a side", field="file")
    name = f"{hashlib.sha256(data).hexdigest()[:24]}.{FORMATS[kind]}"
    folder = media_dir / "uploads" / str(merchant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return f"/media/uploads/{merchant_id}/{name}"
