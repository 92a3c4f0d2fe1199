"""The conversation log: validating what browsers send, and storing it exactly once.

Messages carry a `seq` that increases per conversation and survives reconnects; a message whose
`seq` is already stored is a replay, acknowledged again and not written twice. Transcript text
is kept per item, and an older `seq` never overwrites a newer one (messages may arrive out of
order after a reconnect). Nothing here trusts the browser: every field is checked.
"""

import re
from collections import Counter, defaultdict

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, F
from django.utils import timezone

from mrblue.app_settings import app_settings
from mrblue.conversation_log.costs import read_usage
from mrblue.models import Conversation, LogMessage, TranscriptEntry, TurnTiming
from mrblue.shared.errors import CodedError

MAX_TEXT = 20_000
# `seq` must survive a round trip through a browser's Number (2**53 - 1) and fit the database.
MAX_SEQ = 2**53 - 1
MAX_INDEX = 1_000_000
# Tries of a batch that raced another web process's (see `store_many`).
RETRIES = 3
TYPES = ("transcript", "usage", "tool_call", "metric", "timing", "decision", "end")
MAX_CANDIDATES = 16  # readings in one decision
DECISION_OUTCOMES = ("act", "ask", "unknown", "read_back", "confirmed", "declined")
MAX_MS = 3_600_000
MAX_DECISION_TEXT = 2_000
_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


# Where an honest client puts `seq` in a message too large or too broken to parse: the first
# key (this panel), or the last (outboxes saved before it put it first). Read from the
# message's first and last few characters only, so it costs nothing however large it is.
_SEQ_FIRST = re.compile(r'\s*\{\s*"seq"\s*:\s*(\d{1,16})\s*[,}]')
_SEQ_LAST = re.compile(r'[,{]\s*"seq"\s*:\s*(\d{1,16})\s*\}\s*$')
_PEEK = 64


class LogError(CodedError):
    """An invalid message, reported back as `{"type": "error", "code", "message"}`."""


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


def _decision(message) -> dict:
    # How the built-in engine's brain read a request (response.done's `mrblue_decision`):
    # what was heard, the readings it weighed and their scores, the chosen one, the outcome.
    decision = _present(_field(message, "decision", dict))
    outcome = _field(decision, "outcome", str)
    if outcome not in DECISION_OUTCOMES:
        raise LogError("invalid_value", f"'decision.outcome' is one of {DECISION_OUTCOMES}.")
    candidates = _field(decision, "candidates", list, optional=True) or []
    if len(candidates) > MAX_CANDIDATES or not all(isinstance(c, dict) for c in candidates):
        raise LogError("invalid_value", f"'decision.candidates' is at most {MAX_CANDIDATES}.")
    checked = {
        "heard": _field(decision, "heard", str, max_length=MAX_DECISION_TEXT),
        "chosen": _field(decision, "chosen", str, optional=True, max_length=MAX_DECISION_TEXT),
        "outcome": outcome,
        "candidates": [
            {
                "sentence": _field(c, "sentence", str, max_length=MAX_DECISION_TEXT),
                "logprob": _number(c, "logprob"),
                "closeness": _number(c, "closeness"),
            }
            for c in map(_present, candidates)
        ],
    }
    for name in ("heard_logprob", "scoring_ms", "text_support"):
        checked[name] = _number(decision, name)
    text = _field(decision, "text", str, optional=True, max_length=MAX_DECISION_TEXT)
    if text is not None:
        checked["text"] = text
    return {
        "response_id": _field(message, "response_id", str, optional=True, max_length=64) or "",
        "decision": checked,
    }


def _present(fields: dict) -> dict:
    """The fields that have a value (null is as good as left out)."""
    return {name: value for name, value in fields.items() if value is not None}


def _number(fields: dict, name: str) -> float | None:
    value = _field(fields, name, (int, float), optional=True)
    if value is not None and not -1e6 <= value <= 1e6:
        raise LogError("invalid_value", f"'{name}' is out of range.")
    return value


_PAYLOADS = {
    "transcript": _transcript,
    "usage": _usage,
    "tool_call": _tool_call,
    "metric": _metric,
    "timing": _timing,
    "decision": _decision,
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
    """Store validated messages in one transaction, with a few queries for all of them.

    For each message, in order: True (stored), False (its `seq` was already stored: a replay)
    or the LogError that refuses it. A conversation holds at most
    `MRBLUE_LOG_MESSAGES_PER_CONVERSATION` messages (LogError `conversation_full` beyond;
    replays are still acknowledged), counted in `Conversation.log_messages`.
    """
    for attempt in range(RETRIES):
        try:
            with transaction.atomic():
                return _store_batch(items)
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


def _store_batch(items: list[tuple[Conversation, dict]]) -> list[bool | LogError]:
    pks = {conversation.pk for conversation, _ in items}
    # Locked in one order, so two web processes' batches wait for each other, not deadlock;
    # the count is then exact.
    held = dict(
        Conversation.objects.select_for_update()
        .filter(pk__in=pks)
        .order_by("pk")
        .values_list("pk", "log_messages")
    )
    # A superset of the (conversation, seq) pairs already stored; the exact pairs are picked.
    seen = set(
        LogMessage.objects.filter(
            conversation__in=pks, seq__in={checked["seq"] for _, checked in items}
        ).values_list("conversation", "seq")
    )
    limit = app_settings.LOG_MESSAGES_PER_CONVERSATION
    results, new = [], []
    for conversation, checked in items:
        key = (conversation.pk, checked["seq"])
        if key in seen:
            results.append(False)
        elif held.get(conversation.pk, 0) >= limit:
            message = f"This conversation is full ({limit} messages)."
            results.append(LogError("conversation_full", message))
        else:
            seen.add(key)
            held[conversation.pk] = held.get(conversation.pk, 0) + 1
            new.append((conversation, checked))
            results.append(True)
    LogMessage.objects.bulk_create(
        LogMessage(conversation=c, seq=m["seq"], type=m["type"], payload=m["payload"])
        for c, m in new
    )
    _count_stored(Counter(c.pk for c, _ in new))
    ended = {c.pk for c, m in new if m["type"] == "end"}
    if ended:
        Conversation.objects.filter(pk__in=ended, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    _apply_transcripts(
        [(c.pk, m["seq"], m["payload"]) for c, m in new if m["type"] == "transcript"]
    )
    TurnTiming.objects.bulk_create(
        TurnTiming(
            conversation=c,
            seq=m["seq"],
            response_id=m["payload"]["response_id"],
            source=m["payload"]["source"],
            **{f"{name}_ms": value for name, value in m["payload"]["stages"].items()},
        )
        for c, m in new
        if m["type"] == "timing"
    )
    return results


def _count_stored(added: Counter) -> None:
    """Add each conversation's new messages to its count: one update per distinct number."""
    by_number = defaultdict(list)
    for pk, number in added.items():
        by_number[number].append(pk)
    for number, pks in by_number.items():
        Conversation.objects.filter(pk__in=pks).update(log_messages=F("log_messages") + number)


def _apply_transcripts(lines: list[tuple[int, int, dict]]) -> None:
    """Each item's text from its newest `seq`: one read, one insert and one update for all."""
    if not lines:
        return
    entries = _stored_entries({(pk, payload["item_id"]) for pk, _, payload in lines})
    counts = _transcript_lengths(lines, entries)
    created, updated, now = {}, {}, timezone.now()
    for pk, seq, payload in lines:
        key = (pk, payload["item_id"])
        entry = entries.get(key)
        if entry is not None and entry.seq > seq:
            continue  # a newer message for this item is already stored
        if entry is None:
            entry = entries[key] = created[key] = TranscriptEntry(
                conversation_id=pk, item_id=payload["item_id"], position=counts[pk]
            )
            counts[pk] += 1
        elif key not in created:
            updated[key] = entry
        entry.role, entry.text, entry.seq = payload["role"], payload["text"], seq
        entry.final, entry.interrupted = payload["final"], payload["interrupted"]
        entry.updated_at = now
        if payload["index"] is not None:
            entry.position = payload["index"]
    TranscriptEntry.objects.bulk_create(created.values())
    TranscriptEntry.objects.bulk_update(updated.values(), UPDATED_FIELDS)


UPDATED_FIELDS = ["role", "text", "final", "interrupted", "seq", "position", "updated_at"]


def _stored_entries(keys: set[tuple[int, str]]) -> dict[tuple[int, str], TranscriptEntry]:
    """The stored entries of these (conversation, item) pairs, locked, with only what an update
    keeps (`seq`, `position`): every other field is overwritten."""
    rows = TranscriptEntry.objects.select_for_update().filter(
        conversation__in={pk for pk, _ in keys}, item_id__in={item for _, item in keys}
    )
    # A superset of the pairs (every item of every conversation): read as tuples, and only
    # the exact pairs made into entries.
    return {
        (conversation, item): TranscriptEntry(
            pk=pk, conversation_id=conversation, item_id=item, seq=seq, position=position
        )
        for pk, conversation, item, seq, position in rows.values_list(
            "pk", "conversation", "item_id", "seq", "position"
        )
        if (conversation, item) in keys
    }


def _transcript_lengths(lines, entries) -> dict[int, int]:
    """Entries per conversation, where a new item without `index` takes the next place."""
    unplaced = {
        pk
        for pk, _, payload in lines
        if payload["index"] is None and (pk, payload["item_id"]) not in entries
    }
    counts = dict.fromkeys({pk for pk, _, _ in lines}, 0)
    if unplaced:
        counts.update(
            TranscriptEntry.objects.filter(conversation__in=unplaced)
            .values("conversation")
            .annotate(n=Count("id"))
            .values_list("conversation", "n")
        )
    return counts
