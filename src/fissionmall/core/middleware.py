"""Guards every answer passes through: security headers, and a request body limit applied before the body is read.
Plain ASGI: they run on every request, and Starlette's BaseHTTPMiddleware costs a task group and a streamed copy
of every response."""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fissionmall.core.errors import problem

_EVERY_ANSWER = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_NOT_FRAMED = (b"content-security-policy", b"frame-ancestors 'none'")
_PAGE_POLICY = (b"content-security-policy", b"; ".join((
    b"default-src 'self'",
    b"img-src 'self' blob: https: http:",  # a product's images may be on the merchant's image host; blob: previews
    b"object-src 'none'",
    b"base-uri 'none'",
    b"form-action 'self'",
    b"frame-ancestors 'none'",
)))
_NO_STORE = (b"cache-control", b"no-store")
_REPLACED = {False: frozenset({b"content-security-policy", b"server"}),
             True: frozenset({b"content-security-policy", b"cache-control", b"server"})}
"""What an answer's own headers may not say: a private answer's caching is always no-store; a public one (a poster,
a QR code, a static file) keeps the caching its endpoint chose."""


class SecurityHeaders:
    """On every answer: no MIME sniffing, no full referrer to other sites, never framed; on HTML pages, only the
    mall's own scripts and styles; nothing personal kept by a cache (a request with a token or the pages' session
    cookie or the console's, the admin API, the console, logins).
    The header lists are built once; per answer it is one scan of the answer's own headers."""

    def __init__(self, app: ASGIApp, *, private_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.private_prefixes = private_prefixes
        self.answers = {(html, private): [*_EVERY_ANSWER, _PAGE_POLICY if html else _NOT_FRAMED,
                                          *([_NO_STORE] if private else [])]
                        for html in (False, True) for private in (False, True)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith(self.private_prefixes) or any(
            name == b"authorization" or (name == b"cookie" and (b"fm_shopper=" in value or b"fm_staff=" in value))
            for name, value in scope["headers"])

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                replaced = _REPLACED[private]
                kept = [(name, value) for name, value in message.get("headers", ()) if name.lower() not in replaced]
                html = any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in kept)
                message = {**message, "headers": kept + self.answers[html, private]}
            await send(message)

        await self.app(scope, receive, sending)


class BodyLimit:
    """Refuses a request body over the limit (413 body_too_large) without reading it when its Content-Length says
    so, and otherwise counts it as it streams in and stops at the limit: a 20 MB JSON body is never read whole, let
    alone parsed. The upload routes (`upload_paths`) get the larger `upload_bytes`.

    Past the limit the application is told the client has gone (so it stops reading), and whatever it answers is
    replaced by the 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_bytes: int, upload_paths: Collection[str]) -> None:
        self.app, self.max_bytes, self.upload_bytes = app, max_bytes, upload_bytes
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"] in self.upload_paths else self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit)(scope, receive, send)
            return
        if declared is not None:  # the server holds the body to its declared length
            await self.app(scope, receive, send)
            return

        received, refused, started = 0, False, False

        async def counting() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if refused and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except Exception:
            if not (refused and not started):
                raise  # an error of the application's own, not its reaction to the cut-off body
        if refused and not started:
            await _too_large(limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(limit: int) -> ASGIApp:
    return problem(413, "body_too_large", "Content too large", f"the request body is larger than {limit} bytes",
                   limit=limit)
