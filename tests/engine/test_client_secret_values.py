"""A client secret's value: fresh each time, in OpenAI's `ek_` shape, made through the class
as every mint makes it, on every Python the project supports (3.13 stopped chaining
`classmethod` through `staticmethod`, and a class method stacked on a static one then passes
the class to a function that takes nothing: no session could be minted)."""

import re

import pytest

from mrblue.engine.models import EngineClientSecret, hash_secret

EK_VALUE = re.compile(r"ek_[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 43 characters


def test_a_new_value_made_through_the_class_is_a_fresh_ek_key():
    values = [EngineClientSecret.new_value() for _ in range(3)]
    assert all(EK_VALUE.fullmatch(value) for value in values), values
    assert len(set(values)) == 3


def test_a_new_value_made_through_a_row_is_one_too():
    assert EK_VALUE.fullmatch(EngineClientSecret().new_value())


@pytest.mark.django_db
def test_a_mint_stores_only_the_hash_of_its_fresh_value():
    value, row = EngineClientSecret.mint({"type": "realtime"}, seconds=60)
    assert EK_VALUE.fullmatch(value)
    assert row.key_hash == hash_secret(value) != value
    assert EngineClientSecret.live(value) == row
