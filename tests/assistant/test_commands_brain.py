"""The `commands` brain: phrasings to tool calls, multi-step turns, honest refusals."""

import json
import time

import pytest

from editor.tools import editor_tools
from mrblue.commands_brain import brain as commands
from mrblue.commands_brain.brain import CommandsBrain, decide
from mrblue.commands_brain.intents import parse
from mrblue.engine.brains import FunctionCall, TextDelta, load_brain
from mrblue.engine.brains.openai_compatible import OpenAICompatibleBrain
from tests.support.brain_turns import brain_request, user

PAGE = {
    "blocks": [
        {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
        {"id": "intro", "type": "paragraph", "text": "Tango classes for all.", "style": {}},
        {
            "id": "schedule",
            "type": "paragraph",
            "text": "Milongas on Saturdays.",
            "style": {"font_size": 20},
        },
        {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
    ],
    "selected": "intro",
}

# (utterance, tool, arguments)
TABLE = [
    # colour
    ("make the heading blue", "update_style", {"block_id": "heading", "color": "blue"}),
    ("Make the title red.", "update_style", {"block_id": "heading", "color": "red"}),
    ("turn the button green", "update_style", {"block_id": "cta", "color": "green"}),
    (
        "change the heading color to purple",
        "update_style",
        {"block_id": "heading", "color": "purple"},
    ),
    (
        "change the colour of the second paragraph to navy",
        "update_style",
        {"block_id": "schedule", "color": "navy"},
    ),
    (
        "could you please colour the button orange",
        "update_style",
        {"block_id": "cta", "color": "orange"},
    ),
    (
        "set the heading's color to #ff0000",
        "update_style",
        {"block_id": "heading", "color": "#ff0000"},
    ),
    ("make it gray", "update_style", {"block_id": "intro", "color": "gray"}),
    ("paint the last paragraph teal", "update_style", {"block_id": "schedule", "color": "teal"}),
    ("change the title to blue", "update_style", {"block_id": "heading", "color": "blue"}),
    # background
    (
        "give the button a yellow background",
        "update_style",
        {"block_id": "cta", "background": "yellow"},
    ),
    (
        "set the background of the heading to black",
        "update_style",
        {"block_id": "heading", "background": "black"},
    ),
    (
        "make the button's background pink",
        "update_style",
        {"block_id": "cta", "background": "pink"},
    ),
    (
        "put a white background on the first paragraph",
        "update_style",
        {"block_id": "intro", "background": "white"},
    ),
    (
        "change the heading background colour to gold",
        "update_style",
        {"block_id": "heading", "background": "gold"},
    ),
    # font size
    ("make the heading bigger", "update_style", {"block_id": "heading", "font_size": 40}),
    (
        "make the second paragraph smaller",
        "update_style",
        {"block_id": "schedule", "font_size": 16},
    ),
    ("set the heading font size to 48", "update_style", {"block_id": "heading", "font_size": 48}),
    (
        "change the font size of the button to 18 pixels",
        "update_style",
        {"block_id": "cta", "font_size": 18},
    ),
    (
        "increase the font size of the first paragraph",
        "update_style",
        {"block_id": "intro", "font_size": 20},
    ),
    ("make the title 60px", "update_style", {"block_id": "heading", "font_size": 60}),
    ("shrink the heading", "update_style", {"block_id": "heading", "font_size": 26}),
    # alignment
    ("center the button", "update_style", {"block_id": "cta", "align": "center"}),
    ("centre the heading", "update_style", {"block_id": "heading", "align": "center"}),
    (
        "align the first paragraph to the right",
        "update_style",
        {"block_id": "intro", "align": "right"},
    ),
    ("right align the last paragraph", "update_style", {"block_id": "schedule", "align": "right"}),
    ("left-align the heading", "update_style", {"block_id": "heading", "align": "left"}),
    ("move the button to the center", "update_style", {"block_id": "cta", "align": "center"}),
    # text
    (
        "change the title to Welcome to Mundo Tango",
        "update_text",
        {"block_id": "heading", "text": "Welcome to Mundo Tango"},
    ),
    ("set the button text to Sign up", "update_text", {"block_id": "cta", "text": "Sign up"}),
    (
        "rename the button to Register now",
        "update_text",
        {"block_id": "cta", "text": "Register now"},
    ),
    (
        "the heading should say Tango Nights",
        "update_text",
        {"block_id": "heading", "text": "Tango Nights"},
    ),
    (
        "make the heading say Hello Buenos Aires",
        "update_text",
        {"block_id": "heading", "text": "Hello Buenos Aires"},
    ),
    (
        "replace the first paragraph with We dance every night.",
        "update_text",
        {"block_id": "intro", "text": "We dance every night"},
    ),
    (
        "change the text of the second paragraph to Classes start at 8",
        "update_text",
        {"block_id": "schedule", "text": "Classes start at 8"},
    ),
    (
        'change the heading to "Milonga Tonight"',
        "update_text",
        {"block_id": "heading", "text": "Milonga Tonight"},
    ),
    # insert
    (
        "add a button that says Sign up",
        "insert_block",
        {"type": "button", "text": "Sign up", "position": "after", "relative_to": "intro"},
    ),
    (
        "insert a paragraph saying We are open on Sundays after the heading",
        "insert_block",
        {
            "type": "paragraph",
            "text": "We are open on Sundays",
            "position": "after",
            "relative_to": "heading",
        },
    ),
    (
        "add a heading called Festival at the top",
        "insert_block",
        {"type": "heading", "text": "Festival", "position": "before", "relative_to": "heading"},
    ),
    (
        "create a new button labelled Buy tickets at the end",
        "insert_block",
        {"type": "button", "text": "Buy tickets", "position": "end"},
    ),
    (
        "put a paragraph that says See you there below the button",
        "insert_block",
        {"type": "paragraph", "text": "See you there", "position": "after", "relative_to": "cta"},
    ),
    (
        "add another paragraph before the button saying Bring comfortable shoes",
        "insert_block",
        {
            "type": "paragraph",
            "text": "Bring comfortable shoes",
            "position": "before",
            "relative_to": "cta",
        },
    ),
    # delete
    ("delete the second paragraph", "delete_block", {"block_id": "schedule"}),
    ("remove the button", "delete_block", {"block_id": "cta"}),
    ("get rid of the heading", "delete_block", {"block_id": "heading"}),
    ("delete it", "delete_block", {"block_id": "intro"}),
    ("erase the last paragraph", "delete_block", {"block_id": "schedule"}),
    ("take out the paragraph about milongas", "delete_block", {"block_id": "schedule"}),
    # move
    (
        "move the button above the heading",
        "move_block",
        {"block_id": "cta", "position": "before", "relative_to": "heading"},
    ),
    (
        "move the first paragraph below the second paragraph",
        "move_block",
        {"block_id": "intro", "position": "after", "relative_to": "schedule"},
    ),
    (
        "put the button at the top",
        "move_block",
        {"block_id": "cta", "position": "before", "relative_to": "heading"},
    ),
    (
        "move the heading to the bottom",
        "move_block",
        {"block_id": "heading", "position": "after", "relative_to": "cta"},
    ),
    (
        "move the button up",
        "move_block",
        {"block_id": "cta", "position": "before", "relative_to": "schedule"},
    ),
    (
        "move it down",
        "move_block",
        {"block_id": "intro", "position": "after", "relative_to": "schedule"},
    ),
    # select
    ("select the heading", "select_block", {"block_id": "heading"}),
    ("highlight the button", "select_block", {"block_id": "cta"}),
    ("pick the last paragraph", "select_block", {"block_id": "schedule"}),
    ("go to the first paragraph", "select_block", {"block_id": "intro"}),
    # undo / redo
    ("undo", "undo", {}),
    ("Undo that.", "undo", {}),
    ("please undo the last change", "undo", {}),
    ("take that back", "undo", {}),
    ("revert that", "undo", {}),
    ("never mind, undo", "undo", {}),
    ("redo", "redo", {}),
    ("redo that", "redo", {}),
    ("bring it back", "redo", {}),
]

DESCRIBE = [
    "what's on the page",
    "describe the page",
    "read me the page",
    "list the blocks",
    "what is this page about",
]

NO_TOOL = [
    "what's the weather like today",
    "tell me a joke",
    "make me a sandwich",
    "I love the color blue",
    "how are you",
    "hello",
    "what can you do?",
    "thank you",
    "book a flight to Buenos Aires",
    "the heading looks nice",
    "what time is it",
    "sing me a song",
]


request = brain_request


def call(name, arguments, call_id):
    return {"type": "function_call", "name": name, "arguments": arguments, "call_id": call_id}


def output(call_id, value):
    return {"type": "function_call_output", "call_id": call_id, "output": json.dumps(value)}


def spoken(outputs):
    assert all(isinstance(o, TextDelta) for o in outputs), outputs
    return "".join(o.text for o in outputs)


def the_call(outputs) -> FunctionCall:
    """The one tool call of a response; words before it (an acknowledgement) are allowed."""
    *words, last = outputs
    assert isinstance(last, FunctionCall) and all(isinstance(o, TextDelta) for o in words), outputs
    return last


def run_turn(utterance, page=PAGE):
    """Play a whole turn: look at the page, act, hear back; return (tool call, confirmation)."""
    conversation = [user(utterance)]
    first = the_call(decide(request(conversation)))
    if first.name == "describe_page":
        conversation += [call("describe_page", first.arguments, "call_1"), output("call_1", page)]
        act = the_call(decide(request(conversation)))
    else:
        act = first
    conversation += [call(act.name, act.arguments, "call_2"), output("call_2", {"ok": True})]
    return act, spoken(decide(request(conversation)))


def test_the_table_is_big_enough():
    intents = {
        (tool, tuple(sorted(args)) if tool == "update_style" else ()) for _, tool, args in TABLE
    }
    intents.add(("describe_page", ()))  # the DESCRIBE phrasings
    assert len(TABLE) + len(DESCRIBE) >= 60 and len(intents) >= 12


@pytest.mark.parametrize(("utterance", "tool", "arguments"), TABLE, ids=[row[0] for row in TABLE])
def test_phrasing_gives_the_expected_call(utterance, tool, arguments):
    act, confirmation = run_turn(utterance)
    assert act.name == tool
    assert json.loads(act.arguments) == arguments
    assert confirmation.startswith(("Done", "Selected"))


@pytest.mark.parametrize("utterance", NO_TOOL)
def test_phrasings_that_must_not_trigger_a_tool(utterance):
    answer = spoken(decide(request([user(utterance)])))
    assert answer


def test_confirmation_says_what_changed():
    _, said = run_turn("make the heading blue")
    assert said == "Done. The heading is blue now."
    _, said = run_turn("add a button that says Sign up")
    assert said == 'Done. I added a button that says "Sign up".'


def test_a_block_that_does_not_exist_is_explained_and_nothing_is_called():
    conversation = [
        user("delete the third paragraph"),
        call("describe_page", "{}", "c1"),
        output("c1", PAGE),
    ]
    said = spoken(decide(request(conversation)))
    assert "couldn't find the third paragraph" in said
    assert "changed nothing" in said and "two paragraphs" in said


@pytest.mark.parametrize("utterance", DESCRIBE)
def test_describe_page_is_spoken(utterance):
    assert the_call(decide(request([user(utterance)]))).name == "describe_page"
    conversation = [
        user(utterance),
        call("describe_page", "{}", "c1"),
        output("c1", PAGE),
    ]
    said = spoken(decide(request(conversation)))
    assert said.startswith("This page has 4 blocks") and "Mundo Tango" in said


def test_a_tool_error_is_explained():
    conversation = [
        user("undo"),
        call("undo", "{}", "c1"),
        output("c1", {"ok": False, "error": "There is nothing to undo."}),
    ]
    assert spoken(decide(request(conversation))) == "I couldn't do that: There is nothing to undo."


def test_without_tools_it_says_it_cannot_edit():
    said = spoken(decide(request([user("make the heading blue")], tools=[])))
    assert "can't change the page" in said
    said = spoken(decide(request([user("undo")], tool_choice="none")))
    assert "can't change the page" in said


def test_it_reads_the_schema_rather_than_assuming_it():
    custom = [
        {
            "type": "function",
            "name": "update_style",
            "parameters": {
                "type": "object",
                "properties": {"target": {"type": "string"}, "colour": {"type": "string"}},
                "required": ["target", "colour"],
                "additionalProperties": False,
            },
        },
        {"type": "function", "name": "describe_page", "parameters": {"type": "object"}},
    ]
    conversation = [
        user("make the heading blue"),
        call("describe_page", "{}", "c1"),
        output("c1", PAGE),
    ]
    act = the_call(decide(request(conversation, tools=custom)))
    assert json.loads(act.arguments) == {"target": "heading", "colour": "blue"}


def test_a_schema_that_cannot_take_the_request_is_not_called():
    narrow = [
        {
            "type": "function",
            "name": "update_style",
            "parameters": {
                "type": "object",
                "properties": {
                    "block_id": {"type": "string"},
                    "align": {"type": "string", "enum": ["left"]},
                },
                "required": ["block_id"],
            },
        },
        {"type": "function", "name": "describe_page", "parameters": {"type": "object"}},
    ]
    conversation = [
        user("center the button"),
        call("describe_page", "{}", "c1"),
        output("c1", PAGE),
    ]
    assert "don't let me" in spoken(decide(request(conversation, tools=narrow)))


def test_the_selection_comes_from_describe_page_not_the_instructions():
    said = 'The selected element is button "Join a class" (id cta).'
    conversation = [user("make it red"), call("describe_page", "{}", "c1"), output("c1", PAGE)]
    act = the_call(decide(request(conversation, instructions=said)))
    assert json.loads(act.arguments) == {"block_id": "intro", "color": "red"}
    page = {**PAGE, "selected": None}
    conversation = [user("make it red"), call("describe_page", "{}", "c1"), output("c1", page)]
    assert "Nothing is selected" in spoken(decide(request(conversation, instructions=said)))


def test_a_pronoun_with_nothing_selected_asks_which_block():
    page = {**PAGE, "selected": None}
    conversation = [user("delete it"), call("describe_page", "{}", "c1"), output("c1", page)]
    assert "Nothing is selected" in spoken(decide(request(conversation)))


def test_an_empty_turn_asks_for_more():
    conversation = [
        user("hi"),
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hi!"}],
        },
    ]
    assert "anything else" in spoken(decide(request(conversation)))


def test_the_engine_loads_brains_by_short_name_or_dotted_path():
    assert isinstance(load_brain("commands"), CommandsBrain)  # registered by the app
    assert isinstance(load_brain("openai_compatible"), OpenAICompatibleBrain)
    assert isinstance(load_brain("mrblue.commands_brain.brain.CommandsBrain"), CommandsBrain)
    with pytest.raises(ImportError):
        load_brain("no_such_brain")


# --- bounded work: a long or hostile text cannot stall the engine ---------------------------

# Each makes a text of about n characters that once made some pattern backtrack
# quadratically (or could: runs of what fillers, references and free text are made of).
ADVERSARIAL = {
    "dots": lambda n: "." * n + "a",
    "punctuation": lambda n: "!?." * (n // 3) + "a",
    "spaces": lambda n: "make" + " " * n + "it blue ,",
    "the the": lambda n: "the " * (n // 4) + "#",
    "make make": lambda n: "make " * (n // 5) + "#",
    "fillers": lambda n: "please , " * (n // 9) + "#",
    "polite ending": lambda n: "make it blue" + ", please" * (n // 8),
    "a reference's words before a place": lambda n: (
        "move the paragraph about " + "before the paragraph about " * (n // 27) + "#"
    ),
    "free text before a reference": lambda n: "write " + "in the heading about " * (n // 21) + "#",
    "a label before a place": lambda n: (
        "add a button saying " + "before the button about x " * (n // 26) + "#"
    ),
    "many words before a place": lambda n: (
        "add a button saying " + "before the button about a b c d e f g h i j k " * (n // 46) + "#"
    ),
    "long words before a reference": lambda n: (
        "write " + ("in the heading about " + "a" * 29 + " ") * (n // 51) + "#"
    ),
    "curly quotes in new text": lambda n: (
        "set the heading to say " + "a" * (n // 2) + "\u2019" + "A" * (n // 2)
    ),
}


def _parse_seconds(text: str) -> float:
    """CPU seconds (other processes' load does not count), the best of five runs."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        parse(text)
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize("family", sorted(ADVERSARIAL))
def test_understanding_takes_time_linear_in_the_length(family):
    """4x the text costs 4x the time when the work is linear, 16x when quadratic: a bound of
    8x (plus 20 ms for noise on tiny times) tells them apart with room to spare."""
    make = ADVERSARIAL[family]
    previous = _parse_seconds(make(20_000))
    for n in (80_000, 320_000):
        now = _parse_seconds(make(n))
        assert now < 8 * previous + 0.02, f"{family}: {n} chars took {now:.3f}s"
        previous = now


def test_an_overlong_request_gets_a_short_spoken_answer():
    long = "make the heading blue and " * (300_000 // 26)
    outputs = decide(request([user(long)]))
    answer = spoken(outputs)
    assert "too long" in answer and len(answer) < 200


def test_a_long_request_within_the_limit_is_understood():
    words = "Tango " * ((commands.MAX_REQUEST_CHARS - 40) // 6)
    conversation = [
        user(f"change the heading to say {words}"),
        call("describe_page", "{}", "c1"),
        output("c1", PAGE),
    ]
    act = the_call(decide(request(conversation)))
    assert act.name == "update_text"
    assert json.loads(act.arguments) == {"block_id": "heading", "text": words.strip()}


def test_a_tool_schema_pattern_is_not_run_on_what_the_user_said():
    """A client declares the tools: a `pattern` like (a+)+$ takes exponential time on the
    brain's own arguments, so the brain leaves patterns to the page, which checks its own."""
    tools = editor_tools()
    update_text = next(t for t in tools if t["name"] == "update_text")
    update_text["parameters"]["properties"]["text"]["pattern"] = "^(a+)+$"
    words = "a" * 24 + "b"
    conversation = [
        user(f"change the heading to say {words}"),
        call("describe_page", "{}", "c1"),
        output("c1", PAGE),
    ]
    act = the_call(decide(request(conversation, tools=tools)))
    assert json.loads(act.arguments) == {"block_id": "heading", "text": words}
