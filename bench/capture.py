"""The SQL one request really issues: the app run in-process on the bench database, with SQLAlchemy's execution
events recording every statement (with its parameters) and the transaction's begin and end, per request and
outcome. This needs no hook in src/: the listener is attached to the runtime's engine from outside.

The statements are written to bench/out/statements/<scenario>.sql; the pgbench mirrors in bench/pgbench/ were
written from them, and each mirror declares how many statements it replays, so a change in src/ that adds or
drops a statement on a hot path shows up as a warning on the next run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from bench.journeys import JOURNEYS
from bench.wire import Reply
from fissionmall.app import create_app
from fissionmall.composition import build_runtime
from fissionmall.config import Settings

OUT = Path(__file__).parent / "out" / "statements"


class Capture:
    def __init__(self, settings: Settings) -> None:
        self.runtime = build_runtime(settings)
        self.app = create_app(runtime=self.runtime)
        self.current: list[str] | None = None
        self.requests: dict[str, list[str]] = {}
        """'<scenario>/<phase> · <label> → <status> <code>' → the statements of the first such request."""
        engine = self.runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, self._marker(name.upper()))

    def _statement(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if self.current is not None:
            self.current.append(f"{' '.join(statement.split())};\n    -- {parameters!r}"[:4000])

    def _marker(self, name: str) -> Any:
        def record(_conn: Any) -> None:
            if self.current is not None:
                self.current.append(f"{name};")

        return record

    async def run(self, phase: str, journey: str, users: list[dict[str, Any]], context: dict[str, Any]) -> None:
        transport = httpx.ASGITransport(app=self.app, client=("10.9.8.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            caller = CaptureCaller(self, client, phase)
            for user in users:
                await JOURNEYS[journey](caller, user, context)

    def statements_of(self, key: str) -> int:
        """Statements sent inside the transaction (BEGIN, COMMIT and ROLLBACK not counted)."""
        return sum(1 for s in self.requests.get(key, []) if s not in ("BEGIN;", "COMMIT;", "ROLLBACK;"))

    def write(self) -> list[Path]:
        OUT.mkdir(parents=True, exist_ok=True)
        files: dict[str, list[str]] = {}
        for key, statements in self.requests.items():
            scenario = key.split("/", 1)[0]
            files.setdefault(scenario, []).append(
                f"-- ===== {key}: {self.statements_of(key)} statements\n" + "\n".join(statements) + "\n"
            )
        written = []
        for scenario, sections in files.items():
            path = OUT / f"{scenario}.sql"
            path.write_text("\n".join(sections))
            written.append(path)
        return written

    async def close(self) -> None:
        await self.runtime.close()


class CaptureCaller:
    """A journey's caller that goes through the app in-process and keeps the statements of each kind of answer."""

    def __init__(self, capture: Capture, client: httpx.AsyncClient, phase: str) -> None:
        self.capture, self.client, self.phase = capture, client, phase

    async def call(
        self, label: str, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        self.capture.current = []
        headers = dict(headers or {}, **({"Content-Type": "application/json"} if body is not None else {}))
        try:
            answer = await self.client.request(method, path, content=body, headers=headers)
        finally:
            statements, self.capture.current = self.capture.current, None
        try:
            data = answer.json()
        except ValueError:
            data = None
        reply = Reply(answer.status_code, data)
        key = f"{self.phase} · {label} → {reply.status} {reply.code}".strip()
        known = self.capture.requests.setdefault(key, statements)
        if len(known) != len(statements):  # another path with the same answer (the help that opens a packet …)
            self.capture.requests.setdefault(f"{key} (variant of {len(statements) - 2} statements)", statements)
        return reply
