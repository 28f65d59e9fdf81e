"""Which of the captured statements a Citus cluster, the schema distributed by merchant, would send to one node.

Reads what `python -m bench` captured (bench/out/statements/<scenario>.sql: every statement of one request of each
kind) and sorts each statement by the tables it names (`fissionmall.tables` says which are reference and local):

- router: every tenant table it names is pinned to one merchant (`t.merchant_id = $n`, or an INSERT … VALUES that
  sets merchant_id), so one node runs it;
- reference: it names reference tables only, which every node holds;
- every shard: a tenant table it names is not pinned, so every node is asked (a lookup by id alone, a sweep).

A reading of the SQL text, not Citus's planner: a join pinned through another table's merchant counts as unpinned.
`python -m bench.router [scenario …]`; docs/scaling.md quotes it.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from bench.capture import OUT
from fissionmall.tables import LOCAL_TABLES, REFERENCE_TABLES, Base

TABLES = set(Base.metadata.tables)
NAMED = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)")
PINNED = r"\b{table}\.merchant_id = \$\d+"


def kind_of(statement: str) -> str:
    named = {name for name in NAMED.findall(statement) if name in TABLES} - set(LOCAL_TABLES)
    tenant = named - set(REFERENCE_TABLES)
    if not tenant:
        return "reference"
    inserted = re.match(r"INSERT INTO (\w+) \(([^)]*)\) VALUES", statement)
    if inserted and "merchant_id" in inserted.group(2).split(", ") and tenant == {inserted.group(1)}:
        return "router"
    alone = len(tenant) == 1 and re.search(r"(?<![.\w])merchant_id = \$\d+", statement)
    if alone or all(re.search(PINNED.format(table=table), statement) for table in tenant):
        return "router"
    return "every shard"


def requests(path: Path) -> dict[str, list[str]]:
    """Each captured request (its header line) → its statements, BEGIN and COMMIT left out."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line.startswith("-- ===== "):
            current = found.setdefault(line.removeprefix("-- ===== ").rsplit(":", 1)[0], [])
        elif line and not line.startswith(("--", " ")) and line not in ("BEGIN;", "COMMIT;", "ROLLBACK;"):
            current.append(line)
    return found


def counted(statements: list[str]) -> str:
    kinds = Counter(kind_of(statement) for statement in statements)
    return f"{len(statements):3d} statements: " + ", ".join(f"{kinds[k]} {k}" for k in KINDS)


KINDS = ("router", "reference", "every shard")


def main(scenarios: list[str]) -> None:
    paths = [OUT / f"{name}.sql" for name in scenarios] or sorted(OUT.glob("*.sql"))
    for path in paths:
        captured = requests(path)
        every = [statement for statements in captured.values() for statement in statements]
        print(f"{path.stem}: {counted(every)}")
        for request, statements in captured.items():
            print(f"  {request}: {counted(statements)}")
        print("  not pinned to one merchant:")
        for statement, times in Counter(s[:140] for s in every if kind_of(s) == "every shard").most_common():
            print(f"  {times:3d} × {statement}")


if __name__ == "__main__":
    main(sys.argv[1:])
