"""Hostile client input (the fuzzers' findings, one focused test each): every bad value is
refused with an error naming it, and nothing a client sends can crash its session."""

import asyncio
import base64
import json
import logging
import threading

import pytest

from mrblue.commands_brain.brain import CommandsBrain, decide
from mrblue.commands_brain.tool_args import fit_arguments, property_range
from mrblue.engine.brains import FunctionCall, TextDelta
from mrblue.engine.protocol.core import RealtimeSession
from mrblue.engine.protocol.session_config import default_session
from mrblue.engine.transports.connection import LOG_DEPTH, loggable
from mrblue.engine.transports.sdp import OfferRefused, check_offer
from mrblue.engine.transports.speaker import MAX_PHRASE_CHARS, split_sentences
from mrblue.engine.voice import speech
from mrblue.engine.voice.vad import TurnDetector
from tests.assistant import test_commands_brain as commands_brain
from tests.engine.test_connection import connect, say
from tests.engine.test_core import error_of, send, validated
from tests.fuzz.test_sdp_offers import real_offer


@pytest.fixture
def session():
    return RealtimeSession(default_session())


def update(**fields):
    return {"type": "session.update", "session": {"type": "realtime", **fields}}


# --- audio ---------------------------------------------------------------------------------


def test_half_a_pcm16_sample_is_refused_and_the_buffer_stays_whole(session):
    send(session, {"type": "input_audio_buffer.append", "audio": "AAAAAA=="})  # 4 bytes
    error = error_of(send(session, {"type": "input_audio_buffer.append", "audio": "AA=="}))
    assert (error["code"], error["param"]) == ("invalid_value", "audio")
    assert len(session.input_audio) == 4


def test_g711_takes_any_number_of_bytes(session):
    send(session, update(audio={"input": {"format": {"type": "audio/pcmu"}}}))
    assert send(session, {"type": "input_audio_buffer.append", "audio": "AA=="}).events == []
    assert len(session.input_audio) == 1


# --- fields the engine only echoes -----------------------------------------------------------

GOOD_ECHOED = {
    "tracing": {"workflow_name": "editor", "group_id": "g1", "metadata": {"page": {"id": 1}}},
    "truncation": {
        "type": "retention_ratio",
        "retention_ratio": 0.5,
        "token_limits": {"post_instructions": 8000},
    },
    "include": ["item.input_audio_transcription.logprobs"],
    "prompt": {
        "id": "pmpt_1",
        "version": None,
        "variables": {
            "name": "Ada",
            "greeting": {"type": "input_text", "text": "hi"},
            "logo": {"type": "input_image", "detail": "auto", "image_url": None},
            "doc": {"type": "input_file", "filename": "a.pdf", "file_id": None},
        },
    },
}


@pytest.mark.parametrize("field", GOOD_ECHOED)
def test_echoed_fields_in_their_ga_shapes_are_kept_and_reported(session, field):
    (updated,) = validated(send(session, update(**{field: GOOD_ECHOED[field]})))
    assert updated["session"][field] == GOOD_ECHOED[field]


@pytest.mark.parametrize(
    "fields, param",
    [
        ({"truncation": {}}, "session.truncation.type"),
        ({"truncation": "sometimes"}, "session.truncation"),
        ({"truncation": {"type": "retention_ratio", "retention_ratio": 2}},
         "session.truncation.retention_ratio"),
        ({"truncation": {"type": "retention_ratio", "retention_ratio": 0.5, "x": 1}},
         "session.truncation.x"),
        ({"tracing": "on"}, "session.tracing"),
        ({"tracing": {"workflow_name": 5}}, "session.tracing.workflow_name"),
        ({"tracing": {"metadata": "x"}}, "session.tracing.metadata"),
        ({"tracing": {"metadata": {"a": [[[[[[[[[1]]]]]]]]]}}}, "session.tracing.metadata"),
        ({"include": "all"}, "session.include"),
        ({"include": ["everything"]}, "session.include[0]"),
        ({"prompt": {}}, "session.prompt.id"),
        ({"prompt": {"id": "p", "variables": {"v": 1}}}, "session.prompt.variables.v"),
        ({"prompt": {"id": "p", "variables": {"v": {"type": "input_image"}}}},
         "session.prompt.variables.v.detail"),
    ],
)  # fmt: skip
def test_echoed_fields_in_another_shape_are_refused_and_change_nothing(session, fields, param):
    before = session.public_config()
    error = error_of(send(session, update(**fields)))
    assert error["param"] == param
    assert session.public_config() == before


@pytest.mark.parametrize(
    "response, param",
    [
        ({"metadata": {"a": 1}}, "response.metadata.a"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "response.metadata"),
        ({"metadata": {"k" * 65: "v"}}, "response.metadata"),
        ({"prompt": {"id": 5}}, "response.prompt.id"),
    ],
)
def test_response_metadata_and_prompt_are_checked(session, response, param):
    error = error_of(send(session, {"type": "response.create", "response": response}))
    assert error["param"] == param


def test_string_metadata_is_echoed_in_the_response(session):
    step = send(session, {"type": "response.create", "response": {"metadata": {"topic": "x"}}})
    assert step.events[0]["response"]["metadata"] == {"topic": "x"}


# --- tool schemas ----------------------------------------------------------------------------


def tool(parameters):
    return {"type": "function", "name": "set_text", "parameters": parameters}


@pytest.mark.parametrize(
    "parameters, param",
    [
        ({"type": "object", "properties": []}, "session.tools[0].parameters.properties"),
        ({"type": "object", "properties": {"text": 5}},
         "session.tools[0].parameters.properties.text"),
        ({"type": "object", "x": json.loads("[" * 40 + "]" * 40)}, "session.tools[0].parameters"),
    ],
)  # fmt: skip
def test_a_tool_schema_brains_cannot_read_is_refused(session, parameters, param):
    error = error_of(send(session, update(tools=[tool(parameters)])))
    assert error["param"] == param


def test_fit_arguments_takes_odd_schemas_without_raising():
    # Schemas reach brains from the client (the engine checks only their outline).
    odd = [
        {"type": "object", "properties": {"text": {"enum": 5}}},
        {"type": "object", "properties": {"text": {"$ref": "#/nowhere"}}},
        {"type": "object", "properties": {"text": {"type": "banana"}}},
    ]
    for parameters in odd:
        assert fit_arguments(tool(parameters), {"text": "hi"}) is None


def test_fit_arguments_never_fetches_a_remote_schema(monkeypatch):
    import urllib.request

    fetched = []

    def no_network(request, *args, **kwargs):
        fetched.append(request)
        raise OSError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    remote = {"type": "object", "properties": {"text": {"$ref": "http://169.254.169.254/x"}}}
    assert fit_arguments(tool(remote), {"text": "hi"}) is None
    assert fetched == []


# --- the adapter: logging, sentences, internal errors --------------------------------------


def test_deep_nesting_is_cut_in_log_lines():
    deep = json.loads("[" * 900 + "]" * 900)
    shown = loggable({"type": "x", "a": deep})
    for _ in range(LOG_DEPTH - 1):
        shown = shown["a"] if isinstance(shown, dict) else shown[0]
    assert shown == ["…"]


async def test_a_deeply_nested_event_is_answered_with_debug_logging_on(caplog):
    caplog.set_level(logging.DEBUG, logger="mrblue.engine")
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000)
    deep = "[" * 600 + "]" * 600  # parses; recursing over it, two frames a level, does not
    await connection.receive_text('{"type": "nope", "deep": ' + deep + "}")
    await connection.receive_text(deep)
    assert [e["error"]["code"] for e in client.of("error")] == ["invalid_value", "invalid_type"]
    assert any('"\\u2026"' in record.getMessage() for record in caplog.records)  # "…"
    await say(connection, "hi")
    assert (await client.wait_for("response.done"))["response"]["status"] == "completed"
    await connection.shutdown()


def test_words_without_a_sentence_end_wait_in_short_phrases():
    unspoken, spoken = "", []
    for _ in range(5000):  # a brain streaming one endless sentence, word by word
        sentences, unspoken = split_sentences(unspoken + "word ")
        spoken += sentences
        assert len(unspoken) <= MAX_PHRASE_CHARS  # so each delta rescans little
    assert spoken and all(len(phrase) <= MAX_PHRASE_CHARS for phrase in spoken)
    assert " ".join(spoken + [unspoken]).split() == ["word"] * 5000


async def test_a_bug_while_handling_an_event_is_a_server_error_and_the_session_goes_on(caplog):
    connection, client = await connect(CommandsBrain())

    def broken(event):
        raise RuntimeError("a bug")

    connection.session._audio_clear = broken  # the handler, as the dispatch finds it
    await connection.receive_text(json.dumps({"type": "input_audio_buffer.clear"}))
    (error,) = client.of("error")
    assert (error["error"]["type"], error["error"]["code"]) == ("server_error", "server_error")
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1 and failures[0].exc_info is not None
    del connection.session._audio_clear
    await say(connection, "hi")
    assert (await client.wait_for("response.done"))["response"]["status"] == "completed"
    await connection.shutdown()


async def test_a_bug_while_answering_ends_the_response_so_another_can_start(monkeypatch):
    connection, client = await connect(CommandsBrain())
    calls = {"n": 0}
    original = connection.session.finish_response

    def finish_once_broken(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug")
        return original(*args, **kwargs)

    monkeypatch.setattr(connection.session, "finish_response", finish_once_broken)
    await say(connection, "hi")
    await client.wait_for("error")
    assert connection.session.active_response_id is None
    await say(connection, "again")
    assert (await client.wait_for("response.done", 2))["response"]["status"] == "completed"
    await connection.shutdown()


def test_background_tasks_are_kept_until_done():
    async def run():
        connection, _ = await connect(CommandsBrain())
        task = connection.background(asyncio.sleep(0), "a test")
        assert task in connection._background
        await task
        assert task not in connection._background
        await connection.shutdown()

    asyncio.run(run())


# --- SDP offers ------------------------------------------------------------------------------


@pytest.fixture
def offer():
    return asyncio.run(real_offer())


def without(offer: str, word: str) -> bytes:
    return "\r\n".join(line for line in offer.split("\r\n") if word not in line).encode()


@pytest.mark.parametrize(
    "word, reason",
    [
        ("fingerprint", "a=fingerprint"),
        ("ice-pwd", "ICE credentials"),
        ("ice-ufrag", "ICE credentials"),
        ("m=audio", "no audio section"),
    ],
)
def test_an_offer_aiortc_could_not_connect_is_refused_with_the_reason(offer, word, reason):
    with pytest.raises(OfferRefused, match=reason):
        check_offer(without(offer, word))


@pytest.mark.parametrize(
    "body", [b"", b"hello", b"v=0\r\nm=audio x", b"v=0\r\na=setup:sideways\r\nm=audio 9 UDP 0"]
)
def test_an_offer_that_is_not_sdp_is_refused(body):
    with pytest.raises(OfferRefused):
        check_offer(body)


def test_a_browser_offer_passes(offer):
    assert check_offer(offer.encode()) == offer


def test_the_offer_limit_is_the_engines(offer):
    with pytest.raises(OfferRefused, match="at most"):
        check_offer(offer.encode() + b"a=x\r\n" * 20_000)


async def test_a_lone_surrogate_is_invalid_json_and_a_pair_is_a_character():
    # "\ud800" parses in Python, yet no UTF-8 encoder (a chat server's request, the speech
    # models, a database) takes the string later.
    connection, client = await connect(CommandsBrain())

    def item(text):  # as JSON escapes it: "\ud800", "\ud83d\ude00"
        part = {"type": "input_text", "text": text}
        event = {"type": "conversation.item.create", "item": {"type": "message", "role": "user"}}
        event["item"]["content"] = [part]
        return json.dumps(event)

    await connection.receive_text(item("\ud800"))
    assert [e["error"]["code"] for e in client.of("error")] == ["invalid_json"]
    await connection.receive_text(item("\ud83d\ude00"))
    added = await client.wait_for("conversation.item.added")
    assert added["item"]["content"][0]["text"] == "😀"
    await connection.shutdown()


async def test_voice_detection_of_appended_audio_runs_off_the_event_loop():
    # Silero takes 1-2 ms a 32 ms chunk: the 10 minutes one client may append at once
    # would stall every session (and page) on the server for seconds.
    connection, _ = await connect(CommandsBrain(), max_bytes=1_000_000)
    settings = connection.session.turn_detection()
    threads = []

    def probability(chunk):
        threads.append(threading.current_thread())
        return 0.0

    connection.voice._detector = TurnDetector(settings, probability=probability)
    connection.voice._detector_config = settings
    pcm = base64.b64encode(bytes(2 * 24_000)).decode()  # one second
    await connection.receive_text(json.dumps({"type": "input_audio_buffer.append", "audio": pcm}))
    assert threads and threading.main_thread() not in threads
    await connection.shutdown()


def test_a_language_the_recognizer_does_not_know_falls_back_quietly(caplog):
    # audio.input.transcription.language is the client's string: a multilingual model
    # raises on an unknown one, an English-only model warns on every turn.
    caplog.set_level(logging.WARNING, logger="faster_whisper")
    assert speech._transcribe(bytes(32_000), "zz") == ""
    assert speech._transcribe(bytes(32_000), "de") == ""
    assert [r.getMessage() for r in caplog.records if r.name == "faster_whisper"] == []


def test_control_characters_in_what_is_spoken_are_left_out():
    # What a brain says may quote the client's words; piper raises on a NUL.
    assert len(speech._synthesize("Done.\x00\x1b", "marin", 1.0)) > 0


def test_a_schema_bound_that_is_not_a_number_is_no_bound():
    size = {"type": "object", "properties": {"font_size": {"minimum": "8", "maximum": True}}}
    assert property_range(tool(size), "font_size") == (None, None)
    size["properties"]["font_size"] = {"minimum": 8, "maximum": 72.5}
    assert property_range(tool(size), "font_size") == (8, 72.5)


@pytest.mark.parametrize(
    "page",
    [
        {"blocks": 5},
        {"blocks": "heading"},
        {"blocks": [{"id": "heading", "type": {"a": 1}, "text": 5, "style": "big"}]},
        {"blocks": [{"id": "heading", "type": "heading", "style": {"font_size": "20"}}]},
        {"blocks": [{"id": "heading", "type": "heading", "style": {"font_size": float("nan")}}]},
        {"blocks": [{"id": ["heading"], "type": "heading"}], "selected": 3},
    ],
)
@pytest.mark.parametrize(
    "utterance",
    ["make the heading bigger", "what is on the page", "make it blue", "move the heading down"],
)
def test_the_commands_brain_reads_a_forged_page_report_without_raising(page, utterance):
    # The page's describe_page report comes back as a function_call_output the client wrote.
    conversation = [
        commands_brain.user(utterance),
        commands_brain.call("describe_page", "{}", "call_1"),
        commands_brain.output("call_1", page),
    ]
    outputs = decide(commands_brain.request(conversation))
    assert outputs and all(isinstance(o, TextDelta | FunctionCall) for o in outputs)
