"""The `commands` brain: a deterministic assistant that edits the page through its tools.

It understands editing requests (see `intents`), looks at the page with `describe_page` (its
blocks and which one is selected; never the instruction text, which an admin may reword), calls
the fitting tool with arguments built from that tool's own schema, and once the tool's output
comes back, says briefly what happened. When the request is unclear (which block? which
colour?) it asks a short question, and the next message that answers it completes the request;
when it is not an editing request, it says what it can do: a turn never ends in silence.

A spoken request the grammar cannot read as heard, when the engine kept the audio's scorer
(`ResponseRequest.audio`), is guessed at once the page is seen (`readings`): the reading the
audio clearly supports best is done; a plausible one is asked about ("Did you mean: move the
button above the first paragraph?"), and "yes" does it, "no" leaves the page as it is;
otherwise Mr. Blue says what it heard and what it can do. New words for the page that the
audio supports weakly are read back the same way. Each guess is reported as a `Decision`.

It holds no state: every decision is read from the conversation (its own questions included,
a guess being its own sentence), so a reconnecting client or a second worker gets the same
answers.
"""

import asyncio
import re

from mrblue.commands_brain import readings
from mrblue.commands_brain.intents import REQUIRED, Intent, answer, parse, parse_as_heard, tidy
from mrblue.commands_brain.matcher import words_of
from mrblue.commands_brain.page_actions import (
    act,
    colour_name,
    confirmation,
    describe_page,
    say,
    unclear,
)
from mrblue.commands_brain.references import describe_ref
from mrblue.commands_brain.tool_args import find_tool, fit_arguments
from mrblue.engine.brains import Decision, FunctionCall
from mrblue.engine.protocol.items import item_text
from mrblue.shared.json_input import parse_json

SKILLS = (
    "change text, colours, backgrounds, sizes and alignment, add, move or delete blocks, "
    "and undo or redo"
)
TOOL_FOR = {
    "style": "update_style",
    "text": "update_text",
    "insert": "insert_block",
    "delete": "delete_block",
    "move": "move_block",
    "select": "select_block",
    "undo": "undo",
    "redo": "redo",
    "describe": "describe_page",
}
NEEDS_PAGE = ("style", "text", "insert", "delete", "move", "select", "describe")
# The longest request it reads: a minute of speech is about 900 characters, a typed request
# with a new paragraph a little more. Longer text is refused aloud, not parsed.
MAX_REQUEST_CHARS = 2000
TOO_LONG = "That's too long for me to follow. Tell me one change at a time, in a sentence or two."
# The brain's own questions start so; an answer to one completes the request it was about
# (up to this many questions in a row).
QUESTION_STARTS = ("Which", "What", "Where", "Nothing is selected")
MAX_FOLLOW_UPS = 3
GUESS = "Did you mean: {sentence}?"
LOOKING = "Let me look at the page."
GUESS_START, GUESS_END = "Did you mean: ", "?"
YES = re.compile(
    r"(?:yes|yeah|yep|yup|sure|correct|right|exactly|ok|okay|please do|do it|go ahead|"
    r"that's right|that's it|yes please|yes do it|yes that's right)(?: please| thanks)?"
)
NO = re.compile(
    r"(?:no|nope|nah|no thanks|no thank you|don't|do not|cancel|never ?mind|wrong|not that)"
    r"(?: please| thanks)?"
)


class CommandsBrain:
    """Answers editing requests with tool calls and short spoken confirmations."""

    async def respond(self, request):
        """Yield the next step of the conversation: a tool call, or words.

        The decision is CPU work (patterns, JSON, schemas): it runs in a worker thread, so
        the engine's event loop goes on serving every other session meanwhile."""
        for output in await asyncio.to_thread(decide, request):
            yield output


def decide(request) -> list:
    """The brain's whole decision, as a list of outputs (pure, so it is easy to test)."""
    tools = [] if request.tool_choice == "none" else request.tools
    conversation = request.conversation
    index = _current_user(conversation)
    user = None if index is None else conversation[index]
    after = list(conversation) if index is None else conversation[index + 1 :]
    page = _page_output(after)
    blocks, selected = _page(page)
    known = _page_words(blocks)
    confirmed = _confirmed(conversation, index, known)
    intent = confirmed or _understand(conversation, index, known)
    guessing = confirmed is None and _needs_guess(conversation, index, intent, request)
    choice = None
    if guessing and page is not None:
        choice = _guess(user, blocks, selected, known, request)
        intent = choice.chosen.intent if choice.outcome == "act" else None
    last = after[-1] if after else None
    if last is not None and last.get("type") == "function_call_output":
        call = _call_answered_by(last, after)
        if call is not None and call.get("name") == "describe_page" and confirmed is None:
            # The page is seen: the moment to doubt what was heard, and to say why.
            doubt, record = _doubt(choice, intent, user, _scorer(user, request))
            outputs = say(doubt) if doubt else None
            if outputs is None:
                outputs = _after_tool(call, _json(last.get("output")), intent, tools, after)
            return [Decision(record), *outputs] if record else outputs
        if call is not None:
            return _after_tool(call, _json(last.get("output")), intent, tools, after)
    if user is None or (last is not None and last.get("type") == "message"):
        return say("Is there anything else you'd like to change on the page?")
    if guessing and (describe := find_tool(tools, "describe_page")) is not None:
        # What was heard is no request as it stands: the page says what it may have been.
        return [FunctionCall("describe_page", fit_arguments(describe, {}) or "{}")]
    # Spoken new words for the page may be read back once the page is seen: promise nothing yet.
    unsure = confirmed is None and _new_words(intent) and _scorer(user, request) is not None
    outputs = _fresh_turn(intent, tools, promise=not unsure)
    if confirmed is not None:
        guess = item_text(conversation[index - 1])[len(GUESS_START) : -len(GUESS_END)]
        answer = "declined" if confirmed.name == "declined" else "confirmed"
        record = {"heard": item_text(user), "chosen": guess, "outcome": answer}
        outputs = [Decision(record), *outputs]
    return outputs


def _confirmed(conversation: list, index: int | None, known: frozenset) -> Intent | None:
    """The request a "yes" to our guess confirms (the guess's own sentence, read again), or
    `declined` for a "no"; None if the message before was no guess or this is no answer."""
    if index is None or index < 1:
        return None
    question = conversation[index - 1]
    words = item_text(question) if question.get("role") == "assistant" else ""
    if not (words.startswith(GUESS_START) and words.endswith(GUESS_END)):
        return None
    said = tidy(item_text(conversation[index])).text.strip(" .")
    if NO.fullmatch(said):
        return Intent("declined")
    if YES.fullmatch(said):
        return parse(words[len(GUESS_START) : -len(GUESS_END)], known)
    return None


def _needs_guess(conversation, index, intent, request) -> bool:
    """Whether the user's request must be guessed at: it was spoken and the audio can choose
    (the recognizer kept a scorer of it), the grammar cannot read it as it was heard (a
    near-miss correction or nothing), and it is no answer to a question of ours. Typed text
    is read as before: the near-miss reading is done, else Mr. Blue says what it can do."""
    user = None if index is None else conversation[index]
    if _scorer(user, request) is None:
        return False
    if intent is not None and intent.name in ("too_long", "unsupported"):
        return False  # "make it bold" is understood, and refused: never guessed at
    said = item_text(user)
    if parse_as_heard(said) is not None or _pending(conversation, index, frozenset()):
        return False
    return _scorer(user, request) is not None


def _scorer(user: dict | None, request):
    """The recognizer's scorer of the user's audio, if the engine kept one."""
    audio = getattr(request, "audio", None) or {}
    return audio.get(user.get("id")) if user is not None else None


def _guess(user, blocks, selected, known, request) -> "readings.Choice":
    """The reading of the user's request the page and the audio support best."""
    return readings.choose(item_text(user), blocks, selected, known, _scorer(user, request))


def _doubt(choice, intent, user, scorer) -> tuple[str | None, dict | None]:
    """What to ask or say, once the page is seen, instead of acting on a reading in doubt
    (a guess to confirm, what was heard when nothing fits, new words for the page that the
    audio supports weakly, read back), and the account of the decision, if one was made."""
    heard = item_text(user).strip() if user is not None else ""
    record = choice.record() if choice is not None else None
    if choice is not None and choice.outcome == "ask":
        return GUESS.format(sentence=choice.chosen.sentence), record
    if choice is not None and choice.outcome == "unknown":
        return f'I heard "{heard}", and I can\'t do that. I can {SKILLS}.', record
    if not _new_words(intent) or scorer is None:
        return None, record
    text = intent.slots["text"]
    sentence = choice.chosen.sentence if choice is not None else heard.rstrip(" .!?")
    support = readings.support(sentence, text, scorer)
    record = {
        **(record or {"heard": heard, "chosen": sentence, "outcome": "act"}),
        "text": text,
        "text_support": round(support, 3),
    }
    if support < readings.READ_BACK:
        record["outcome"] = "read_back"
        return GUESS.format(sentence=sentence), record
    return None, record


def _understand(conversation: list, index: int | None, known: frozenset) -> Intent | None:
    """The intent of the user's message at `index`: the request a question of ours was about,
    completed by it, if it answers that question; else what it asks by itself (`too_long`
    past `MAX_REQUEST_CHARS`). `known` are the page's words, when the page has been seen."""
    if index is None:
        return None
    said = item_text(conversation[index])
    if len(said) > MAX_REQUEST_CHARS:
        return Intent("too_long")
    pending = _pending(conversation, index, known)
    if pending is not None and (answered := answer(pending, said, known)) is not None:
        return answered
    return parse(said, known)


def _pending(conversation: list, index: int, known: frozenset, depth: int = 0) -> Intent | None:
    """The editing request the assistant's question just before `index` was about, as the
    answers so far have completed it; None if the message before was not such a question."""
    if depth >= MAX_FOLLOW_UPS or index < 1:
        return None
    question = conversation[index - 1]
    words = item_text(question) if question.get("role") == "assistant" else ""
    if not (words.startswith(QUESTION_STARTS) and words.endswith("?")):
        return None
    earlier = _current_user(conversation[: index - 1])
    if earlier is None:
        return None
    said = item_text(conversation[earlier])
    intent = parse(said, known)
    if intent is not None and intent.name in REQUIRED:
        return intent
    before = _pending(conversation, earlier, known, depth + 1)
    return None if before is None else answer(before, said, known)


def _page_words(blocks: list) -> frozenset:
    """The words of the page's blocks: near-misses of them are corrected to them."""
    words = set()
    for block in blocks:
        words |= words_of(block.get("text") or "")
    return frozenset(words)


def _new_words(intent: Intent | None) -> bool:
    """Whether the request writes words of the person's into the page (a text, a new block's)."""
    return (
        intent is not None and intent.name in ("text", "insert") and bool(intent.slots.get("text"))
    )


def _fresh_turn(intent: Intent | None, tools, promise: bool = True) -> list:
    """The first step of a new request: an answer, or the tool call that starts it, said as
    under way (`promise`; else only that the page is looked at first)."""
    if intent is None:
        return say(f"Sorry, I can't help with that offline. I can edit this page: {SKILLS}.")
    if intent.name == "too_long":
        return say(TOO_LONG)
    if intent.name == "declined":
        return say("OK, I changed nothing. Tell me again what you'd like.")
    if intent.name == "greet":
        return say(
            "Hi! I'm Mr. Blue. Tell me what to change on this page, for example: "
            "make the heading blue."
        )
    if intent.name == "capabilities":
        if not tools:
            return say(
                "Offline I understand page edits, but page editing is switched off in "
                "this conversation."
            )
        return say(f"I can {SKILLS}. For example, say: add a button that says Sign up.")
    if intent.name == "thanks":
        return say("You're welcome! Tell me whenever you'd like something else changed.")
    if intent.name == "unsupported":
        return say(f"I can't do {intent.slots['what']} here. I can {SKILLS}.")
    tool = find_tool(tools, TOOL_FOR[intent.name])
    if tool is None:
        return say(
            "I can't change the page in this conversation: the page-editing tools are switched off."
        )
    if intent.name in NEEDS_PAGE:
        describe = find_tool(tools, "describe_page")
        if describe is not None:
            look = [FunctionCall("describe_page", fit_arguments(describe, {}) or "{}")]
            return _acknowledged(intent, look) if promise else say(LOOKING) + look
        # Without describe_page the page is unseen: only an insert at the end can work.
        return _acknowledged(intent, act(intent, tool, [], None))
    arguments = fit_arguments(tool, {})
    if arguments is None:
        return say("The page tools of this conversation don't let me do that.")
    return _acknowledged(intent, [FunctionCall(tool["name"], arguments)])


def _acknowledged(intent: Intent, outputs: list) -> list:
    """`outputs`, after a few words saying what is about to happen, when they call a tool: the
    person hears at once that they were understood, while the page is looked at and changed
    (no dead air); the words after the tool's output say how it went."""
    if not any(isinstance(o, FunctionCall) for o in outputs):
        return outputs
    words = _acknowledgement(intent)
    return say(words) + outputs if words else outputs


def _acknowledgement(intent: Intent) -> str | None:
    """ "Sure, making the heading blue.": the request said back as under way (None when it
    still needs a question answered: the question comes instead)."""
    if intent.name == "describe":
        return LOOKING
    if intent.missing:
        return None
    slots = intent.slots
    what = describe_ref(slots["target"]) if slots.get("target") is not None else "it"
    if intent.name == "style":
        if "color" in slots:
            return f"Sure, making {what} {colour_name(slots['color'])}."
        if "background" in slots:
            return f"Sure, giving {what} a {colour_name(slots['background'])} background."
        if "align" in slots:
            return f"Sure, aligning {what}."
        return f"Sure, changing the size of {what}."
    return {
        "text": f"Sure, changing the text of {what}.",
        "insert": f"Sure, adding a {slots.get('type', 'block')}.",
        "delete": f"Sure, deleting {what}.",
        "move": f"Sure, moving {what}.",
        "select": f"Sure, selecting {what}.",
        "undo": "Sure, undoing the last change.",
        "redo": "Sure, redoing it.",
    }.get(intent.name)


def _after_tool(call, output, intent, tools, after) -> list:
    if call.get("name") == "describe_page":
        blocks, selected = _page(output)
        if intent is None:
            return say(f"Sorry, I can't help with that offline. I can {SKILLS}.")
        if intent.name not in TOOL_FOR or intent.name not in NEEDS_PAGE:
            return _fresh_turn(intent, tools)  # undo, redo: seen only to guess what was said
        if intent.name == "describe":
            return say(describe_page(blocks))
        question = unclear(intent, blocks, selected)
        if question:
            return say(question)
        tool = find_tool(tools, TOOL_FOR.get(intent.name, ""))
        if tool is None:
            return say("I can't do that with the tools of this conversation.")
        return act(intent, tool, blocks, selected)
    if isinstance(output, dict) and (output.get("ok") is False or output.get("error")):
        reason = str(output.get("error") or "the editor refused the change").rstrip(".")
        return say(f"I couldn't do that: {reason}.")
    blocks, selected = _page(_page_output(after))
    return say(confirmation(call.get("name"), intent, blocks, selected))


def _page_output(after: list):
    """What `describe_page` reported in this turn, if it was called."""
    return next(
        (
            _json(i.get("output"))
            for i in after
            if i.get("type") == "function_call_output"
            and (_call_answered_by(i, after) or {}).get("name") == "describe_page"
        ),
        None,
    )


def _current_user(conversation) -> int | None:
    """The index of the last user message."""
    for index in range(len(conversation) - 1, -1, -1):
        item = conversation[index]
        if item.get("type") == "message" and item.get("role") == "user":
            return index
    return None


def _call_answered_by(output: dict, after: list) -> dict | None:
    """The function call of this turn that a function_call_output answers."""
    return next(
        (
            i
            for i in after
            if i.get("type") == "function_call" and i.get("call_id") == output.get("call_id")
        ),
        None,
    )


def _page(output):
    """The blocks and the selected block's id, as `describe_page` reported them."""
    if not isinstance(output, dict):
        return [], None
    blocks = output.get("blocks")
    blocks = blocks if isinstance(blocks, list) else []
    blocks = [_block(b) for b in blocks if isinstance(b, dict) and isinstance(b.get("id"), str)]
    selected = output.get("selected")
    return blocks, selected if isinstance(selected, str) else None


def _block(reported: dict) -> dict:
    """A block as this brain reads it: the fields it uses, each of the type it expects (the
    page's report comes back through the client, which may send anything)."""
    block = {"id": reported["id"], "type": "block"}
    for key in ("type", "text", "alt"):
        if isinstance(reported.get(key), str):
            block[key] = reported[key]
    style = reported.get("style")
    size = style.get("font_size") if isinstance(style, dict) else None
    if isinstance(size, int | float) and not isinstance(size, bool) and 0 < size < 10_000:
        block["style"] = {"font_size": size}
    return block


def _json(text):
    try:
        return parse_json(text) if isinstance(text, str) else None
    except ValueError:
        return None
