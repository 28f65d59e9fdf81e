"""The OpenAPI as a contract: who may call each operation, and every refusal it can answer, with its stable codes.

Built once from the code itself, so it cannot drift from it: the bearer credentials from each route's dependencies,
the error codes by reading the source for the places that raise them (`NotFound(<code>, …)`, `problem(503, <code>,
…)`), grouped by status and attached to the operations of the package that raises them and of the packages that
call it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from fissionmall.core import auth
from fissionmall.core.errors import PROBLEM, DomainError, InvalidInput

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT.name
AUTH_MODULES = frozenset({auth.__name__, f"{PACKAGE}.core.transaction"})
"""Where a missing or bad credential is refused (the route's dependencies, and the check made before its body is
read): their codes go only to the operations whose security scheme requires them."""
CARRIED = {"PricingRefused": InvalidInput.status}
"""Exceptions that are not DomainErrors but whose code the caller re-raises as one (a refused benefit → 422)."""

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is the stable, machine-readable reason.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "array", "description": "every invalid input, for 422 invalid_request",
                   "items": {"type": "object", "required": ["field", "message"],
                             "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
SCHEMES = {
    "shopper": "A shopper token from POST /auth/dev-login or /auth/wechat-login: one customer of one mall.",
    "staff": "A staff token from POST /admin/auth/login: a merchant's staff member, whose role grants permissions.",
}


@dataclass(frozen=True)
class Raised:
    module: str
    code: str
    status: int


@dataclass(frozen=True)
class Source:
    """What reading the source found: the codes raised, each module's imports of the project, the packages, and the
    modules that answer with `problem(...)` themselves (handlers and middleware, in front of every operation)."""

    raised: frozenset[Raised]
    imports: dict[str, frozenset[str]]
    packages: frozenset[str]
    answering: frozenset[str]

    def package_of(self, module: str) -> str:
        return module if module in self.packages else module.rsplit(".", 1)[0]


def _statuses() -> dict[str, int]:
    """Each DomainError class by name, with its status."""
    found, waiting = {}, [DomainError]
    while waiting:
        cls = waiting.pop()
        found[cls.__name__] = cls.status
        waiting += cls.__subclasses__()
    return found | CARRIED


def _called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def _literal(node: ast.expr) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


@cache
def read_source() -> Source:
    statuses = _statuses()
    raised: set[Raised] = set()
    imports: dict[str, frozenset[str]] = {}
    packages, answering = set(), set()
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if parts[-1] == "__init__":
            packages.add(module)
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
                imported |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
            elif isinstance(node, ast.Call) and node.args:
                name, first = _called(node), _literal(node.args[0])
                if name in statuses and isinstance(first, str):
                    raised.add(Raised(module, first, statuses[name]))
                elif name == "problem" and isinstance(first, int) and len(node.args) > 1:
                    if module.startswith(f"{PACKAGE}.core."):  # handlers and middleware: in front of every route
                        answering.add(module)
                    if isinstance(code := _literal(node.args[1]), str):
                        raised.add(Raised(module, code, first))
        imports[module] = frozenset(imported)
    return Source(frozenset(raised), {m: names & imports.keys() for m, names in imports.items()},
                  frozenset(packages), frozenset(answering))


Codes = dict[int, frozenset[str]]


def _grouped(raised: Iterator[Raised] | set[Raised]) -> Codes:
    grouped: dict[int, set[str]] = defaultdict(set)
    for r in raised:
        grouped[r.status].add(r.code)
    return {status: frozenset(codes) for status, codes in grouped.items()}


@cache
def codes_by_package() -> tuple[Codes, dict[str, Codes]]:
    """The codes every operation can answer, and those of each package's operations: its own and those of the
    packages its modules import (the services it calls). Authentication codes are left to the security schemes."""
    source = read_source()
    common = _grouped({r for r in source.raised if r.module in source.answering})
    reached: dict[str, set[str]] = defaultdict(set)
    for module, names in source.imports.items():
        package = source.package_of(module)
        reached[package] |= {package} | {source.package_of(name) for name in names}
    return common, {package: _grouped({r for r in source.raised if source.package_of(r.module) in sources
                                       and r.module not in source.answering and r.module not in AUTH_MODULES})
                    for package, sources in reached.items()}


def _calls(dependant: Dependant) -> Iterator[tuple[Callable[..., Any] | None, Dependant]]:
    for sub in dependant.dependencies:
        yield sub.call, sub
        yield from _calls(sub)


OtherSchemes = Mapping[Callable[..., Any], tuple[str, str]]
"""The dependencies of bearer credentials that core does not know (the platform operator's), each with its scheme's
name and description."""


def credentials(route: APIRoute, others: OtherSchemes) -> tuple[str | None, bool, bool]:
    """The bearer scheme a route needs (or accepts), whether it is required, and whether a role is checked."""
    calls = list(_calls(route.dependant))
    found = {call for call, _ in calls}
    for call, (name, _) in others.items():
        if call in found:
            return name, True, False
    role_checked = any(call is not auth.current_staff and any(c is auth.current_staff for c, _ in _calls(sub))
                       for call, sub in calls)
    if auth.current_staff in found:
        return "staff", True, role_checked
    if auth.current_shopper in found:
        return "shopper", True, False
    if auth.optional_shopper in found:
        return "shopper", False, False
    return None, False, False


def _problem_response(title: str, codes: frozenset[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": "#/components/schemas/Problem"}
    if codes:
        schema = {"allOf": [schema, {"properties": {"code": {"enum": sorted(codes)}}}]}
    return {"description": f"{title}: {', '.join(sorted(codes))}" if codes else title,
            "content": {PROBLEM: {"schema": schema}}}


_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict", 413: "Content too large",
           422: "Invalid input", 429: "Too many requests", 503: "Service unavailable"}


def _errors(route: APIRoute, scheme: str | None, required: bool, role_checked: bool) -> dict[int, frozenset[str]]:
    source = read_source()
    common, by_package = codes_by_package()
    errors: dict[int, set[str]] = defaultdict(set)
    for status, codes in (*common.items(), *by_package.get(source.package_of(route.endpoint.__module__), {}).items()):
        errors[status] |= codes
    errors[422].add("invalid_request")
    auth_codes = {r.code: r.status for r in source.raised if r.module in AUTH_MODULES}
    if scheme and required:
        errors[401] |= {code for code, status in auth_codes.items() if status == 401}
    if role_checked:
        errors[403] |= {code for code, status in auth_codes.items() if status == 403}
    return {status: frozenset(codes) for status, codes in errors.items()}


def install_openapi(app: FastAPI, others: OtherSchemes) -> None:
    """Replace FastAPI's generated document with the contract above, built on first use and kept."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = spec.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = {name: {"type": "http", "scheme": "bearer", "description": text}
                                         for name, text in (*SCHEMES.items(), *others.values())}
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            scheme, required, role_checked = credentials(route, others)
            for method in context.methods or ():
                operation = spec["paths"][context.path_format][method.lower()]
                if scheme:
                    operation["security"] = [{scheme: []}] if required else [{scheme: []}, {}]
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, codes in sorted(_errors(route, scheme, required, role_checked).items()):
                    responses[str(status)] = _problem_response(_TITLES.get(status, "Error"), codes)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
