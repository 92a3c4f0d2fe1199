"""Token usage and estimated cost of a conversation, from its logged `response.done` usage.

With OpenAI as provider these numbers are what the browser reported (the server never sees
the call), so they are checked on the way in (`read_usage`) and read defensively here: a row
stored in any other shape is skipped, never an error.
"""

from dataclasses import dataclass

from mrblue.app_settings import app_settings

KINDS = ("audio_in", "audio_cached", "audio_out", "text_in", "text_cached", "text_out")
# No single response comes near this; anything above is a forged or broken report.
MAX_TOKENS = 10_000_000
# The usage object of `response.done` (openai.types.realtime.RealtimeResponseUsage): counts,
# and nested objects of counts. Unknown keys are dropped, not refused, so a field OpenAI adds
# later does not cost us a response's usage.
_COUNTS = ("text_tokens", "audio_tokens", "image_tokens")
USAGE_SHAPE = {
    "total_tokens": int,
    "input_tokens": int,
    "output_tokens": int,
    "input_token_details": {
        **dict.fromkeys(_COUNTS, int),
        "cached_tokens": int,
        "cached_tokens_details": dict.fromkeys(_COUNTS, int),
    },
    "output_token_details": {"text_tokens": int, "audio_tokens": int},
}
SOURCE_NOTE = (
    "Tokens and costs are estimates from the logged usage of each response. With OpenAI as "
    "provider they come from the browser's report (OpenAI's response.done), which the server "
    "cannot check; with the built-in engine they are the engine's own counts. The built-in "
    "engine charges nothing per call: its conversations show no charge, and what the same "
    "tokens would cost with OpenAI at the model's rates."
)
# `Conversation.provider` of conversations held with the built-in engine.
BUILT_IN = "local"


def read_usage(value, shape=USAGE_SHAPE, path="usage") -> dict:
    """The known fields of a usage object, checked: TypeError (naming the field) if one is not
    a whole number or not an object, ValueError if a count is not from 0 to MAX_TOKENS;
    unknown and null fields are dropped."""
    if not isinstance(value, dict):
        raise TypeError(f"'{path}' must be an object.")
    clean = {}
    for key, kind in shape.items():
        item = value.get(key)
        if item is None:
            continue
        if isinstance(kind, dict):
            clean[key] = read_usage(item, kind, f"{path}.{key}")
        elif isinstance(item, bool) or not isinstance(item, int):
            raise TypeError(f"'{path}.{key}' must be a whole number.")
        elif not 0 <= item <= MAX_TOKENS:
            raise ValueError(f"'{path}.{key}' must be between 0 and {MAX_TOKENS}.")
        else:
            clean[key] = item
    return clean


def usage_totals(usages: list[dict]) -> dict[str, int]:
    """Add up usage objects (as `read_usage` returns them), split by modality and caching."""
    totals = dict.fromkeys(KINDS, 0)
    for usage in usages:
        inputs = usage.get("input_token_details", {})
        cached = inputs.get("cached_tokens_details", {})
        outputs = usage.get("output_token_details", {})
        for kind in ("audio", "text"):
            total_in = inputs.get(f"{kind}_tokens", 0)
            cached_in = cached.get(f"{kind}_tokens", 0)
            totals[f"{kind}_cached"] += cached_in
            totals[f"{kind}_in"] += max(0, total_in - cached_in)
            totals[f"{kind}_out"] += outputs.get(f"{kind}_tokens", 0)
    return totals


def estimated_cost(model: str, totals: dict[str, int]) -> float | None:
    """USD for these tokens at the model's rates, or None for a model without prices."""
    prices = app_settings.PRICES.get(model)
    if prices is None:
        return None
    cost = 0.0
    for kind in ("audio", "text"):
        per_in, per_cached, per_out = prices[kind]
        cost += (
            totals[f"{kind}_in"] * per_in
            + totals[f"{kind}_cached"] * per_cached
            + totals[f"{kind}_out"] * per_out
        ) / 1_000_000
    return cost


@dataclass(frozen=True)
class Charge:
    """What a conversation's tokens cost: `usd` (None for a model without prices), and for
    the built-in engine, which charges nothing, what OpenAI would charge for them."""

    usd: float | None
    built_in: bool = False
    openai_usd: float | None = None


def charge(provider: str, model: str, totals: dict[str, int]) -> Charge:
    """The charge of tokens used with `provider`: OpenAI's rates for OpenAI, nothing for the
    built-in engine (with OpenAI's as a comparison)."""
    at_openai_rates = estimated_cost(model, totals)
    if provider == BUILT_IN:
        return Charge(0.0, built_in=True, openai_usd=at_openai_rates)
    return Charge(at_openai_rates)


def conversation_usage(usage_messages) -> list[dict]:
    """The usage of each response, once per response id, from a conversation's `usage` log
    messages; a message stored in a shape we cannot read is skipped."""
    seen, usages = set(), []
    for message in usage_messages:
        payload = message.payload
        if not isinstance(payload, dict) or not isinstance(payload.get("response_id"), str):
            continue
        try:
            usage = read_usage(payload.get("usage"))
        except (TypeError, ValueError):
            continue
        if payload["response_id"] not in seen:
            seen.add(payload["response_id"])
            usages.append(usage)
    return usages
