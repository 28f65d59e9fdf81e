"""Shared request-shape habits."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, ValidationInfo, field_validator

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""A row id as a client sends it (path, query or body): what a BIGINT holds, so a larger number is a 422 before
any query instead of an overflow in the driver."""


class Patch(BaseModel):
    """A partial update: a field may be left out, but `null` only where clearing it means something."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may be left out, but not null")
        return value
