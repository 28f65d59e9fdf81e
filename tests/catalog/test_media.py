"""Image uploads are decoded before they are kept; anything else is refused and nothing is written."""

import io

from PIL import Image

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
    assert url.startswith(f"/media/uploads/{mall.merchant_id}/") and url.endswith(".png")
    saved = runtime.settings.media_dir / url.removeprefix("/media/")
    assert saved.read_bytes() == png()
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
