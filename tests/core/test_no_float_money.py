"""Money is integer fen (ARCHITECTURE rule 1): no expression in src/ mixes a `*_fen` name with a float literal or
true division, and no `*_fen` value is turned into a float. Read from the source with `ast`, so a new violation
fails here before any review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fissionmall

pytestmark = pytest.mark.backend_free

SOURCE = Path(fissionmall.__file__).parent


def _names_money(node: ast.AST) -> bool:
    """The expression reads a name or attribute ending in `_fen` (not inside a call, whose result is its own)."""
    if isinstance(node, ast.Name):
        return node.id.endswith("_fen")
    if isinstance(node, ast.Attribute):
        return node.attr.endswith("_fen")
    if isinstance(node, ast.Call):
        return False
    return any(_names_money(child) for child in ast.iter_child_nodes(node))


def _is_float_arithmetic(node: ast.BinOp) -> bool:
    if isinstance(node.op, ast.Div):
        return True
    return any(isinstance(side, ast.Constant) and isinstance(side.value, float) for side in (node.left, node.right))


def float_money(tree: ast.AST) -> list[int]:
    """Line numbers of float arithmetic on money in a module."""
    def offends(node: ast.AST) -> bool:
        if isinstance(node, ast.BinOp):
            return _is_float_arithmetic(node) and _names_money(node)
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"
                and any(_names_money(arg) for arg in node.args))

    return sorted(node.lineno for node in ast.walk(tree) if offends(node))


def test_the_check_finds_each_kind_of_float_money() -> None:
    source = """
a = order.total_fen / 2
b = price_fen * 0.9
c = float(refund.amount_fen)
d = (items_fen + shipping_fen) / quantity
ok = price_fen * percent // 100
ok2 = len(name) / 2
ok3 = percent_of(price_fen, 10) / 1
"""
    assert float_money(ast.parse(source)) == [2, 3, 4, 5]


def test_no_float_arithmetic_on_money_in_src() -> None:
    offences = [f"{path.relative_to(SOURCE)}:{line}" for path in sorted(SOURCE.rglob("*.py"))
                for line in float_money(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))]
    assert offences == []
