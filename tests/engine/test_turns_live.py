"""Turn-taking over real transports: a hesitation does not end a semantic_vad turn on a WebRTC
call from Chromium, and a cough does not cut an answer over WebSocket while speech does."""

import pytest

from mrblue.engine.voice import end_of_turn
from tests.engine.test_end_of_turn import HESITANT
from tests.engine.test_voice_live import (
    mint,
    open_client,
    speak,
    start_listening,
    wait_for_event,
)
from tests.support.audio_fixtures import silence, spoken, write_wav
from tests.support.browser import chromium
from tests.support.realtime_client import engine_api, until

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not end_of_turn.available(), reason="pipecat-ai not installed"),
]
SEMANTIC = {
    "type": "realtime",
    "audio": {
        "input": {
            "transcription": {"model": "whisper-1"},
            "turn_detection": {"type": "semantic_vad", "eagerness": "auto"},
        }
    },
}


async def test_a_cough_does_not_cut_the_answer_over_websocket_and_speech_does(hanging_server):
    async with engine_api(hanging_server).realtime.connect(model="gpt-realtime") as conn:
        await start_listening(conn)
        request = silence(0.5) + spoken("Tell me a long story.") + silence(1.0)
        await speak(conn, request)
        await until(conn, "response.output_audio.delta")
        noises = spoken("Ahem.") + silence(1.0) + spoken("Hmm.") + silence(1.0)
        await speak(conn, noises)
        await speak(conn, spoken("Stop, please.") + silence(1.0))
        events = await until(conn, "response.done")
        starts = [e for e in events if e["type"] == "input_audio_buffer.speech_started"]
        words_at_ms = (len(request) + len(noises)) / 48  # 24 kHz pcm16: 48 bytes a ms
        # One turn, at the words: not at the cough nor at the hmm.
        assert [e["audio_start_ms"] >= words_at_ms - 100 for e in starts] == [True]
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"]["reason"] == "turn_detected"


@pytest.fixture(scope="module")
def hesitant_browser(tmp_path_factory):
    """Chromium whose microphone says "Delete the, um, ..." then, after 0.8 s, "second
    paragraph." (then stays quiet). It speaks 3 s in: the call is up by then, even cold."""
    first, rest = HESITANT
    wav = tmp_path_factory.mktemp("audio") / "hesitant.wav"
    pcm = silence(3.0) + spoken(first) + silence(0.8) + spoken(rest) + silence(8.0)
    write_wav(wav, pcm)
    with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
        yield browser


def test_a_hesitation_does_not_end_a_semantic_vad_turn_over_webrtc(daphne_server, hesitant_browser):
    page = open_client(hesitant_browser, daphne_server)
    page.evaluate(
        "([s, u]) => window.startCall(s, u)",
        [mint(daphne_server, SEMANTIC), f"{daphne_server.url}/v1/realtime/calls"],
    )
    heard = wait_for_event(page, "conversation.item.input_audio_transcription.completed")
    transcript = heard["transcript"].lower()
    assert "delete" in transcript and "second paragraph" in transcript
    stops = page.evaluate(
        "window.events.filter(e => e.type === 'input_audio_buffer.speech_stopped').length"
    )
    assert stops == 1
    page.evaluate("window.pc.close()")
    page.context.close()
