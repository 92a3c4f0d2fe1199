"""The conversation log: validating what browsers send, and storing it exactly once.

Messages carry a `seq` that increases per conversation and survives reconnects; a message whose
`seq` is already stored is a replay, acknowledged again and not written twice. Transcript text
is kept per item, and an older `seq` never overwrites a newer one (messages may arrive out of
order after a reconnect). Nothing here trusts the browser: every field is checked.
"""

import re

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from mrblue.conf import app_settings
from mrblue.costs import read_usage
from mrblue.models import Conversation, LogMessage, TranscriptEntry, TurnTiming

MAX_TEXT = 20_000
# `seq` must survive a round trip through a browser's Number (2**53 - 1) and fit the database.
MAX_SEQ = 2**53 - 1
MAX_INDEX = 1_000_000
# Tries of a batch that raced another web process's (see `store_many`).
RETRIES = 3
TYPES = ("transcript", "usage", "tool_call", "metric", "timing", "end")
MAX_MS = 3_600_000
_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


# Where an honest client puts `seq` in a message too large or too broken to parse: the first
# key (this panel), or the last (outboxes saved before it put it first). Read from the
# message's first and last few characters only, so it costs nothing however large it is.
_SEQ_FIRST = re.compile(r'\s*\{\s*"seq"\s*:\s*(\d{1,16})\s*[,}]')
_SEQ_LAST = re.compile(r'[,{]\s*"seq"\s*:\s*(\d{1,16})\s*\}\s*$')
_PEEK = 64


class LogError(Exception):
    """An invalid message, reported back as `{"type": "error", "code", "message"}`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _field(message: dict, name: str, kind, *, optional=False, max_length=None):
    if name not in message:
        if optional:
            return None
        raise LogError("missing_field", f"'{name}' is required.")
    value = message[name]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise LogError("invalid_type", f"'{name}' has the wrong type.")
    if max_length is not None and len(value) > max_length:
        raise LogError("too_large", f"'{name}' is longer than {max_length} characters.")
    if isinstance(value, str) and not _storable(value):
        raise LogError(
            "invalid_value", f"'{name}' holds a NUL or half a character (a lone surrogate)."
        )
    return value


def _storable(text: str) -> bool:
    # JSON may escape half a UTF-16 pair ("\ud83d") or NUL ("\u0000"); PostgreSQL stores
    # neither (the JSON reader refuses the first already).
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def validate(message) -> dict:
    """Check one client message; return the fields to store (without `type`/`seq`)."""
    if not isinstance(message, dict):
        raise LogError("invalid_message", "A message is a JSON object.")
    kind = _field(message, "type", str)
    if kind not in TYPES:
        raise LogError("unknown_type", f"Unknown message type {kind!r}.")
    seq = _field(message, "seq", int)
    if not 0 <= seq <= MAX_SEQ:
        raise LogError("invalid_value", f"'seq' counts up from 0, to at most {MAX_SEQ}.")
    return {"type": kind, "seq": seq, "payload": _PAYLOADS[kind](message)}


def peek_seq(data: str | bytes) -> int | None:
    """The `seq` of a message we will not parse, if it is the first or last key; else None."""
    head, tail = data[:_PEEK], data[-_PEEK:]
    if isinstance(data, bytes):
        head, tail = head.decode(errors="replace"), tail.decode(errors="replace")
    match = _SEQ_FIRST.match(head) or _SEQ_LAST.search(tail)
    seq = int(match.group(1)) if match else None
    return seq if seq is not None and seq <= MAX_SEQ else None


def _transcript(message) -> dict:
    role = _field(message, "role", str)
    if role not in TranscriptEntry.Role.values:
        raise LogError("invalid_value", "'role' is 'user' or 'assistant'.")
    index = _field(message, "index", int, optional=True)
    if index is not None and not 0 <= index <= MAX_INDEX:
        raise LogError("invalid_value", f"'index' counts up from 0, to at most {MAX_INDEX}.")
    return {
        "item_id": _field(message, "item_id", str, max_length=64),
        "role": role,
        "text": _field(message, "text", str, max_length=MAX_TEXT),
        "final": _field(message, "final", bool),
        "interrupted": bool(_field(message, "interrupted", bool, optional=True)),
        "index": index,
    }


def _usage(message) -> dict:
    # Client-reported numbers (with OpenAI, the browser's): only the known fields are kept,
    # each a count in a sane range (see `costs.read_usage`).
    response_id = _field(message, "response_id", str, max_length=64)
    try:
        usage = read_usage(_field(message, "usage", dict))
    except TypeError as exc:
        raise LogError("invalid_type", str(exc)) from None
    except ValueError as exc:
        raise LogError("invalid_value", str(exc)) from None
    return {"response_id": response_id, "usage": usage}


def _tool_call(message) -> dict:
    return {
        "call_id": _field(message, "call_id", str, max_length=64),
        "name": _field(message, "name", str, max_length=64),
        "arguments": _field(message, "arguments", str, max_length=MAX_TEXT),
        "output": _field(message, "output", str, max_length=MAX_TEXT),
    }


def _metric(message) -> dict:
    name = _field(message, "name", str, max_length=64)
    if not _NAME.match(name):
        raise LogError("invalid_value", "'name' is lowercase letters, digits and '_'.")
    value = _field(message, "value_ms", (int, float))
    if not 0 <= value <= MAX_MS:
        raise LogError("invalid_value", "'value_ms' is between 0 and one hour.")
    return {"name": name, "value_ms": value}


def _timing(message) -> dict:
    # A turn's stages, ms after the end of speech: from the engine's response.metadata, or
    # measured by the panel. Only known stages, each a whole number of ms within an hour.
    source = _field(message, "source", str)
    if source not in TurnTiming.Source.values:
        raise LogError("invalid_value", "'source' is 'engine' or 'panel'.")
    stages = _field(message, "stages", dict)
    unknown = sorted(set(stages) - set(TurnTiming.STAGES))
    if unknown or not stages:
        raise LogError("invalid_value", f"'stages' has some of {', '.join(TurnTiming.STAGES)}.")
    for name, value in stages.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MS:
            raise LogError("invalid_value", f"'stages.{name}' is whole ms, at most one hour.")
    return {
        "response_id": _field(message, "response_id", str, optional=True, max_length=64) or "",
        "source": source,
        "stages": stages,
    }


_PAYLOADS = {
    "transcript": _transcript,
    "usage": _usage,
    "tool_call": _tool_call,
    "metric": _metric,
    "timing": _timing,
    "end": lambda message: {},
}


def store(conversation: Conversation, checked: dict) -> bool:
    """Store one validated message; False when its `seq` was already stored (a replay).

    Raises the LogError `store_many` would return for it.
    """
    result = store_many([(conversation, checked)])[0]
    if isinstance(result, LogError):
        raise result
    return result


def store_many(items: list[tuple[Conversation, dict]]) -> list[bool | LogError]:
    """Store validated messages in one transaction (one commit for all of them).

    For each message, in order: True (stored), False (its `seq` was already stored: a replay)
    or the LogError that refuses it. A conversation holds at most
    `MRBLUE_LOG_MESSAGES_PER_CONVERSATION` messages (LogError `conversation_full` beyond;
    replays are still acknowledged); web processes storing at the same moment may pass it by
    one batch each.
    """
    for attempt in range(RETRIES):
        try:
            with transaction.atomic():
                stored: dict[int, int] = {}  # conversation pk -> messages it holds
                return [_store_one(conv, checked, stored) for conv, checked in items]
        except (IntegrityError, OperationalError) as exc:
            # Another web process stored the same `seq` or item at the same moment (or, on
            # PostgreSQL, the two transactions deadlocked): nothing of ours was committed, and
            # the next try sees what it stored.
            if attempt == RETRIES - 1 or not _a_race(exc):
                raise
    raise AssertionError("unreachable")


def _a_race(exc: Exception) -> bool:
    return isinstance(exc, IntegrityError) or getattr(exc.__cause__, "sqlstate", None) in (
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
    )


def _store_one(conversation: Conversation, checked: dict, stored: dict) -> bool | LogError:
    limit = app_settings.LOG_MESSAGES_PER_CONVERSATION
    log = LogMessage.objects.filter(conversation=conversation)
    if conversation.pk not in stored:
        stored[conversation.pk] = log.count()
    if log.filter(seq=checked["seq"]).exists():
        return False
    if stored[conversation.pk] >= limit:
        return LogError("conversation_full", f"This conversation is full ({limit} messages).")
    LogMessage.objects.create(
        conversation=conversation,
        seq=checked["seq"],
        type=checked["type"],
        payload=checked["payload"],
    )
    _apply(conversation, checked["seq"], checked["type"], checked["payload"])
    stored[conversation.pk] += 1
    return True


def _apply(conversation: Conversation, seq: int, kind: str, payload: dict) -> None:
    if kind == "end":
        Conversation.objects.filter(pk=conversation.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    if kind == "timing":
        stages = {f"{name}_ms": value for name, value in payload["stages"].items()}
        TurnTiming.objects.create(
            conversation=conversation,
            seq=seq,
            response_id=payload["response_id"],
            source=payload["source"],
            **stages,
        )
    if kind != "transcript":
        return
    entry = (
        TranscriptEntry.objects.select_for_update()
        .filter(conversation=conversation, item_id=payload["item_id"])
        .first()
    )
    if entry is not None and entry.seq > seq:
        return  # a newer message for this item is already stored
    fields = {
        "role": payload["role"],
        "text": payload["text"],
        "final": payload["final"],
        "interrupted": payload["interrupted"],
        "seq": seq,
    }
    if payload["index"] is not None:
        fields["position"] = payload["index"]
    elif entry is None:
        fields["position"] = conversation.transcript.count()
    if entry is None:
        TranscriptEntry.objects.create(
            conversation=conversation, item_id=payload["item_id"], **fields
        )
        return
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.save(update_fields=[*fields, "updated_at"])
