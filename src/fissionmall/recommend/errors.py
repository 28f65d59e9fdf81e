from __future__ import annotations

from fissionmall.core.errors import InvalidInput


def anchor_required(context: str, field: str) -> InvalidInput:
    return InvalidInput("recommendation_anchor_required", f"context={context} needs {field}", field=field)
