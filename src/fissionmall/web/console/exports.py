"""CSV downloads of the console's lists: UTF-8 with a byte-order mark (so Excel opens Chinese correctly), one row at
a time, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A value as a cell: text a shopper typed that starts like a formula (=HYPERLINK(…)) is kept as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_download(filename: str, header: Sequence[str], rows: AsyncIterator[Iterable[Any]]) -> StreamingResponse:
    """Streams `rows` (an async iterator, e.g. pages read through a service) as a CSV attachment."""

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(BOM)
        writer.writerow(header)
        async for row in rows:
            writer.writerow([cell(value) for value in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
