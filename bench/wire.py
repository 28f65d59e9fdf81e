"""A minimal HTTP/1.1 keep-alive client on raw asyncio streams, for the load driver.

httpx spends most of a core on its own bookkeeping at a few thousand requests a second; on a 2-core machine that
shares its cores with the server and PostgreSQL, the driver must cost as little as possible. This client speaks
just what uvicorn answers: a status line, headers, and a body with Content-Length (or chunked).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any
    """The decoded JSON body (None when empty or not JSON)."""

    @property
    def code(self) -> str:
        """The problem+json `code` of a refusal, else the status alone."""
        if isinstance(self.data, dict) and isinstance(self.data.get("code"), str) and self.status >= 400:
            return str(self.data["code"])
        return ""


class Connection:
    """One persistent connection; reopened transparently when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Reply:
        """Send one request and read its answer; one retry on a connection the server closed meanwhile."""
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(method, path, body, headers)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Reply:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            payload = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            payload = await self._chunks()
        else:
            payload = b""
        if fields.get("connection") == "close":
            await self.close()
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            data = None
        return Reply(status, data)

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
