"""The CSV writer every console export uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from fissionmall.web.console.exports import cell, csv_download

pytestmark = pytest.mark.backend_free


def test_a_cell_that_looks_like_a_formula_stays_text() -> None:
    assert cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert cell("@SUM(A1)") == "'@SUM(A1)" and cell("-12.50") == "-12.50" and cell(None) == "" and cell(3) == "3"


async def test_the_download_starts_with_a_bom_and_names_the_file_in_utf8() -> None:
    async def rows() -> AsyncIterator[Iterable[Any]]:
        yield ["FM001", "小明", "12.50"]
        yield ["FM002", "=1+1", "0.01"]

    response = csv_download("订单.csv", ["订单号", "客户", "金额（元）"], rows())
    body = "".join([chunk if isinstance(chunk, str) else chunk.decode() async for chunk in response.body_iterator])
    assert body.startswith("\ufeff订单号,客户,金额（元）\r\n")
    assert "FM002,'=1+1,0.01" in body
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''%E8%AE%A2%E5%8D%95.csv"
