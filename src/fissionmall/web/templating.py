"""The shopper pages' templates and what every page knows: the shop, who is signed in, the session's CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fissionmall.core.auth import Shopper
from fissionmall.core.durations import chinese_duration, countdown
from fissionmall.core.money import yuan
from fissionmall.merchants.models import Merchant

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["yuan"] = lambda fen: "" if fen is None else yuan(fen)
templates.env.filters["duration"] = chinese_duration
templates.env.filters["countdown"] = countdown
BEIJING = timezone(timedelta(hours=8))
"""Times are stored in UTC; a shopper reads them in China's time."""
templates.env.filters["when"] = lambda moment: moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
STATIC = Path(__file__).parent / "static"
"""The pages' style sheet and script, served at /static: the pages' policy allows no inline script or style."""


@dataclass(frozen=True)
class Visitor:
    """Who is looking at a shop's page: the shopper of the session cookie when it belongs to this shop."""

    shop: Merchant
    shopper: Shopper | None
    csrf: str
    """The session's CSRF token, for the page's scripts to send as X-CSRF-Token ("" when signed out)."""

    def url(self, path: str = "") -> str:
        return f"/m/{self.shop.slug}{path}"


def render(request: Request, template: str, visitor: Visitor, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"shop": visitor.shop, "visitor": visitor,
                                                          **(context or {})}, status_code=status_code)
