"""The words recognition should expect in a session: the page's own and the editor's.

Whisper reads a prompt as the text that came before, and faster-whisper's `hotwords` as hint
phrases read before that: both tilt it toward words it would otherwise hear as something
similar ("undo" as "and do", "Milonga" as "my long"). A session of a page gets both, built from
that page and from the vocabulary the `commands` brain understands; the admin's prompt stays
first, and the whole stays within the ~220 tokens Whisper keeps of a prompt.
"""

from mrblue.brains.intents import ALIGN_WORDS, COLOR_NAMES, GROW_WORDS, NEW_BLOCK_WORDS

# Whisper keeps the last 223 tokens of a prompt and 223 of hotwords; English is ~4 chars a token.
MAX_PROMPT_CHARS = 600
MAX_HOTWORDS_CHARS = 400
MAX_BLOCK_CHARS = 80  # of each block's text: its opening words are the ones people quote
EDITOR_SENTENCE = (
    "Mr. Blue, edit the page: make the heading blue, give the button a red background, "
    "make the paragraph bigger, center it, add a button that says Sign up, move it up, "
    "delete the paragraph, undo, redo."
)


def editor_words() -> list[str]:
    """The words of the editor's requests that Whisper most often mishears."""
    words = ["undo", "redo", "heading", "paragraph", "button", "background", "align"]
    words += [w for w in (*NEW_BLOCK_WORDS, *ALIGN_WORDS, *GROW_WORDS) if " " not in w]
    words += COLOR_NAMES
    return list(dict.fromkeys(words))


def page_phrases(blocks: list[dict]) -> list[str]:
    """The page's text, block by block, each cut to its opening words."""
    phrases = []
    for block in blocks:
        text = " ".join(str(block.get("text") or "").split())
        if block.get("type") == "image" or not text:
            continue
        if len(text) > MAX_BLOCK_CHARS:
            text = text[:MAX_BLOCK_CHARS].rsplit(" ", 1)[0]
        phrases.append(text.rstrip(".,;:!?"))
    return list(dict.fromkeys(phrases))


def recognition_hints(blocks: list[dict], admin_prompt: str | None = None) -> tuple[str, str]:
    """(prompt, hotwords) for a session of a page with `blocks`: the admin's prompt (else the
    editor sentence) then the page's words as the prompt; the editor's words as hotwords."""
    lead = (admin_prompt or "").strip() or EDITOR_SENTENCE
    page = ". ".join(page_phrases(blocks))
    prompt = f"{lead} {page}." if page else lead
    if len(prompt) > MAX_PROMPT_CHARS:
        prompt = prompt[:MAX_PROMPT_CHARS].rsplit(" ", 1)[0]
    hotwords = ", ".join(editor_words())[:MAX_HOTWORDS_CHARS]
    return prompt, hotwords
