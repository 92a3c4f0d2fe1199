"""Strategies every surface uses: JSON junk, "mostly right" values, garbage frames, schemas."""

import base64
import json

from hypothesis import strategies as st

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too: Python's json reads and writes them
    st.text(max_size=30),
)
# Any JSON value (and then some), small.
junk = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)
short_text = st.text(max_size=60)
# Text people and programs really send: markup, template syntax, control and RTL characters,
# a lone surrogate (valid as a JSON escape, not encodable as UTF-8).
tricky_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\u202e",
            "<script>alert(1)</script>",
            "{{ x }}",
            "%s%n",
            "..." * 50,
            "\ud800",
        ]
    ),
)


def mostly(good: st.SearchStrategy) -> st.SearchStrategy:
    """`good` three times in four, else any junk (right shape, wrong value or type)."""
    return st.one_of(good, good, good, junk)


DEPTHS = st.integers(1, 100_000)


def nested(depth: st.SearchStrategy = DEPTHS) -> st.SearchStrategy:
    """JSON text nested `depth` deep: arrays, objects, or both."""
    return st.builds(
        lambda n, kind: {
            "list": "[" * n + "]" * n,
            "dict": '{"a":' * n + "1" + "}" * n,
            "open": "[" * n,
        }[kind],
        depth,
        st.sampled_from(["list", "dict", "open"]),
    )


# Raw frames that are not client events at all.
garbage_text = st.one_of(
    st.text(max_size=200),
    nested(),
    st.sampled_from(["null", "[]", "1", '"x"', "{", "NaN", "{}", '{"type": null}', '"\\ud800"']),
    junk.map(json.dumps),
)
garbage_bytes = st.binary(max_size=200)

base64_audio = st.one_of(
    st.binary(max_size=2000).map(lambda b: base64.b64encode(b).decode()),  # odd lengths too
    st.integers(0, 6_000).map(lambda n: base64.b64encode(bytes(2 * n)).decode()),  # silence
    st.text(max_size=50),  # mostly not base64
    st.sampled_from(["", "====", "QQ", "QUE=\n", "%%%"]),
)


def from_schema(schema: dict, fields: dict | None = None) -> st.SearchStrategy:
    """Values for a (small) JSON schema, right most of the time and sometimes just outside:
    enough of the keywords the page tools use (type, enum, minimum/maximum, maxLength).
    `fields` gives the strategy of an object property by name (e.g. ids that exist)."""
    fields = fields or {}
    if "enum" in schema:
        return mostly(st.sampled_from(schema["enum"]) | st.text(max_size=10))
    kind = schema.get("type")
    if kind == "string":
        limit = schema.get("maxLength", 300)
        return mostly(st.text(max_size=min(limit, 300)) | st.just("x" * (limit + 1)))
    if kind == "integer":
        low, high = schema.get("minimum", -(2**40)), schema.get("maximum", 2**40)
        return mostly(st.integers(low - 2, high + 2))
    if kind == "object":
        properties = {
            key: fields[key] if key in fields else from_schema(value, fields)
            for key, value in schema["properties"].items()
        }
        required = {key: properties[key] for key in schema.get("required", ())}
        optional = {key: s for key, s in properties.items() if key not in required}
        fixed = st.fixed_dictionaries(required, optional=optional)
        extra = st.dictionaries(st.text(max_size=10), junk, max_size=2)
        return st.one_of(fixed, fixed, st.builds(lambda a, b: {**b, **a}, fixed, extra), junk)
    return junk
