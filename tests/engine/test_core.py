"""The protocol core, event by event, with every server event checked against the SDK."""

import base64

import pytest

from mrblue.engine.protocol.conversation import MemoryLimits
from mrblue.engine.protocol.core import RealtimeSession, Step
from mrblue.engine.protocol.session_config import default_session
from tests.support.realtime_schema import validate_server_event


@pytest.fixture
def session():
    core = RealtimeSession(default_session())
    for event in core.created().events:
        validate_server_event(event)
    return core


def send(core, event):
    """Feed one client event and validate every server event it produces."""
    step = core.receive(event)
    for out in step.events:
        validate_server_event(out)
    return step


def types(step_or_events):
    events = getattr(step_or_events, "events", step_or_events)
    return [event["type"] for event in events]


def error_of(step):
    assert types(step) == ["error"], types(step)
    return step.events[0]["error"]


def user_text(text, item_id=None):
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    if item_id:
        item["id"] = item_id
    return {"type": "conversation.item.create", "item": item}


def pcm_ms(ms):
    return base64.b64encode(b"\x00\x00" * 24 * ms).decode()


def validated(step):
    """The events of a `Step`, each checked against the SDK."""
    for event in step.events:
        validate_server_event(event)
    return step.events


# --- session ------------------------------------------------------------------------------


def test_session_created_carries_the_full_ga_config(session):
    (event,) = session.created().events
    assert event["type"] == "session.created"
    assert event["session"]["type"] == "realtime"
    assert event["session"]["audio"]["output"]["voice"] == "marin"


def test_session_update_changes_config_and_answers_updated(session):
    step = send(
        session,
        {
            "type": "session.update",
            "event_id": "e1",
            "session": {
                "type": "realtime",
                "instructions": "Be brief.",
                "output_modalities": ["text"],
                "audio": {
                    "output": {"voice": "cedar", "speed": 1.2},
                    "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}},
                },
                "tools": [{"type": "function", "name": "undo", "parameters": {"type": "object"}}],
            },
        },
    )
    assert types(step) == ["session.updated"]
    updated = step.events[0]["session"]
    assert updated["instructions"] == "Be brief."
    assert updated["output_modalities"] == ["text"]
    assert updated["audio"]["output"]["voice"] == "cedar"
    assert updated["audio"]["input"]["turn_detection"]["eagerness"] == "high"
    assert updated["tools"][0]["name"] == "undo"


@pytest.mark.parametrize(
    ("update", "code", "param"),
    [
        (
            {"modalities": ["text"], "voice": "alloy"},
            "beta_api_shape_disabled",
            "session.modalities",
        ),
        ({"instructions": "no type"}, "beta_api_shape_disabled", "session.type"),
        (
            {"type": "realtime", "turn_detection": None},
            "beta_api_shape_disabled",
            "session.turn_detection",
        ),
        ({"type": "transcription"}, "invalid_value", "session.type"),
        ({"type": "realtime", "instructions": 5}, "invalid_type", "session.instructions"),
        (
            {"type": "realtime", "audio": {"output": {"voice": "nova"}}},
            "invalid_value",
            "session.audio.output.voice",
        ),
        (
            {"type": "realtime", "audio": {"output": {"speed": 3}}},
            "decimal_above_max_value",
            "session.audio.output.speed",
        ),
        (
            {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 2}}},
            },
            "decimal_above_max_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            {"type": "realtime", "output_modalities": ["text", "audio"]},
            "invalid_value",
            "session.output_modalities",
        ),
        (
            {"type": "realtime", "max_output_tokens": 5000},
            "decimal_above_max_value",
            "session.max_output_tokens",
        ),
        ({"type": "realtime", "colour": "blue"}, "unknown_parameter", "session.colour"),
        (
            {"type": "realtime", "tools": [{"type": "mcp", "server_label": "x"}]},
            "invalid_value",
            "session.tools[0].type",
        ),
    ],
)
def test_bad_session_updates_are_refused_and_change_nothing(session, update, code, param):
    before = session.public_config()
    error = error_of(
        send(session, {"type": "session.update", "event_id": "evt_9", "session": update})
    )
    assert (error["code"], error["param"], error["event_id"]) == (code, param, "evt_9")
    assert error["type"] == "invalid_request_error" and error["message"]
    assert session.public_config() == before


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"type": "no.such.event"}, "invalid_value"),
        ({"type": 3}, "invalid_type"),
        ({}, "missing_required_parameter"),
        ({"type": "session.update"}, "missing_required_parameter"),
        ({"type": "conversation.item.create", "item": "hi"}, "invalid_type"),
        (
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": "hi"},
            },
            "invalid_type",
        ),
        (
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "output_text", "text": "x"}],
                },
            },
            "invalid_value",
        ),
        (
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "king", "content": []},
            },
            "invalid_value",
        ),
        ({"type": "conversation.item.retrieve", "item_id": "nope"}, "invalid_value"),
        ({"type": "conversation.item.delete", "item_id": "nope"}, "invalid_value"),
        ({"type": "input_audio_buffer.append", "audio": "%%%not base64"}, "invalid_value"),
        ({"type": "input_audio_buffer.commit"}, "input_audio_buffer_commit_empty"),
        ({"type": "response.cancel"}, "response_cancel_not_active"),
        ({"type": "output_audio_buffer.clear"}, "invalid_value"),
        (
            {"type": "response.create", "response": {"output_modalities": ["video"]}},
            "invalid_value",
        ),
        ({"type": "response.create", "response": {"conversation": "other"}}, "invalid_value"),
    ],
)
def test_bad_events_give_one_error_and_the_session_goes_on(session, event, code):
    assert error_of(send(session, event))["code"] == code
    step = send(session, user_text("still here?"))
    assert types(step) == ["conversation.item.added", "conversation.item.done"]


def test_a_non_object_event_is_an_error():
    core = RealtimeSession(default_session())
    assert error_of(core.receive(["not", "an", "object"]))["code"] == "invalid_type"


# --- conversation items ---------------------------------------------------------------------


def test_item_create_retrieve_delete(session):
    step = send(session, user_text("hello", "mine_1"))
    added = step.events[0]
    assert added["item"]["id"] == "mine_1" and added["previous_item_id"] is None
    step = send(session, user_text("second"))
    assert step.events[0]["previous_item_id"] == "mine_1"
    retrieved = send(session, {"type": "conversation.item.retrieve", "item_id": "mine_1"})
    assert retrieved.events[0]["item"]["content"][0]["text"] == "hello"
    deleted = send(session, {"type": "conversation.item.delete", "item_id": "mine_1"})
    assert deleted.events[0] == {
        **deleted.events[0],
        "type": "conversation.item.deleted",
        "item_id": "mine_1",
    }
    assert [item["id"] for item in session.items] == [step.events[0]["item"]["id"]]


def test_item_create_honours_previous_item_id_and_refuses_duplicates(session):
    send(session, user_text("a", "a"))
    send(session, user_text("c", "c"))
    step = send(session, {**user_text("b", "b"), "previous_item_id": "a"})
    assert step.events[0]["previous_item_id"] == "a"
    send(session, {**user_text("first", "z"), "previous_item_id": "root"})
    assert [item["id"] for item in session.items] == ["z", "a", "b", "c"]
    assert error_of(send(session, user_text("again", "a")))["param"] == "item.id"
    assert (
        error_of(send(session, {**user_text("x"), "previous_item_id": "missing"}))["param"]
        == "previous_item_id"
    )


def test_function_call_output_item(session):
    step = send(
        session,
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_1", "output": '{"ok": true}'},
        },
    )
    assert step.events[0]["item"]["type"] == "function_call_output"
    missing = send(
        session,
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "output": "x"},
        },
    )
    assert error_of(missing)["param"] == "item.call_id"


# --- input audio ----------------------------------------------------------------------------


def test_audio_append_commit_clear(session):
    assert send(session, {"type": "input_audio_buffer.append", "audio": pcm_ms(60)}).events == []
    assert (
        error_of(send(session, {"type": "input_audio_buffer.commit"}))["code"]
        == "input_audio_buffer_commit_empty"
    )
    step = send(session, {"type": "input_audio_buffer.append", "audio": pcm_ms(60)})
    assert step.appended_audio == b"\x00\x00" * 24 * 60
    step = send(session, {"type": "input_audio_buffer.commit"})
    assert types(step) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert step.committed_item["content"][0]["type"] == "input_audio"
    assert "audio" not in step.events[1]["item"]["content"][0]  # no payload in events
    assert len(session.input_audio) == 0
    send(session, {"type": "input_audio_buffer.append", "audio": pcm_ms(200)})
    assert types(send(session, {"type": "input_audio_buffer.clear"})) == [
        "input_audio_buffer.cleared"
    ]
    assert len(session.input_audio) == 0


def test_microphone_audio_keeps_only_the_last_ten_minutes(session):
    minute = b"\x01\x00" * 24_000 * 60
    for _ in range(11):
        session.buffer_audio(minute)
    session.buffer_audio(b"\x02\x00" * 24)
    assert len(session.input_audio) == 10 * len(minute)
    assert session.input_audio[-48:] == b"\x02\x00" * 24  # the newest audio is kept


# --- responses ------------------------------------------------------------------------------


def run_text_response(core, text="Hello there.", response=None):
    step = send(core, {"type": "response.create", **({"response": response} if response else {})})
    request = step.start_response
    events = validated(core.add_text(request.response_id, text[:5]))
    events += validated(core.add_text(request.response_id, text[5:]))
    events += validated(core.finish_response(request.response_id))
    return step, request, events


def test_text_response_event_sequence(session):
    send(
        session,
        {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}},
    )
    send(session, user_text("hi"))
    step, request, events = run_text_response(session)
    assert types(step) == ["response.created"]
    assert request.conversation[-1]["content"][0]["text"] == "hi"
    assert types(events) == [
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["content"][0] == {"type": "output_text", "text": "Hello there."}
    assert done["usage"]["output_tokens"] > 0 and done["usage"]["input_tokens"] > 0
    assert session.items[-1]["role"] == "assistant"


def test_audio_mode_streams_the_transcript(session):
    send(session, user_text("hi"))
    _, request, events = run_text_response(session, "Spoken words.")
    assert "response.output_audio_transcript.delta" in types(events)
    assert "response.output_audio.done" in types(events)
    transcript_done = next(
        e for e in events if e["type"] == "response.output_audio_transcript.done"
    )
    assert transcript_done["transcript"] == "Spoken words."


def test_one_active_response_at_a_time(session):
    first = send(session, {"type": "response.create"})
    error = error_of(send(session, {"type": "response.create"}))
    assert error["code"] == "conversation_already_has_active_response"
    assert first.start_response.response_id in error["message"]
    validated(session.finish_response(first.start_response.response_id))
    assert types(send(session, {"type": "response.create"})) == ["response.created"]


def test_cancel_ends_the_response_as_cancelled_and_ignores_late_output(session):
    send(session, user_text("talk"))
    step = send(session, {"type": "response.create"})
    response_id = step.start_response.response_id
    validated(session.add_text(response_id, "I was saying"))
    cancel = send(session, {"type": "response.cancel"})
    assert cancel.cancelled_response == response_id
    done = cancel.events[-1]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {
        "type": "cancelled",
        "reason": "client_cancelled",
        "error": None,
    }
    assert done["output"][0]["status"] == "incomplete"
    assert session.add_text(response_id, "more").events == []
    assert session.finish_response(response_id).events == []
    assert (
        error_of(send(session, {"type": "response.cancel"}))["code"] == "response_cancel_not_active"
    )


def test_response_overrides_apply_to_one_response_only(session):
    tools = [{"type": "function", "name": "redo", "parameters": {"type": "object"}}]
    step = send(
        session,
        {
            "type": "response.create",
            "response": {
                "instructions": "Only now.",
                "tools": tools,
                "output_modalities": ["text"],
            },
        },
    )
    request = step.start_response
    assert (request.instructions, request.output_modalities) == ("Only now.", ["text"])
    assert request.tools[0]["name"] == "redo"
    validated(session.finish_response(request.response_id))
    assert session.config["instructions"] != "Only now." and session.config["tools"] == []


def test_out_of_band_response_stays_out_of_the_conversation(session):
    send(session, user_text("hi"))
    _, request, events = run_text_response(session, response={"conversation": "none"})
    assert "conversation.item.added" not in types(events)
    assert events[-1]["response"]["conversation_id"] is None
    assert len(session.items) == 1


def test_tool_round_trip(session):
    send(
        session,
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "tools": [{"type": "function", "name": "undo", "parameters": {"type": "object"}}],
            },
        },
    )
    send(session, user_text("undo"))
    step = send(session, {"type": "response.create"})
    response_id = step.start_response.response_id
    events = validated(session.add_function_call(response_id, "undo", "{}", "call_abc"))
    assert types(events) == [
        "response.output_item.added",
        "conversation.item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "conversation.item.done",
    ]
    assert events[3]["call_id"] == "call_abc" and events[3]["name"] == "undo"
    done = validated(session.finish_response(response_id))[-1]
    assert done["response"]["output"][0]["type"] == "function_call"
    out = send(
        session,
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": "call_abc",
                "output": '{"ok": true}',
            },
        },
    )
    assert out.events[0]["previous_item_id"] == events[1]["item"]["id"]
    follow = send(session, {"type": "response.create"})
    assert follow.start_response.conversation[-1]["type"] == "function_call_output"


def test_truncate_cuts_audio_and_transcript_and_checks_bounds(session):
    send(session, user_text("speak"))
    step = send(session, {"type": "response.create"})
    response_id = step.start_response.response_id
    validated(session.add_text(response_id, "One two three four."))
    validated(session.add_audio(response_id, b"\x00\x00" * 24000))  # one second
    validated(session.finish_response(response_id))
    item_id = session.items[-1]["id"]
    beyond = error_of(
        send(
            session,
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": 1500,
            },
        )
    )
    assert beyond["param"] == "audio_end_ms" and "1000ms" in beyond["message"]
    wrong = error_of(
        send(
            session,
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 3,
                "audio_end_ms": 10,
            },
        )
    )
    assert wrong["param"] == "content_index"
    user = error_of(
        send(
            session,
            {
                "type": "conversation.item.truncate",
                "item_id": session.items[0]["id"],
                "content_index": 0,
                "audio_end_ms": 10,
            },
        )
    )
    assert user["param"] == "content_index"
    ok = send(
        session,
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": 500,
        },
    )
    assert types(ok) == ["conversation.item.truncated"]
    assert ok.events[0]["audio_end_ms"] == 500
    assert session.items[-1]["content"][0]["transcript"] == "One two"
    assert (
        error_of(
            send(
                session,
                {
                    "type": "conversation.item.truncate",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": 600,
                },
            )
        )["param"]
        == "audio_end_ms"
    )


def test_output_audio_buffer_clear_over_webrtc():
    core = RealtimeSession(default_session(), output_audio_buffer=True)
    step = core.receive({"type": "output_audio_buffer.clear"})
    assert step.clear_output_audio
    assert step.events == []  # the adapter answers, once, with what was heard
    (cleared,) = validated(core.output_cleared())
    assert cleared["type"] == "output_audio_buffer.cleared" and cleared["response_id"] == ""


def test_event_and_item_ids_are_unique(session):
    send(session, user_text("hi"))
    _, _, events = run_text_response(session)
    ids = [event["event_id"] for event in events]
    assert len(ids) == len(set(ids))
    item_ids = [item["id"] for item in session.items]
    assert len(item_ids) == len(set(item_ids))


def commit_audio(core, ms=200):
    send(core, {"type": "input_audio_buffer.append", "audio": pcm_ms(ms)})
    return send(core, {"type": "input_audio_buffer.commit"}).committed_item


def ask_for_transcripts(core):
    core.config["audio"]["input"]["transcription"] = {"model": "whisper-1"}


def test_transcription_failed_event(session):
    item = commit_audio(session)
    assert session.transcription_failed(item["id"], "no words").events == []  # not asked for
    ask_for_transcripts(session)
    (event,) = validated(session.transcription_failed(item["id"], "no words"))
    assert event["error"]["code"] == "transcription_failed"


def test_transcripts_are_stored_and_reported_only_when_asked_for(session):
    item = commit_audio(session)
    assert session.transcribed(item["id"], "hello", 0.2).events == []
    assert session.items[-1]["content"][0]["transcript"] == "hello"
    ask_for_transcripts(session)
    step = session.transcribed(item["id"], "hello again", 0.2)
    assert types(validated(step)) == [
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
    ]
    assert step.events[1]["usage"] == {"type": "duration", "seconds": 0.2}
    assert step.start_response is None


def test_a_transcribed_turn_is_answered_when_voice_detection_asks(session):
    ask_for_transcripts(session)
    item = commit_audio(session)
    step = session.transcribed(item["id"], "make it blue", 1.0, respond=True)
    assert types(validated(step)) == [
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "response.created",
    ]
    assert step.start_response.conversation[-1]["content"][0]["transcript"] == "make it blue"
    other = commit_audio(session)  # a response is under way: no second one
    assert session.transcribed(other["id"], "and red", 1.0, respond=True).start_response is None
    assert session.transcribed(other["id"], "", 1.0, respond=True).start_response is None


def test_idle_timeout_prompts_with_a_response_unless_one_is_running(session):
    step = session.timeout_triggered(1000, 7000)
    assert types(validated(step)) == ["input_audio_buffer.timeout_triggered", "response.created"]
    assert step.events[0]["audio_end_ms"] == 7000 and step.start_response is not None
    assert session.timeout_triggered(1000, 8000).events == []


def test_cancel_response_says_which_it_cancelled(session):
    assert session.cancel_response("turn_detected") == Step()
    response_id = send(session, {"type": "response.create"}).start_response.response_id
    step = session.cancel_response("turn_detected")
    assert step.cancelled_response == response_id
    assert step.events[-1]["response"]["status_details"]["reason"] == "turn_detected"
    validated(step)


def test_a_failed_response_carries_a_server_error(session):
    response_id = send(session, {"type": "response.create"}).start_response.response_id
    (done,) = validated(session.fail_response(response_id, "brain_timeout", "Too slow."))
    assert done["response"]["status"] == "failed"
    assert done["response"]["status_details"]["error"] == {
        "type": "server_error",
        "code": "brain_timeout",
        "message": "Too slow.",
    }


def test_cleared_output_truncates_the_item_to_what_was_heard():
    core = RealtimeSession(default_session(), output_audio_buffer=True)
    send(core, user_text("speak"))
    response_id = send(core, {"type": "response.create"}).start_response.response_id
    validated(core.add_text(response_id, "One two three four."))
    validated(core.add_audio(response_id, b"\x00\x00" * 24000))  # one second, on the track
    item_id = core.current_message_id(response_id)
    validated(core.finish_response(response_id))  # all synthesized; the track still plays
    step = core.output_cleared(response_id, item_id, 500.0)
    assert types(validated(step)) == ["output_audio_buffer.cleared", "conversation.item.truncated"]
    assert step.events[0]["response_id"] == response_id
    assert core.items[-1]["content"][0]["transcript"] == "One two"
    # all of it was heard: nothing to cut
    assert types(core.output_cleared(response_id, item_id, 800.0)) == [
        "output_audio_buffer.cleared"
    ]


def test_words_written_but_not_yet_spoken_are_cut_though_all_audio_was_heard():
    # The brain writes ahead of synthesis: a barge-in between two clauses has heard all the
    # audio made so far, and none of the second clause.
    core = RealtimeSession(default_session(), output_audio_buffer=True)
    send(core, user_text("speak"))
    response_id = send(core, {"type": "response.create"}).start_response.response_id
    validated(core.add_text(response_id, "One two three. Four five six."))
    core.clause_started(response_id, "One two three.")
    validated(core.add_audio(response_id, b"\x00\x00" * 24000))
    core.clause_spoken(response_id)
    core.clause_started(response_id, "Four five six.")
    item_id = core.current_message_id(response_id)
    step = core.output_cleared(response_id, item_id, 1000.0)
    assert types(validated(step)) == ["output_audio_buffer.cleared", "conversation.item.truncated"]
    assert step.events[1]["audio_end_ms"] == 1000
    assert core.conversation.find(item_id)["content"][0]["transcript"] == "One two three."


def test_playback_notes_over_webrtc():
    core = RealtimeSession(default_session(), output_audio_buffer=True)
    for kind in ("started", "stopped"):
        (event,) = validated(core.output_playback(kind, "resp_1"))
        assert event["type"] == f"output_audio_buffer.{kind}"


def test_errors_the_adapters_find_are_built_here(session):
    (error,) = validated(session.error("message_too_large", "Too big."))
    assert error["error"]["code"] == "message_too_large"
    assert error["error"]["type"] == "invalid_request_error"
    (expired,) = validated(session.expired(3600))
    assert expired["error"]["message"] == "Your session hit the maximum duration of 60 minutes."
    assert "0.05 seconds" in session.expired(0.05).events[0]["error"]["message"]
    (refused,) = validated(RealtimeSession.refusal("invalid_api_key", "No."))
    assert refused["error"]["code"] == "invalid_api_key"


def test_input_format_and_transcription_settings(session):
    assert session.input_format == "audio/pcm"
    assert session.transcription == {}
    ask_for_transcripts(session)
    assert session.transcription == {"model": "whisper-1"}


def test_detected_speech_becomes_the_item_it_announced(session):
    started = session.speech_started(120)
    assert types(validated(started)) == ["input_audio_buffer.speech_started"]
    assert started.events[0]["item_id"] == started.item_id
    session.buffer_audio(b"\x00\x00" * 24 * 300)
    stopped = session.speech_stopped(420, started.item_id)
    assert types(validated(stopped)) == [
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert stopped.committed_item["id"] == started.item_id == session.items[-1]["id"]


def speaking(core):
    """An audio response whose message is still open: its words, one second of its audio."""
    send(core, user_text("speak"))
    response_id = send(core, {"type": "response.create"}).start_response.response_id
    validated(core.add_text(response_id, "One two three four."))
    validated(core.add_audio(response_id, b"\x00\x00" * 24000))
    return response_id, core.current_message_id(response_id)


def assert_kept_only_what_was_heard(core, done_events, item_id):
    assert core.conversation.find(item_id)["content"][0]["transcript"] == "One two"
    assert core.conversation.find(item_id)["status"] == "incomplete"
    (transcript,) = [e for e in done_events if e["type"] == "response.output_audio_transcript.done"]
    assert transcript["transcript"] == "One two"
    response = done_events[-1]["response"]
    assert response["status"] == "cancelled"
    assert response["status_details"]["reason"] == "turn_detected"
    assert response["output"][0]["content"][0]["transcript"] == "One two"


def test_a_barge_in_while_the_answer_is_open_keeps_only_what_was_heard():
    # The order of a talk-over under load: the cut arrives before the response is closed.
    core = RealtimeSession(default_session(), output_audio_buffer=True)
    response_id, item_id = speaking(core)
    cut = validated(core.output_cleared(response_id, item_id, 500.0))
    assert types(cut) == ["output_audio_buffer.cleared", "conversation.item.truncated"]
    assert validated(core.add_text(response_id, " Five six.")) == []  # too late: not heard
    done = validated(core.cancel_response("turn_detected"))
    assert_kept_only_what_was_heard(core, done, item_id)


def test_a_client_truncation_of_the_open_answer_is_kept(session):
    response_id, item_id = speaking(session)
    truncate = {"item_id": item_id, "content_index": 0, "audio_end_ms": 500}
    step = send(session, {"type": "conversation.item.truncate", **truncate})
    assert types(step) == ["conversation.item.truncated"]
    done = validated(session.cancel_response("turn_detected"))
    assert_kept_only_what_was_heard(session, done, item_id)


# --- what a session keeps ------------------------------------------------------------------


def bounded(**limits):
    core = RealtimeSession(default_session(), limits=MemoryLimits(**limits))
    core.created()
    return core


def test_old_turns_keep_their_words_but_not_their_audio():
    core = bounded(audio_items=2)
    committed = [commit_audio(core) for _ in range(3)]
    for item in committed:
        core.transcribed(item["id"], "words", 0.2)
    first, *recent = committed
    # Recognition still gets the audio of every turn it was handed...
    assert all(item["content"][0]["audio"] for item in committed)
    # ...but the session keeps only the newest turns' audio; older ones answer without it.
    (retrieved,) = validated(
        send(core, {"type": "conversation.item.retrieve", "item_id": first["id"]})
    )
    assert retrieved["item"]["content"][0] == {"type": "input_audio", "transcript": "words"}
    for item in recent:
        (kept,) = send(core, {"type": "conversation.item.retrieve", "item_id": item["id"]}).events
        assert kept["item"]["content"][0]["audio"] == pcm_ms(200)


def test_beyond_the_item_cap_the_oldest_items_go_and_say_so():
    core = bounded(max_items=3)
    for n in range(3):
        send(core, user_text(f"number {n}", f"n{n}"))
    step = send(core, user_text("number 3", "n3"))
    assert types(step) == [
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.deleted",
    ]
    assert step.events[-1]["item_id"] == "n0"
    assert [item["id"] for item in core.items] == ["n1", "n2", "n3"]
    missing = send(core, {"type": "conversation.item.retrieve", "item_id": "n0"})
    assert error_of(missing)["param"] == "item_id"


def test_the_answers_count_against_the_cap_too():
    core = bounded(max_items=2)
    send(core, user_text("one", "u1"))
    send(core, user_text("two", "u2"))
    _, _, events = run_text_response(core)
    assert [e["item_id"] for e in events if e["type"] == "conversation.item.deleted"] == ["u1"]
    assert [item["role"] for item in core.items] == ["user", "assistant"]


def test_the_byte_budget_drops_old_audio_first_then_old_items():
    core = bounded(max_bytes=30_000)
    audio = commit_audio(core, ms=200)  # 12,800 base64 characters of audio
    send(core, user_text("x" * 10_000, "t1"))
    assert "audio" in core.conversation.find(audio["id"])["content"][0]  # it still fits
    step = send(core, user_text("y" * 10_000, "t2"))
    assert "conversation.item.deleted" not in types(step)  # the audio went, the item stays
    assert "audio" not in core.conversation.find(audio["id"])["content"][0]
    step = send(core, user_text("z" * 15_000, "t3"))
    deleted = [e["item_id"] for e in step.events if e["type"] == "conversation.item.deleted"]
    assert deleted == [audio["id"], "t1"]
    assert [item["id"] for item in core.items] == ["t2", "t3"]


def test_an_item_larger_than_the_budget_is_refused_with_a_clear_error():
    core = bounded(max_bytes=1_000)
    send(core, user_text("kept", "k"))
    error = error_of(send(core, {**user_text("x" * 1_001), "event_id": "big"}))
    assert error["code"] == "session_memory_limit"
    assert "1000" in error["message"]
    assert [item["id"] for item in core.items] == ["k"]  # nothing changed
    assert types(send(core, user_text("small"))) == [
        "conversation.item.added",
        "conversation.item.done",
    ]


def test_a_huge_committed_turn_keeps_its_item_but_not_its_audio():
    core = bounded(max_bytes=1_000)
    item = commit_audio(core, ms=200)
    assert item["content"][0]["audio"]  # recognition gets it
    assert "audio" not in core.items[-1]["content"][0]
