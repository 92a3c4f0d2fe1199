"""Reading JSON from the outside world: every mistake is a `ValueError` with a message a
client can act on, never a crash."""

import pytest

from mrblue.shared.json_input import parse_json, read_json, read_json_object


def test_deep_nesting_is_malformed_json_not_a_crash():
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json("[" * 100_000)


def test_a_lone_surrogate_is_refused_when_asked_and_text_no_database_stores_always():
    assert parse_json('"\\ud800"') == "\ud800"
    with pytest.raises(ValueError, match="lone surrogate"):
        parse_json('"\\ud800"', strict_text=True)
    with pytest.raises(ValueError, match="NUL character"):
        read_json('{"text": "a\\u0000b"}')


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "The request body is not usable JSON"),
        (b"", 'Send a JSON object like {"page": "<slug>"}.'),
        (b"[1, 2]", 'Send a JSON object like {"page": "<slug>"}.'),
    ],
)
def test_a_body_that_is_no_json_object_says_what_to_send(raw, message):
    with pytest.raises(ValueError, match="^" + message.replace("{", r"\{").replace("[", r"\[")):
        read_json_object(raw, '{"page": "<slug>"}')


def test_a_json_object_is_read_as_it_is():
    assert read_json_object(b'{"page": "mundo-tango"}', "{}") == {"page": "mundo-tango"}
