"""The words recognition should expect in a session of a page: the page's own and the editor's.

Whisper reads a prompt as the text that came before what it hears, so the words in it are
heard more readily ("Milongas" rather than "my longest", "teal" rather than "deal"). A page's
session gets, as `audio.input.transcription.prompt`: the admin's prompt first (the profile's
`transcription_prompt`), else a sentence of editor requests; then the page's own text, block by
block, cut to its opening words; then the colour names the editor knows. The whole stays
within what Whisper keeps of a prompt (~220 tokens, the last ones: so the admin's words are
never the ones cut). The engine adds the session tools' own words as faster-whisper `hotwords`
(mrblue/engine/voice/hints.py).
"""

from editor.blocks import NAMED_COLORS

MAX_PROMPT_CHARS = 800  # ~200 tokens of English
MAX_BLOCK_CHARS = 80  # of each block's text: its opening words are the ones people quote
EDITOR_SENTENCE = (
    "Mr. Blue, edit the page: make the heading blue, give the button a red background, "
    "make the paragraph bigger, center it, add a button that says Sign up, move it up, "
    "delete the paragraph, undo, redo."
)


def page_phrases(blocks: list[dict]) -> list[str]:
    """The page's text, block by block (images have none), each cut to its opening words."""
    phrases = []
    for block in blocks:
        text = " ".join(str(block.get("text") or "").split()) if isinstance(block, dict) else ""
        if block.get("type") == "image" or not text:
            continue
        if len(text) > MAX_BLOCK_CHARS:
            text = text[:MAX_BLOCK_CHARS].rsplit(" ", 1)[0]
        phrases.append(text.rstrip(".,;:!?"))
    return list(dict.fromkeys(phrases))


def transcription_prompt(blocks: list[dict], admin_prompt: str = "") -> str:
    """The recognition prompt of a session of a page with `blocks`."""
    lead = " ".join((admin_prompt or "").split()) or EDITOR_SENTENCE
    colours = "Colours: " + ", ".join(c for c in NAMED_COLORS if c != "grey") + "."
    room = MAX_PROMPT_CHARS - len(lead) - len(colours) - 2
    page = ""
    for phrase in page_phrases(blocks):
        if len(page) + len(phrase) + 2 > room:
            break
        page += f"{phrase}. "
    return " ".join(part for part in (lead, page.strip(), colours) if part)[:MAX_PROMPT_CHARS]
