"""Page content validation."""

import pytest
from django.core.exceptions import ValidationError

from editor.blocks import normalize_color, validate_blocks


def block(**fields):
    return {"id": "b1", "type": "paragraph", "text": "hi", "style": {}, **fields}


def test_a_valid_page_is_normalised():
    result = validate_blocks([block(style={"color": "Blue", "align": "center", "font_size": 20})])
    assert result == [
        {
            "id": "b1",
            "type": "paragraph",
            "text": "hi",
            "style": {"color": "#1e88e5", "align": "center", "font_size": 20},
        }
    ]


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ("not a list", "list of blocks"),
        ([block(type="video")], "type must be one of"),
        ([block(id="has space")], "needs an id"),
        ([block(), block()], "used twice"),
        ([block(text=5)], "text must be text"),
        ([block(style={"color": "blurple"})], "unknown colour"),
        ([block(style={"font_size": 500})], "font_size"),
        ([block(style={"align": "middle"})], "align must be"),
        ([block(style={"border": "1px"})], "unknown style"),
    ],
)
def test_bad_content_is_refused_clearly(blocks, message):
    with pytest.raises(ValidationError) as caught:
        validate_blocks(blocks)
    assert message in caught.value.messages[0]


def test_hex_colours_pass_and_names_map():
    assert normalize_color("#ABC") == "#abc"
    assert normalize_color("red") == "#e53935"
    with pytest.raises(ValueError):
        normalize_color("#12345")
