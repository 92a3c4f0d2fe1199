"""OpenAI's Agents SDK (`openai-agents`) running a `RealtimeAgent` against the built-in engine.

The SDK runs the session itself: it sends its own `session.update` (its tools in strict mode:
every property required, the optional ones nullable), runs the function tools the model calls
and sends their output back. The engine's `commands` brain must edit the page through them.
"""

import asyncio
import json

import pytest
from agents import function_tool
from agents.realtime import RealtimeAgent, RealtimeRunner

from tests.engine.test_sdk_end_to_end import PAGE
from tests.support.realtime_client import engine_api

pytestmark = pytest.mark.live


async def test_a_realtime_agent_edits_the_page_through_strict_tools(
    daphne_server, transactional_db
):
    calls: list[tuple[str, dict]] = []

    @function_tool
    def describe_page() -> str:
        """The page's blocks and which one is selected."""
        calls.append(("describe_page", {}))
        return json.dumps(PAGE)

    @function_tool
    def update_style(block_id: str, color: str | None = None, background: str | None = None) -> str:
        """Change a block's text colour or its background colour."""
        calls.append(
            ("update_style", {"block_id": block_id, "color": color, "background": background})
        )
        return json.dumps({"ok": True})

    agent = RealtimeAgent(
        name="Mr. Blue", instructions="Edit the page.", tools=[describe_page, update_style]
    )
    runner = RealtimeRunner(
        agent,
        config={"model_settings": {"output_modalities": ["text"], "turn_detection": None}},
    )
    secret = await engine_api(daphne_server).realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 60},
        session={"type": "realtime", "output_modalities": ["text"]},
    )
    url = daphne_server.url.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"
    session = await runner.run(model_config={"url": url, "api_key": secret.value})
    said, errors = [], []
    async with session:
        await session.send_message("Make the heading blue.")
        async with asyncio.timeout(60):
            async for event in session:
                if event.type == "error":
                    errors.append(event.error)
                elif event.type == "raw_model_event" and event.data.type == "raw_server_event":
                    data = event.data.data
                    if data.get("type") == "response.output_text.done":
                        said.append(data["text"])
                    # The answer is the response that calls no tool (the ones before
                    # it say what they are about to do, then call one).
                    output = data.get("response", {}).get("output", [])
                    if (
                        data.get("type") == "response.done"
                        and said
                        and not any(item.get("type") == "function_call" for item in output)
                    ):
                        break
    assert not errors
    assert calls == [
        ("describe_page", {}),
        ("update_style", {"block_id": "heading", "color": "blue", "background": None}),
    ]
    assert said[-1] == "Done. The heading is blue now."
