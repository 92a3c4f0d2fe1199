"""The `openai_compatible` brain: streams answers from any chat-completions server.

Works with Ollama, vLLM, llama.cpp's server or OpenAI itself: `POST {MRBLUE_BRAIN_URL}
/chat/completions` with `stream: true` and the session's tools, read as server-sent events.
"""

import json
import logging
import re

import httpx

from mrblue.engine.brains import BrainError, FunctionCall, TextDelta
from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.items import item_text

logger = logging.getLogger(__name__)
# Key-like words an upstream error may echo back ("Incorrect API key provided: sk-...").
_SECRET_LIKE = re.compile(r"\b(sk|ek|rk|pk)[-_][A-Za-z0-9_\-]{4,}|Bearer\s+\S+")


class OpenAICompatibleBrain:
    """A brain backed by a chat-completions server (settings `MRBLUE_BRAIN_*`)."""

    def __init__(self, url=None, model=None, api_key=None, timeout=None):
        self.url = (url or engine_settings.BRAIN_URL).rstrip("/")
        self.model = model or engine_settings.BRAIN_MODEL
        self.api_key = api_key if api_key is not None else engine_settings.BRAIN_API_KEY
        self.timeout = timeout or engine_settings.BRAIN_TIMEOUT

    async def respond(self, request):
        """Stream text deltas, then any tool calls, of one chat completion."""
        body = chat_request(request, self.model)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        calls: dict[int, dict] = {}
        try:
            async with (
                httpx.AsyncClient(timeout=timeout) as client,
                client.stream(
                    "POST", f"{self.url}/chat/completions", json=body, headers=headers
                ) as answer,
            ):
                if answer.status_code != 200:
                    await answer.aread()
                    raise BrainError(
                        "brain_http_error", f"The brain server answered HTTP {answer.status_code}."
                    )
                async for chunk in _sse_chunks(answer):
                    for output in _read_chunk(chunk, calls, self.api_key):
                        yield output
        except httpx.TimeoutException:
            raise BrainError("brain_timeout", "The brain server did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise BrainError(
                "brain_unreachable",
                f"The brain server could not be reached ({type(exc).__name__}).",
            ) from None
        for index in sorted(calls):
            call = calls[index]
            yield FunctionCall(call["name"], call["arguments"] or "{}", call.get("id"))


async def _sse_chunks(answer):
    async for line in answer.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError:
            raise BrainError(
                "brain_bad_response", "The brain server sent a chunk that is not JSON."
            ) from None


def _read_chunk(chunk, calls: dict, api_key: str = "") -> list:
    if not isinstance(chunk, dict):
        raise BrainError("brain_bad_response", "The brain server sent a chunk we cannot read.")
    if "error" in chunk:
        # The upstream text may name hosts, paths or keys: it goes to our log, not the client.
        logger.warning("brain server error: %s", _redacted(chunk["error"], api_key))
        raise BrainError("brain_error", "The brain server reported an error.")
    outputs = []
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        if delta.get("content"):
            outputs.append(TextDelta(delta["content"]))
        for call in delta.get("tool_calls") or []:
            slot = calls.setdefault(call.get("index", 0), {"id": None, "name": "", "arguments": ""})
            slot["id"] = call.get("id") or slot["id"]
            function = call.get("function") or {}
            slot["name"] += function.get("name") or ""
            slot["arguments"] += function.get("arguments") or ""
    return outputs


def _redacted(error, api_key: str) -> str:
    """An upstream error as one bounded log line, with our key and key-like words masked."""
    text = error.get("message", error) if isinstance(error, dict) else error
    text = str(text)[:500]
    if api_key:
        text = text.replace(api_key, "***")
    return _SECRET_LIKE.sub("***", text)


def chat_request(request, model: str) -> dict:
    """The chat-completions request for a realtime response request."""
    messages = [{"role": "system", "content": request.instructions}] if request.instructions else []
    for item in request.conversation:
        messages.extend(_messages(item))
    body = {"model": model, "messages": messages, "stream": True}
    if request.tools and request.tool_choice != "none":
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t.get("parameters") or {"type": "object", "properties": {}},
                },
            }
            for t in request.tools
        ]
        choice = request.tool_choice
        body["tool_choice"] = (
            choice
            if isinstance(choice, str)
            else {"type": "function", "function": {"name": choice["name"]}}
        )
    if isinstance(request.max_output_tokens, int):
        body["max_tokens"] = request.max_output_tokens
    return body


def _messages(item: dict) -> list:
    kind = item.get("type")
    if kind == "message":
        text = item_text(item)
        return [{"role": item["role"], "content": text}] if text else []
    if kind == "function_call":
        return [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": item["call_id"],
                        "type": "function",
                        "function": {
                            "name": item["name"],
                            "arguments": item.get("arguments") or "{}",
                        },
                    }
                ],
            }
        ]
    if kind == "function_call_output":
        return [{"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]}]
    return []
