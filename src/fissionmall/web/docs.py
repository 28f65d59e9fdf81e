"""The API's own documentation page (Swagger UI), served with its assets from this server: the mall must work on a
network that reaches nothing else, and its pages' policy allows only its own scripts. On only with API_DOCS."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from fissionmall.web.templating import templates

ASSETS = "/docs/assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def docs_page() -> HTMLResponse:
    return HTMLResponse(templates.get_template("docs.html").render(assets=ASSETS))
