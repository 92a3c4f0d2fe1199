"""Recognition hints from a session's tools: the words its requests are likely to use.

faster-whisper reads `hotwords` as hint phrases before the prompt. A session that declares
tools gets their own vocabulary as hotwords: the words of each tool's name ("update_style"
gives "update style") and of its properties, and every string value its schemas enumerate
("left", "center", "heading", "before"). What the client declares, the client's people say.
"""

import re

MAX_HOTWORDS_CHARS = 400  # Whisper keeps ~110 tokens of hotwords
_WORD = re.compile(r"[A-Za-z][a-z]+")


def tool_hotwords(tools) -> str | None:
    """The hotwords of a session with `tools` (a list of function tools), or None."""
    words: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict):
            words += _WORD.findall(str(tool.get("name") or "").replace("_", " "))
            words += _schema_words(tool.get("parameters"), depth=0)
    unique = list(dict.fromkeys(word.lower() for word in words if len(word) > 2))
    text = ", ".join(unique)
    return (
        text[:MAX_HOTWORDS_CHARS].rsplit(",", 1)[0]
        if len(text) > MAX_HOTWORDS_CHARS
        else (text or None)
    )


def _schema_words(schema, depth: int) -> list[str]:
    """Property names and enumerated strings of a schema, a few levels deep."""
    if not isinstance(schema, dict) or depth > 3:
        return []
    words = []
    enum = schema.get("enum")
    if isinstance(enum, list):
        words += [w for value in enum if isinstance(value, str) for w in _WORD.findall(value)]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, value in properties.items():
            words += _WORD.findall(str(name).replace("_", " "))
            words += _schema_words(value, depth + 1)
    return words
