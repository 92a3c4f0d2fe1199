"""Confirm instead of refusing: the `commands` brain with the recognizer's scorer of real speech
(espeak-ng, made at test time; the packaged tiny.en), hinted as a session of the demo page is.

A clear request is done at once; one heard unclearly gets one question with the best guess,
which "yes" does and "no" leaves undone; new words for the page that the audio supports weakly
are read back first; a request nothing on the page fits gets what was heard and what Mr. Blue
can do.
"""

import pytest

from editor.tools import editor_tools
from mrblue.commands_brain import readings
from mrblue.commands_brain.brain import decide
from mrblue.commands_brain.page_words import transcription_prompt
from mrblue.engine.brains import TextDelta
from mrblue.engine.voice import speech
from mrblue.engine.voice.hints import tool_hotwords
from tests.support.brain_turns import brain_request, play_turn, spoken, user
from tests.support.speakers import SPEAKERS, clip
from tests.support.understanding_corpus import PAGE

BY_NAME = {s.name: s for s in SPEAKERS}


def hear(speaker: str, said: str) -> tuple[dict, dict]:
    """The user item of `said` as a session of the demo page hears it, and its scorer."""
    keep = {}
    heard = speech._transcribe(
        clip(BY_NAME[speaker], said),
        "en",
        transcription_prompt(PAGE["blocks"]),
        tool_hotwords(editor_tools()),
        keep=keep,
    )
    return spoken(heard, "item_said"), {"item_said": keep["scorer"]}


def test_a_clear_request_is_done_without_a_question():
    item, scorers = hear("espeak-gb-f", "Make the heading blue.")
    _, result = play_turn([item], PAGE, scorers=scorers)
    assert result == ("call", "update_style", {"block_id": "heading", "color": "blue"})


@pytest.fixture(scope="module")
def unclear():
    """A request tiny.en mishears ("Move them out in the month of the first paragraph."),
    and the turn it gets."""
    item, scorers = hear("espeak-us", "Move the button above the first paragraph.")
    decisions = []
    conversation, result = play_turn([item], PAGE, scorers=scorers, decisions=decisions)
    return conversation, result, scorers, decisions


def test_an_unclear_request_gets_one_question_with_the_best_guess(unclear):
    conversation, result, _, decisions = unclear
    heard = conversation[0]["content"][0]["transcript"]
    assert "button" not in heard.lower()
    assert result == ("say", "Did you mean: move the button above the first paragraph?")
    # The account of it, for the admin: what was heard, the readings weighed and scored.
    (decision,) = decisions
    assert decision["heard"] == heard
    assert decision["outcome"] == "ask"
    assert decision["chosen"] == "move the button above the first paragraph"
    scores = [c["logprob"] for c in decision["candidates"]]
    assert len(scores) > 1 and scores == sorted(scores, reverse=True)
    assert decision["candidates"][0]["sentence"] == decision["chosen"]
    assert decision["scoring_ms"] > 0


def test_yes_does_the_guess(unclear):
    conversation, _, scorers, _ = unclear
    decisions = []
    _, result = play_turn([*conversation, user("Yes.")], PAGE, scorers=scorers, decisions=decisions)
    assert decisions == [
        {
            "heard": "Yes.",
            "chosen": "move the button above the first paragraph",
            "outcome": "confirmed",
        }
    ]
    assert result == (
        "call",
        "move_block",
        {"block_id": "cta", "position": "before", "relative_to": "intro"},
    )


def test_no_does_nothing(unclear):
    conversation, _, scorers, _ = unclear
    _, result = play_turn([*conversation, user("No.")], PAGE, scorers=scorers)
    assert result == ("say", "OK, I changed nothing. Tell me again what you'd like.")


def test_a_misheard_rename_is_read_back_before_it_is_written():
    item, scorers = hear("espeak-us", "Change the heading to say Tango nights.")
    assert "Tango eyes" in item["content"][0]["transcript"]  # misheard
    # Before the page is seen, nothing is promised: the words may be read back.
    first = decide(brain_request([item], scorers=scorers))
    assert "".join(o.text for o in first if isinstance(o, TextDelta)) == "Let me look at the page."
    decisions = []
    conversation, result = play_turn([item], PAGE, scorers=scorers, decisions=decisions)
    assert result == ("say", "Did you mean: Change the heading to say Tango eyes?")
    assert decisions[0]["outcome"] == "read_back"
    assert (
        decisions[0]["text"] == "Tango eyes" and decisions[0]["text_support"] < readings.READ_BACK
    )
    _, result = play_turn([*conversation, user("no")], PAGE, scorers=scorers)
    assert result[0] == "say" and "changed nothing" in result[1]
    _, result = play_turn([*conversation, user("yes please")], PAGE, scorers=scorers)
    assert result == ("call", "update_text", {"block_id": "heading", "text": "Tango eyes"})


def test_a_well_heard_rename_is_written_at_once():
    item, scorers = hear("espeak-gb-f", "Change the button to say Sign up.")
    _, result = play_turn([item], PAGE, scorers=scorers)
    assert result == ("call", "update_text", {"block_id": "cta", "text": "sign up"})


def test_a_request_nothing_fits_gets_what_was_heard_and_what_can_be_done():
    item, scorers = hear("espeak-us", "Sing me a song about the sea.")
    heard = item["content"][0]["transcript"]
    _, result = play_turn([item], PAGE, scorers=scorers)
    assert result[0] == "say"
    assert result[1].startswith(f'I heard "{heard}", and I can\'t do that. I can change text')


def test_without_the_audio_the_brain_reads_as_before():
    # The same transcript typed (no scorer): the near-miss reading or the old refusal.
    item, _ = hear("espeak-us", "Move the button above the first paragraph.")
    _, result = play_turn([item], PAGE)
    assert result[0] == "say" and not result[1].startswith("Did you mean")
