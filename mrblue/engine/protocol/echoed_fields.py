"""Fields the engine keeps and reports but does not act on, checked to their GA shapes.

`tracing`, `truncation`, `include` and `prompt` of a session (OpenAI's traces dashboard,
context truncation, transcription logprobs and stored prompts have no counterpart here), and
a response's `metadata` and `prompt`. Each is echoed back in `session.updated` (or
`response.created`), so each is checked as the official SDK's types shape it: a value the SDK
cannot read would break every later event that carries it.
"""

from mrblue.engine.protocol.events import ProtocolError
from mrblue.engine.protocol.fields import choice, get, nesting_within, no_unknown, number_in
from mrblue.engine.protocol.spec import LIMITS

INCLUDE = ("item.input_audio_transcription.logprobs",)
IMAGE_DETAIL = ("low", "high", "auto", "original")
FILE_DETAIL = ("auto", "low", "high")
MAX_TRACING_METADATA_DEPTH = 8
# OpenAI's metadata everywhere: 16 pairs, keys of at most 64 characters, values of 512.
MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512


def _object(value, param: str) -> dict:
    return get({"v": value}, "v", dict, param)


def tracing(value, param: str):
    """null (no tracing), "auto", or {group_id, metadata, workflow_name}."""
    if value is None or isinstance(value, str):
        return value if value is None else choice(value, ("auto",), param)
    no_unknown(_object(value, param), ("group_id", "metadata", "workflow_name"), param)
    checked = {}
    for key in ("group_id", "workflow_name"):
        if key in value:
            checked[key] = get(value, key, str, f"{param}.{key}")
    if "metadata" in value:
        metadata = get(value, "metadata", dict, f"{param}.metadata")
        nesting_within(metadata, MAX_TRACING_METADATA_DEPTH, f"{param}.metadata")
        checked["metadata"] = metadata
    return checked


def truncation(value, param: str):
    """ "auto", "disabled", or {type: "retention_ratio", retention_ratio, token_limits}."""
    if isinstance(value, str):
        return choice(value, ("auto", "disabled"), param)
    no_unknown(_object(value, param), ("type", "retention_ratio", "token_limits"), param)
    kind = get(value, "type", str, f"{param}.type", required=True)
    choice(kind, ("retention_ratio",), f"{param}.type")
    ratio = get(value, "retention_ratio", float, f"{param}.retention_ratio", required=True)
    checked = {
        "type": "retention_ratio",
        "retention_ratio": number_in(ratio, *LIMITS["retention_ratio"], f"{param}.retention_ratio"),
    }
    if "token_limits" in value:
        where = f"{param}.token_limits"
        limits = get(value, "token_limits", dict, where)
        no_unknown(limits, ("post_instructions",), where)
        checked["token_limits"] = {}
        if "post_instructions" in limits:
            tokens = get(limits, "post_instructions", int, f"{where}.post_instructions")
            checked["token_limits"]["post_instructions"] = number_in(
                tokens, *LIMITS["post_instructions"], f"{where}.post_instructions"
            )
    return checked


def include(value, param: str):
    """null, or a list of the extra fields to report (only transcription logprobs)."""
    if value is None:
        return None
    values = get({"v": value}, "v", list, param)
    return [choice(entry, INCLUDE, f"{param}[{i}]") for i, entry in enumerate(values)]


def prompt(value, param: str):
    """null, or a stored prompt's reference: {id, version, variables}."""
    if value is None:
        return None
    no_unknown(_object(value, param), ("id", "version", "variables"), param)
    checked = {"id": get(value, "id", str, f"{param}.id", required=True)}
    if "version" in value:
        checked["version"] = get(value, "version", str, f"{param}.version", nullable=True)
    if "variables" in value:
        variables = get(value, "variables", dict, f"{param}.variables", nullable=True)
        if variables is not None:
            variables = {
                name: _variable(variable, f"{param}.variables.{name}")
                for name, variable in variables.items()
            }
        checked["variables"] = variables
    return checked


def _variable(value, param: str):
    """A prompt variable: a string, or an input_text, input_image or input_file part."""
    if isinstance(value, str):
        return value
    _object(value, param)
    kind = get(value, "type", str, f"{param}.type", required=True)
    choice(kind, ("input_text", "input_image", "input_file"), f"{param}.type")
    if kind == "input_text":
        no_unknown(value, ("type", "text"), param)
        return {"type": kind, "text": get(value, "text", str, f"{param}.text", required=True)}
    if kind == "input_image":
        no_unknown(value, ("type", "detail", "file_id", "image_url"), param)
        detail = get(value, "detail", str, f"{param}.detail", required=True)
        checked = {"type": kind, "detail": choice(detail, IMAGE_DETAIL, f"{param}.detail")}
        names: tuple[str, ...] = ("file_id", "image_url")
    else:
        no_unknown(value, ("type", "detail", "file_data", "file_id", "file_url", "filename"), param)
        checked = {"type": kind}
        if "detail" in value:
            detail = get(value, "detail", str, f"{param}.detail")
            checked["detail"] = choice(detail, FILE_DETAIL, f"{param}.detail")
        names = ("file_data", "file_id", "file_url", "filename")
    for name in names:
        if name in value:
            nullable = name in ("file_id", "image_url")  # as the SDK's types have them
            checked[name] = get(value, name, str, f"{param}.{name}", nullable=nullable)
    return checked


def metadata(value, param: str):
    """null, or up to 16 string pairs (keys of at most 64 characters, values of 512)."""
    if value is None:
        return None
    if len(_object(value, param)) > MAX_METADATA_PAIRS:
        raise ProtocolError(
            "invalid_value", f"'{param}' holds at most {MAX_METADATA_PAIRS} pairs.", param
        )
    for key, entry in value.items():
        if len(key) > MAX_METADATA_KEY:
            raise ProtocolError(
                "invalid_value",
                f"Keys of '{param}' are at most {MAX_METADATA_KEY} characters.",
                param,
            )
        get(value, key, str, f"{param}.{key}")
        if len(entry) > MAX_METADATA_VALUE:
            raise ProtocolError(
                "invalid_value",
                f"Values of '{param}' are at most {MAX_METADATA_VALUE} characters.",
                f"{param}.{key}",
            )
    return dict(value)


# The session's echoed fields and their checks, by name.
SESSION_FIELDS = {
    "tracing": tracing,
    "truncation": truncation,
    "include": include,
    "prompt": prompt,
}
