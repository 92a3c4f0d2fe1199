"""Understanding as issue 16 asks: near-misses matched to the page and the grammar, questions
when a request is unclear (answered next turn), never a silent turn, typed = spoken."""

import pytest

from editor.tools import editor_tools
from mrblue.commands_brain.intents import parse
from mrblue.commands_brain.matcher import closest, correct
from mrblue.commands_brain.page_words import MAX_PROMPT_CHARS, transcription_prompt
from mrblue.engine.voice.hints import tool_hotwords
from tests.support.brain_turns import play_turn, user
from tests.support.understanding_corpus import CASES, PAGE

NOBODY_SELECTED = {**PAGE, "selected": None}


def turn(conversation, page=PAGE):
    """The turn the conversation ends in, through the brain (see `play_turn`)."""
    return play_turn(conversation, page)


def outcome(case, result) -> bool:
    if case.tool in ("ask", "say"):
        return result[0] == "say" and result[1].rstrip().endswith("?") == (case.tool == "ask")
    if case.tool == "describe_page":
        return result[0] == "say" and result[1].startswith("This page has")
    return result[0] == "call" and result[1:] == (case.tool, case.arguments)


def test_the_corpus_is_big_and_varied():
    assert len(CASES) >= 300
    assert len({c.intent for c in CASES}) >= 12
    assert len({c.said for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.said for c in CASES])
def test_every_typed_request_of_the_corpus_is_understood(case):
    _, result = turn([user(case.said)])
    assert outcome(case, result), result


@pytest.mark.parametrize("case", CASES[::7], ids=[c.said for c in CASES[::7]])
def test_typed_and_transcribed_forms_are_understood_alike(case):
    """Recognition writes a capital, commas and a full stop; the panel's text has whatever
    the person typed. Both are the same request."""
    spoken = case.said[0].upper() + case.said[1:].replace(" please", ", please") + "."
    assert turn([user(spoken)])[1] == turn([user(case.said)])[1]


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("make the heading blew", "make the heading blue"),
        ("make the hating red", "make the heading red"),
        ("delete the botton", "delete the button"),
        ("centre the paragraf", "centre the paragraph"),
        ("would you mind making the title purple", "would you mind make the title purple"),
    ],
)
def test_a_near_miss_is_read_as_the_word_it_resembles(heard, meant):
    assert parse(heard) == parse(meant) is not None


def test_a_word_the_page_knows_is_matched_and_never_corrected():
    page_words = frozenset({"milongas", "festivals"})
    assert closest("milongaz", tuple(sorted(page_words))) == "milongas"
    assert correct("the milongas", page_words) == "the milongas"
    _, result = turn([user("delete the paragraph about milonga festivals")])
    assert result == ("call", "delete_block", {"block_id": "intro"})


def test_something_it_cannot_do_is_said_not_corrected_into_something_it_can():
    _, (kind, words) = turn([user("make the heading bold")])
    assert kind == "say" and "bold" in words and "I can" in words


def test_thanks_is_understood():
    assert parse("thanks").name == "thanks"
    assert parse("Thank you.").name == "thanks"


@pytest.mark.parametrize(
    "said",
    ["tell me a joke", "what's the weather", "book a flight", "hmm", "make it prettier", "the"],
)
def test_no_turn_ends_in_silence(said):
    _, (kind, words) = turn([user(said)])
    assert kind == "say" and len(words) > 10


def test_an_ambiguous_reference_is_asked_about_and_the_answer_acted_on():
    conversation, (kind, question) = turn([user("make the paragraph red")], NOBODY_SELECTED)
    assert question == "Which one: the first paragraph or the second paragraph?"
    _, result = turn([*conversation, user("the second one")], NOBODY_SELECTED)
    assert result == ("call", "update_style", {"block_id": "schedule", "color": "red"})


def test_it_with_nothing_selected_asks_which_block():
    conversation, (_, question) = turn([user("delete it")], NOBODY_SELECTED)
    assert question.startswith("Nothing is selected. Which one: the heading, the first paragraph")
    _, result = turn([*conversation, user("The button, please.")], NOBODY_SELECTED)
    assert result == ("call", "delete_block", {"block_id": "cta"})


def test_a_request_missing_two_things_asks_twice_and_then_acts():
    conversation, (_, first) = turn([user("change the color")])
    assert first.startswith("Which one:")
    conversation, (_, second) = turn([*conversation, user("the heading")])
    assert second == "Which colour should the heading be?"
    _, result = turn([*conversation, user("teal")])
    assert result == ("call", "update_style", {"block_id": "heading", "color": "teal"})


@pytest.mark.parametrize(
    ("request_words", "question", "reply", "call"),
    [
        (
            "move the button",
            "Where should I move the button",
            "to the top",
            ("move_block", {"block_id": "cta", "position": "before", "relative_to": "heading"}),
        ),
        (
            "rename the button",
            "What should the button say?",
            "Sign up today",
            ("update_text", {"block_id": "cta", "text": "Sign up today"}),
        ),
        (
            "add something",
            "What should I add",
            "a button",
            (
                "insert_block",
                {
                    "type": "button",
                    "text": "Click me",
                    "position": "after",
                    "relative_to": "schedule",
                },
            ),
        ),
        (
            "change the background of the heading",
            "Which background colour",
            "navy",
            ("update_style", {"block_id": "heading", "background": "navy"}),
        ),
    ],
)
def test_each_missing_part_has_its_question_and_its_answer(request_words, question, reply, call):
    conversation, (_, asked) = turn([user(request_words)])
    assert asked.startswith(question)
    _, result = turn([*conversation, user(reply)])
    assert result == ("call", *call)


@pytest.mark.parametrize("request_words", ["change the color", "rename the button"])
def test_a_new_request_instead_of_an_answer_is_taken_as_it_is(request_words):
    conversation, _ = turn([user(request_words)])
    _, result = turn([*conversation, user("undo")])
    assert result == ("call", "undo", {})


def test_the_recognition_prompt_puts_the_admin_first_then_the_page():
    prompt = transcription_prompt(PAGE["blocks"], "Tango words: ocho, cabeceo.")
    assert prompt.startswith("Tango words: ocho, cabeceo. Mundo Tango. Tango classes, milongas")
    assert "teal" in prompt
    huge = [{"type": "paragraph", "text": f"Paragraph {n} " * 40} for n in range(200)]
    long_prompt = transcription_prompt(huge, "Admin words.")
    assert long_prompt.startswith("Admin words.") and len(long_prompt) <= MAX_PROMPT_CHARS
    assert transcription_prompt([]).startswith("Mr. Blue, edit the page")


def test_the_tools_give_their_own_words_as_hotwords():
    words = tool_hotwords(editor_tools()).split(", ")
    assert {"undo", "redo", "heading", "paragraph", "button", "center", "justify"} <= set(words)
    assert tool_hotwords([]) is None
    assert tool_hotwords("not a list") is None


def test_a_block_name_not_understood_is_asked_about_not_ignored():
    conversation, (kind, question) = turn([user("Center the mind.")])
    assert question.startswith("Which one: the heading")
    _, result = turn([*conversation, user("the button")])
    assert result == ("call", "update_style", {"block_id": "cta", "align": "center"})
