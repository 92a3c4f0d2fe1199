"""Rescoring through the engine: a spoken request over WebSocket that tiny.en mishears reaches
the `commands` brain with the recognizer's scorer, and the brain's account of its guess comes
back in `response.done`'s metadata (what the panel logs for the admin)."""

import base64
import json

import pytest

from editor.tools import editor_tools
from mrblue.commands_brain.page_words import transcription_prompt
from mrblue.engine.voice.audio import Resampler
from tests.support.realtime_client import engine_api, next_event, until
from tests.support.speakers import SPEAKERS, clip
from tests.support.understanding_corpus import PAGE

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
CHUNK = 24_000 * 2 // 10  # 100 ms, as a client streams it


async def test_a_misheard_spoken_request_is_asked_about_with_the_audio_s_best_guess(
    daphne_server,
):
    speaker = next(s for s in SPEAKERS if s.name == "espeak-us")
    spoken = clip(speaker, "Move the button above the first paragraph.")
    pcm = Resampler(24_000).pcm(spoken, 16_000) + bytes(24_000 * 2)  # then a second of silence
    session = {
        "type": "realtime",
        "output_modalities": ["text"],
        "tools": editor_tools(),
        "audio": {
            "input": {
                "transcription": {
                    "model": "whisper-1",
                    "prompt": transcription_prompt(PAGE["blocks"]),
                }
            }
        },
    }
    async with engine_api(daphne_server).realtime.connect(model="gpt-realtime") as conn:
        await next_event(conn)
        await conn.session.update(session=session)
        await until(conn, "session.updated")
        for start in range(0, len(pcm), CHUNK):
            await conn.input_audio_buffer.append(
                audio=base64.b64encode(pcm[start : start + CHUNK]).decode()
            )
        events = await until(conn, "response.done")
        heard = next(
            e["transcript"]
            for e in events
            if e["type"] == "conversation.item.input_audio_transcription.completed"
        )
        look = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert look["name"] == "describe_page"
        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": look["call_id"],
                "output": json.dumps(PAGE),
            }
        )
        await conn.response.create()
        events = await until(conn, "response.done")
    assert "button" not in heard.lower()  # misheard: the grammar cannot read it as heard
    said = next(e["text"] for e in events if e["type"] == "response.output_text.done")
    assert said == "Did you mean: move the button above the first paragraph?"
    decision = json.loads(events[-1]["response"]["metadata"]["mrblue_decision"])
    assert decision["heard"] == heard
    assert decision["outcome"] == "ask"
    assert decision["chosen"] == "move the button above the first paragraph"
    assert all(c["logprob"] is not None for c in decision["candidates"])
