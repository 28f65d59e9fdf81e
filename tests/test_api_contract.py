"""Every operation of the API against its own OpenAPI (Schemathesis): generated requests, sent in-process with a
shopper's or the owner's token, must never answer 5xx, and must answer only statuses, media types and bodies that
the document declares. Derandomized, so a run is the same run every time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio.from_thread
import anyio.to_thread
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import fissionmall
from tests.conftest import PUBLIC_BASE
from tests.support import Mall, problem, refused_unchanged

PLATFORM_TOKEN = "platform-operator-token-0123456789abcdef"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """The platform operator's API exists only with its token: set, so that its operations are checked too."""
    return {"platform_token": PLATFORM_TOKEN}


EXAMPLES = 20
"""Per operation: enough to reach each operation's refusals and edge values, within a few minutes per database."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _bytes(content: Any) -> bytes:
    return content if isinstance(content, bytes) else str(content).encode()


def _request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The transport's keyword arguments (requests-style) as httpx takes them."""
    request = {key: kwargs[key] for key in ("method", "url", "headers", "params") if kwargs.get(key) is not None}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    if "files" in kwargs:
        request["files"] = [(field, (name, _bytes(content), *rest))
                            for field, (name, content, *rest) in kwargs["files"]]
        request["data"] = kwargs.get("data") or {}
    elif isinstance(kwargs.get("data"), dict):
        request["data"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    return request


@pytest.mark.postgres
async def test_every_operation_keeps_its_contract(app, mall: Mall) -> None:
    """Walked once, on PostgreSQL, the production database and the stricter one (integer ranges, NUL bytes, text
    lengths); the refusals that differ by database are checked on both below."""
    spec = app.openapi()
    schema = schemathesis.openapi.from_dict(spec)
    shopper, staff = await mall.shopper("alice"), await mall.staff("owner")
    order = await mall.order(shopper)
    await mall.pay(shopper, order["id"])
    credentials = {"shopper": shopper, "staff": staff, "platform": {"Authorization": f"Bearer {PLATFORM_TOKEN}"}}
    failures: list[str] = []
    operations = 0

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE) as client:

        async def send(case: Any, headers: dict[str, str]) -> httpx.Response:
            request = client.build_request(**_request(case.as_transport_kwargs(base_url=PUBLIC_BASE, headers=headers)))
            request.read()  # a multipart body is a stream: read once, so the checks can look at what was sent
            return await client.send(request)

        def run(operation: Any) -> None:
            security = spec["paths"][operation.path][operation.method.lower()].get("security", [{}])
            headers = credentials[next(iter(security[0]))] if security[0] else {}

            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def check(case: Any) -> None:
                response = anyio.from_thread.run(send, case, headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                check()
            except Exception as failure:  # each operation's first failure, reported together at the end
                failures.append(f"{operation.label}: {failure}")

        for result in schema.get_all_operations():
            operations += 1
            await anyio.to_thread.run_sync(run, result.ok())

    assert operations > 100
    assert not failures, "\n\n".join(failures)


BEYOND_BIGINT = 2**63


async def test_ids_beyond_what_a_row_can_hold_are_invalid_input(client: httpx.AsyncClient, mall: Mall) -> None:
    """In a path, a query or a body, an id past 2^63 − 1 is refused before any query (it used to overflow the
    driver: a 500 on SQLite and PostgreSQL alike)."""
    shopper, staff = await mall.shopper("alice"), await mall.staff("owner")
    for request in (client.get(f"/orders/{BEYOND_BIGINT}", headers=shopper),
                    client.post(f"/admin/refunds/{BEYOND_BIGINT}/approve", headers=staff),
                    client.get("/products", params={"merchant": mall.slug, "category_id": BEYOND_BIGINT}),
                    mall.place_order(shopper, sku_id=BEYOND_BIGINT)):
        await refused_unchanged(mall, request, 422, "invalid_request", tables=["orders", "refunds"])
    problem(await client.get(f"/orders/{BEYOND_BIGINT - 1}", headers=shopper), 404, "order_not_found")


@pytest.mark.postgres
async def test_text_with_a_nul_character_is_invalid_input(client: httpx.AsyncClient, mall: Mall) -> None:
    """PostgreSQL cannot store U+0000: refused as the client's input, and nothing is written."""
    await refused_unchanged(mall, client.post("/admin/categories", headers=await mall.staff("owner"),
                                              json={"name": "Te\u0000a"}), 422, "invalid_request",
                            tables=["categories"])


async def test_the_document_declares_credentials_and_refusals(app) -> None:
    spec = app.openapi()
    assert set(spec["components"]["securitySchemes"]) == {"shopper", "staff", "platform"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    operations = {f"{method.upper()} {path}": operation for path, item in spec["paths"].items()
                  for method, operation in item.items()}
    assert operations["POST /api/v1/orders"]["security"] == [{"shopper": []}]
    assert operations["GET /api/v1/products"]["security"] == [{"shopper": []}, {}]
    assert operations["POST /api/v1/admin/refunds/{refund_id}/approve"]["security"] == [{"staff": []}]
    assert "security" not in operations["POST /api/v1/admin/auth/login"]
    assert operations["POST /api/v1/platform/merchants"]["security"] == [{"platform": []}]
    assert "forbidden" in _codes(operations["POST /api/v1/admin/refunds/{refund_id}/approve"], "403")
    assert "forbidden" not in _codes(operations["GET /api/v1/orders"], "403")
    assert _codes(operations["GET /api/v1/orders"], "401") >= {"unauthenticated"}
    assert "unauthenticated" not in _codes(operations["GET /api/v1/products"], "401")
    for label, operation in operations.items():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (label, status)
        assert {"422", "503"} <= set(operation["responses"]), label
        assert "invalid_request" in _codes(operation, "422"), label


async def test_every_code_raised_in_the_source_is_declared(app) -> None:
    """Read independently of the document's builder: every `Error("code", …)` and `problem(status, "code", …)`."""
    spec = app.openapi()
    declared = {code for item in spec["paths"].values() for operation in item.values()
                for status in operation["responses"] if int(status) >= 400
                for code in _codes(operation, status)}
    raised = set()
    for path in Path(fissionmall.__file__).parent.rglob("*.py"):
        if not OUTSIDE_THE_API.intersection(path.parts):
            raised |= set(RAISED.findall(path.read_text(encoding="utf-8")))
    assert len(raised) > 100
    assert raised - declared == set()


OUTSIDE_THE_API = frozenset({"jobs", "operations", "web"})
"""Packages that answer the command line (jobs), the probes and /metrics, or the shopper pages (web: HTML pages with
the code in the page), which are kept out of the document."""
RAISED = re.compile(r'(?:\b(?:NotFound|Conflict|InvalidInput|Unauthorized|Forbidden|TooManyRequests|WechatLoginFailed'
                    r'|PricingRefused)\(|\bproblem\(\d{3}, )\s*"(\w+)"')


def _codes(operation: dict[str, Any], status: str) -> set[str]:
    schema = operation["responses"][status]["content"]["application/problem+json"]["schema"]
    return set(schema["allOf"][1]["properties"]["code"]["enum"]) if "allOf" in schema else set()
