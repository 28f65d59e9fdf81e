"""Signed, expiring tokens and signed short codes (HMAC-SHA256, constant-time checks), under rotating keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from fissionmall.config import SigningKeys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, data: bytes) -> bytes:
    return hmac.new(f"{purpose}:{secret}".encode(), data, hashlib.sha256).digest()


def sign_token(keys: SigningKeys, claims: dict[str, Any], *, now: datetime, ttl: timedelta) -> str:
    """Signed with the current key, whose id (`kid`) the token carries so that a reader picks the key to check."""
    payload = dict(claims, exp=int((now + ttl).timestamp()), kid=keys.current_id)
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(keys.current, 'token', body.encode()))}"


def read_token(keys: SigningKeys, token: str, *, now: datetime) -> dict[str, Any] | None:
    """The claims of a genuine, unexpired token signed with an accepted key; None for anything else.

    The body is decoded before its signature is checked only to read which key to check it with; a token from
    before key ids names none and is checked with the current key."""
    try:
        body, signature = token.split(".")
        claims = json.loads(_unb64(body))
        if not isinstance(claims, dict):
            return None
        secret = keys.by_id(claims.get("kid", keys.current_id))
        if secret is None or not hmac.compare_digest(_unb64(signature), _mac(secret, "token", body.encode())):
            return None
    except (ValueError, json.JSONDecodeError):
        return None
    if int(claims.get("exp", 0)) <= now.timestamp():
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


def _code(secret: str, purpose: str, number: int) -> str:
    digest = _mac(secret, purpose, str(number).encode())
    tag = _base62(int.from_bytes(digest[:8], "big")).rjust(SIGNATURE_CHARS, "0")[-SIGNATURE_CHARS:]
    return _base62(number) + tag


def sign_code(keys: SigningKeys, purpose: str, number: int) -> str:
    """A short code for a row id that cannot be forged or edited: base62(id) + 10 signature chars.

    Short enough for a WeChat QR scene (32 chars) for any 64-bit id; too short to name its key.
    """
    return _code(keys.current, purpose, number)


def read_code(keys: SigningKeys, purpose: str, code: str) -> int | None:
    """The id of a code signed with any accepted key: a printed QR code outlives a key rotation."""
    if not (SIGNATURE_CHARS < len(code) <= 32) or any(c not in _ALPHABET for c in code):
        return None
    number = _unbase62(code[:-SIGNATURE_CHARS])
    genuine = [hmac.compare_digest(_code(secret, purpose, number), code) for secret in keys.accepted]
    return number if any(genuine) else None
