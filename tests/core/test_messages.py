"""Every refusal a shopper or the console can meet has its Chinese words: the codes the shopper and merchant APIs
declare, and field errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from fissionmall.app import create_app
from fissionmall.config import load_settings
from fissionmall.core.messages import BY_CODE, FALLBACK, hint_for, message_for

pytestmark = pytest.mark.backend_free


def declared_codes(spec: dict[str, Any]) -> set[str]:
    """Every problem code the shopper and merchant APIs declare (the platform's and the payment provider's callers
    read no Chinese)."""
    codes: set[str] = set()
    for path, item in spec["paths"].items():
        if path.startswith(("/api/v1/platform", "/api/v1/payments/notify")):
            continue
        for operation in item.values():
            for status, response in operation["responses"].items():
                schema = response["content"]["application/problem+json"]["schema"] if int(status) >= 400 else {}
                if "allOf" in schema:
                    codes |= set(schema["allOf"][1]["properties"]["code"]["enum"])
    return codes


def test_every_code_of_the_shopper_and_merchant_apis_has_its_chinese_words() -> None:
    spec = create_app(load_settings(api_docs=True, dev_login=True)).openapi()
    codes = declared_codes(spec)
    assert len(codes) > 100
    assert sorted(codes - set(BY_CODE)) == []
    assert all(message_for(code) != FALLBACK and message_for(code).isascii() is False for code in codes)


def test_field_errors_say_what_is_wrong_with_the_limit_they_broke() -> None:
    class Form(BaseModel):
        name: str = Field(min_length=1, max_length=30)
        phone: str = Field(pattern=r"^[0-9]{5,20}$")
        quantity: int = Field(ge=1, le=99)

    with pytest.raises(ValidationError) as raised:
        Form(name="很" * 31, phone="abc", quantity=0)
    hints = {str(error["loc"][0]): hint_for(dict(error)) for error in raised.value.errors()}
    assert hints == {"name": "最多 30 个字", "phone": "格式不正确", "quantity": "不能小于 1"}
    assert hint_for({"type": "something_new"}) == "填写有误"
