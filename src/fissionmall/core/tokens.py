"""Signed, expiring tokens and signed short codes (HMAC-SHA256, constant-time checks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, data: bytes) -> bytes:
    return hmac.new(f"{purpose}:{secret}".encode(), data, hashlib.sha256).digest()


def sign_token(secret: str, claims: dict[str, Any], *, now: datetime, ttl: timedelta) -> str:
    payload = dict(claims, exp=int((now + ttl).timestamp()))
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(secret, 'token', body.encode()))}"


def read_token(secret: str, token: str, *, now: datetime) -> dict[str, Any] | None:
    """The claims of a genuine, unexpired token; None for anything else."""
    try:
        body, signature = token.split(".")
        if not hmac.compare_digest(_unb64(signature), _mac(secret, "token", body.encode())):
            return None
        claims = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) <= now.timestamp():
        return None
    return claims


_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = _ALPHABET[rest] + digits
        if number == 0:
            return digits


def _unbase62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _ALPHABET.index(char)
    return number


SIGNATURE_CHARS = 10


def sign_code(secret: str, purpose: str, number: int) -> str:
    """A short code for a row id that cannot be forged or edited: base62(id) + 10 signature chars.

    Short enough for a WeChat QR scene (32 chars) for any 64-bit id.
    """
    digest = _mac(secret, purpose, str(number).encode())
    tag = _base62(int.from_bytes(digest[:8], "big")).rjust(SIGNATURE_CHARS, "0")[-SIGNATURE_CHARS:]
    return _base62(number) + tag


def read_code(secret: str, purpose: str, code: str) -> int | None:
    if not (SIGNATURE_CHARS < len(code) <= 32) or any(c not in _ALPHABET for c in code):
        return None
    number = _unbase62(code[:-SIGNATURE_CHARS])
    return number if hmac.compare_digest(sign_code(secret, purpose, number), code) else None
