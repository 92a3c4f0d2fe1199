"""Token usage and estimated cost of a conversation, from its logged `response.done` usage."""

from mrblue.conf import app_settings

KINDS = ("audio_in", "audio_cached", "audio_out", "text_in", "text_cached", "text_out")


def usage_totals(usages: list[dict]) -> dict[str, int]:
    """Add up usage objects (as in `response.done`), split by modality and caching."""
    totals = dict.fromkeys(KINDS, 0)
    for usage in usages:
        inputs = usage.get("input_token_details") or {}
        cached = inputs.get("cached_tokens_details") or {}
        outputs = usage.get("output_token_details") or {}
        for kind in ("audio", "text"):
            total_in = int(inputs.get(f"{kind}_tokens") or 0)
            cached_in = int(cached.get(f"{kind}_tokens") or 0)
            totals[f"{kind}_cached"] += cached_in
            totals[f"{kind}_in"] += max(0, total_in - cached_in)
            totals[f"{kind}_out"] += int(outputs.get(f"{kind}_tokens") or 0)
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


def conversation_usage(usage_messages) -> list[dict]:
    """The usage of each response, once per response id, from a conversation's `usage` log
    messages."""
    seen, usages = set(), []
    for message in usage_messages:
        response_id = message.payload.get("response_id")
        if response_id not in seen:
            seen.add(response_id)
            usages.append(message.payload.get("usage") or {})
    return usages
