"""Signed share codes as pure functions: a code reads back as its id under its own secret and purpose, and as
nothing under another secret, another purpose, an edit or arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fissionmall.core.tokens import SigningKeys, read_code, sign_code

pytestmark = pytest.mark.backend_free

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
IDS = st.integers(min_value=0, max_value=2**64 - 1)
SECRETS = st.text(min_size=1, max_size=40).map(SigningKeys)
PURPOSES = st.sampled_from(["share", "token", "group", "bargain", "packet"])


@given(secret=SECRETS, number=IDS)
def test_a_code_reads_back_as_its_id(secret, number):
    code = sign_code(secret, "share", number)
    assert len(code) <= 32 and set(code) <= set(ALPHABET)
    assert read_code(secret, "share", code) == number


@given(secret=SECRETS, other=SECRETS, number=IDS)
def test_a_code_signed_with_another_secret_reads_as_none(secret, other, number):
    assume(other != secret)
    assert read_code(other, "share", sign_code(secret, "share", number)) is None


@given(secret=SECRETS, purpose=PURPOSES, other=PURPOSES, number=IDS)
def test_a_code_signed_for_another_purpose_reads_as_none(secret, purpose, other, number):
    assume(other != purpose)
    assert read_code(secret, other, sign_code(secret, purpose, number)) is None


@given(secret=SECRETS, number=IDS, position=st.integers(min_value=0), shift=st.integers(min_value=1, max_value=61))
def test_an_edited_code_reads_as_none(secret, number, position, shift):
    code = sign_code(secret, "share", number)
    i = position % len(code)
    edited = code[:i] + ALPHABET[(ALPHABET.index(code[i]) + shift) % 62] + code[i + 1:]
    assert read_code(secret, "share", edited) is None


@given(text=st.text(max_size=40))
def test_arbitrary_text_never_reads_as_an_id_without_the_secret(text):
    assert read_code(SigningKeys("test-secret"), "share", text) is None
