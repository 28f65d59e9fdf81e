"""The HTTP edge: a body over the limit is refused before it is read, a request without a valid token before its
body is read, and every answer carries the security headers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support import problem

BIG = 20 * 1024 * 1024
CHUNK = 64 * 1024
FORGED = {"Authorization": "Bearer forged.token.value"}


async def call(app: Any, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, int]:
    """Drive the app by raw ASGI with a body that never arrives: any attempt to read it is counted (and gets an
    empty last chunk, so that a guard that reads anyway answers rather than hangs)."""
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("mall.test", 80)}
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, reads


async def test_a_declared_20_mb_body_is_refused_before_it_is_read(app):
    status, headers, body, reads = await call(app, "POST", "/api/v1/auth/dev-login", {
        "content-type": "application/json", "content-length": str(BIG)})
    assert (status, reads) == (413, 0)
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "body_too_large"


async def test_a_20_mb_json_body_is_refused(client, runtime):
    payload = {"merchant_slug": "acme", "openid": "x" * BIG, "nickname": "big"}
    problem(await client.post("/auth/dev-login", json=payload), 413, "body_too_large")
    assert runtime.settings.max_body_bytes == 1024 * 1024


async def test_a_chunked_body_is_cut_off_at_the_limit(client, mall):
    """No Content-Length: the body is counted as it streams in and the reading stops just past the limit."""
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while pulled < BIG:
            pulled += CHUNK
            yield b" " * CHUNK

    response = await client.post("/auth/dev-login", content=endless(), headers={"content-type": "application/json"})
    problem(response, 413, "body_too_large")
    assert "content-length" not in response.request.headers
    assert pulled <= 1024 * 1024 + 2 * CHUNK


async def test_a_chunked_body_within_the_limit_is_read_whole(client, mall):
    body = json.dumps({"merchant_slug": mall.slug, "openid": "chunky", "nickname": "c" * 20}).encode()

    async def in_pieces() -> AsyncIterator[bytes]:
        for at in range(0, len(body), 7):
            yield body[at:at + 7]

    response = await client.post("/auth/dev-login", content=in_pieces(), headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


async def test_the_image_upload_has_its_own_larger_limit(client, mall):
    """3 MB is too much for JSON but an image of that size is fine (refused here as not an image, which shows it
    was read); past MAX_UPLOAD_BYTES the upload is refused as well."""
    owner = await mall.staff()
    problem(await client.post("/admin/categories", headers=owner, json={"name": "x" * 3 * 1024 * 1024}),
            413, "body_too_large")
    problem(await client.post("/admin/media", headers=owner, files={"file": ("a.png", b"\0" * 3 * 1024 * 1024)}),
            422, "invalid_image")
    problem(await client.post("/admin/media", headers=owner, files={"file": ("a.png", b"\0" * 11 * 1024 * 1024)}),
            413, "body_too_large")


# --- authentication before the body --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "content_type", "audience"), [
    ("/api/v1/orders", "application/json", "shopper"),
    ("/api/v1/admin/categories", "application/json", "staff"),
    ("/api/v1/admin/media", "multipart/form-data; boundary=xyz", "staff"),
])
async def test_a_bad_token_is_refused_before_the_body_is_read(app, path, content_type, audience):
    status, _, body, reads = await call(app, "POST", path, {
        **FORGED, "content-type": content_type, "content-length": str(900 * 1024)})
    assert (status, reads) == (401, 0), body
    assert json.loads(body)["code"] == "unauthenticated" and audience in json.loads(body)["detail"]


async def test_a_bad_token_with_an_invalid_body_is_told_401_not_422(client, mall):
    shopper = await mall.shopper("alice")
    staff = await mall.staff()

    async def broken(path: str, who: dict[str, str]) -> httpx.Response:
        return await client.post(path, content=b"{not json", headers={"content-type": "application/json", **who})

    problem(await broken("/orders", shopper), 422, "invalid_request")  # control: with a good token, it is read
    for path, who in (("/orders", FORGED), ("/orders", {}), ("/orders", staff), ("/admin/categories", shopper)):
        problem(await broken(path, who), 401, "unauthenticated")


# --- security headers ---------------------------------------------------------------------------------------


def secured(response: httpx.Response, *, page: bool = False, private: bool = False) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert ("default-src 'self'" in policy) == page and "unsafe-inline" not in policy
    assert (headers.get("cache-control") == "no-store") == private, headers.get("cache-control")
    assert "server" not in headers


async def test_security_headers_on_api_admin_login_and_error_answers(client, mall):
    secured(await client.get("/products", params={"merchant": mall.slug}))
    missing = await client.get("/products/999999", params={"merchant": mall.slug})
    problem(missing, 404, "product_not_found")
    secured(missing)
    owner = await mall.staff()
    secured(await client.get("/admin/categories", headers=owner), private=True)
    secured(await client.get("/admin/categories"), private=True)
    secured(await client.post("/admin/auth/login", json={"merchant_slug": mall.slug, "username": "owner",
                                                         "password": "wrong"}), private=True)
    secured(await client.post("/auth/dev-login", json={"merchant_slug": mall.slug, "openid": "h"}), private=True)
    shopper = await mall.shopper("alice")
    secured(await client.get("/me", headers=shopper), private=True)
    secured(await client.post("/auth/dev-login", content=b" " * (2 * 1024 * 1024)), private=True)  # 413 too


async def test_pages_allow_only_the_malls_own_scripts_and_styles(client, mall):
    """The policy forbids inline script and style, so the pages must have none: their style sheet and script are
    files the mall serves itself."""
    page = await client.get(f"http://mall.test/m/{mall.slug}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    secured(page, page=True)
    html = page.text
    assert "<style" not in html and "style=" not in html and "<script>" not in html
    assert '<link rel="stylesheet" href="/static/mall.css">' in html and '<script src="/static/mall.js">' in html
    sheet = await client.get("http://mall.test/static/mall.css")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    secured(sheet)
