"""Image uploads are decoded before they are kept, and what is kept is normalised: upright, at most 1600 px a
side, without metadata, re-encoded (PNG with transparency, JPEG otherwise) and named by its own hash; anything
else is refused and nothing is written, a decompression bomb before its pixels are decoded."""

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from fissionmall.catalog.media import MAX_STORED_SIDE
from tests.support import problem


def png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#e4393c").save(buffer, "PNG")
    return buffer.getvalue()


async def test_upload_then_use_in_a_product(client, mall, runtime):
    owner = await mall.staff("owner")
    response = await client.post("/admin/media", headers=owner, files={"file": ("a.png", png(), "image/png")})
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    assert url.startswith(f"/media/uploads/{mall.merchant_id}/") and url.endswith(".jpg")
    with Image.open(runtime.settings.media_dir / url.removeprefix("/media/")) as saved:
        assert (saved.format, saved.size) == ("JPEG", (40, 30))
        assert saved.convert("RGB").getpixel((20, 15)) == pytest.approx((0xE4, 0x39, 0x3C), abs=4)
    patched = await client.patch(f"/admin/products/{mall.product_id}", headers=owner, json={"images": [url]})
    assert patched.json()["images"] == [url]


async def test_refuses_what_is_not_an_image(client, mall, runtime):
    owner = await mall.staff("owner")
    for name, data in [("x.png", b"<script>alert(1)</script>"), ("empty.png", b""), ("big.png", png(5000, 10))]:
        response = await client.post("/admin/media", headers=owner, files={"file": (name, data, "image/png")})
        problem(response, 422, "invalid_image")
    assert not (runtime.settings.media_dir / "uploads").exists() or not any(
        (runtime.settings.media_dir / "uploads").rglob("*.*"))


async def test_only_catalog_writers_upload(client, mall):
    finance = await mall.staff("finance")
    response = await client.post("/admin/media", headers=finance, files={"file": ("a.png", png(), "image/png")})
    problem(response, 403, "forbidden")


async def upload(mall: Any, data: bytes, name: str = "photo.jpg") -> Any:
    return await mall.client.post("/admin/media", headers=await mall.staff("owner"),
                                  files={"file": (name, data, "application/octet-stream")})


def stored(runtime: Any, url: str) -> Path:
    return Path(runtime.settings.media_dir) / url.removeprefix("/media/")


async def test_a_4096_px_photo_is_stored_at_1600_px(client, mall, runtime):
    buffer = io.BytesIO()
    Image.new("RGB", (4096, 2048), "#3a7bd5").save(buffer, "JPEG", quality=95)
    response = await upload(mall, buffer.getvalue())
    assert response.status_code == 201, response.text
    path = stored(runtime, response.json()["url"])
    with Image.open(path) as saved:
        assert (saved.format, saved.size) == ("JPEG", (MAX_STORED_SIDE, MAX_STORED_SIDE // 2))
    assert path.stat().st_size < len(buffer.getvalue())


async def test_exif_orientation_is_applied_and_every_piece_of_metadata_is_dropped(client, mall, runtime):
    """A phone photo taken sideways (EXIF orientation 6: turn 90° clockwise to view) with its camera and a
    comment in the metadata is stored upright, and nothing of the metadata is left in the file."""
    photo = Image.new("RGB", (400, 200), "#ff0000")
    photo.paste("#0000ff", (200, 0, 400, 200))  # left half red, right half blue: red ends up on top
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "SpyCam Maker"  # Make
    exif[0x010E] = "home address here"  # ImageDescription
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", exif=exif, quality=95, comment=b"secret comment")
    response = await upload(mall, buffer.getvalue())
    assert response.status_code == 201, response.text
    path = stored(runtime, response.json()["url"])
    raw = path.read_bytes()
    assert b"SpyCam" not in raw and b"home address" not in raw and b"secret comment" not in raw
    with Image.open(path) as saved:
        assert saved.size == (200, 400)
        assert dict(saved.getexif()) == {}
        assert "exif" not in saved.info and "comment" not in saved.info
        rgb = saved.convert("RGB")
        assert rgb.getpixel((100, 50)) == pytest.approx((255, 0, 0), abs=8)
        assert rgb.getpixel((100, 350)) == pytest.approx((0, 0, 255), abs=8)


async def test_transparency_is_kept_as_png_and_the_name_is_the_hash_of_what_is_kept(client, mall, runtime):
    logo = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    logo.paste((228, 57, 60, 255), (16, 16, 48, 48))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    first, second = (await upload(mall, buffer.getvalue(), "logo.png")), (await upload(mall, buffer.getvalue()))
    assert first.status_code == 201 and first.json() == second.json()
    url = first.json()["url"]
    assert url.endswith(".png")
    with Image.open(stored(runtime, url)) as saved:
        assert (saved.format, saved.mode) == ("PNG", "RGBA")
        assert saved.getpixel((0, 0))[3] == 0 and saved.getpixel((32, 32)) == (228, 57, 60, 255)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width × height: a few rows of zero bytes compressed, nothing more."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * (width * 3 + 1) * 4, 9)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [(60_000, 60_000), (4097, 16), (9_000, 9_000)])
async def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(client, mall, runtime, monkeypatch,
                                                                              width, height):
    """Huge declared dimensions in a file of a few hundred bytes: refused from the header, 422 with the field,
    and no pixel decoding is ever started."""
    decoded: list[object] = []
    load = ImageFile.ImageFile.load

    def counting_load(image: ImageFile.ImageFile) -> Any:
        decoded.append(image)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    bomb = png_declaring(width, height)
    assert len(bomb) < 200_000
    body = problem(await upload(mall, bomb, "bomb.png"), 422, "invalid_image")
    assert body["field"] == "file"
    assert decoded == []
    assert not (Path(runtime.settings.media_dir) / "uploads").exists()
