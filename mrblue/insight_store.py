"""What `insight` judges, read from the database: a page's latest conversations with their
requests and edits, the edits of a few conversations (the editor's list), and the outcome
filter of the admin's conversation list as SQL.

A conversation's edits are the page revisions its tool calls made: the log's `tool_call`
messages name a `call_id`, and the editor records it on the revision (`kind="edit"`), on the
conversation's page. The server's revisions, not the browser's report, say what changed.
"""

from collections import defaultdict

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KT

from editor.models import PageRevision
from mrblue.insight import (
    QUESTION,
    REFUSAL_WORDS,
    UNDO_WINDOW,
    Edit,
    Line,
    PageInsight,
    page_insight,
    requests_of,
    summarize,
)
from mrblue.models import Conversation, LogMessage, TranscriptEntry, TurnTiming

# A page's insight reads its latest this many conversations.
RECENT_CONVERSATIONS = 200
FILTERS = {
    "changed": "changed the page",
    "undone": "had a change undone within a minute",
    "refused": "Mr. Blue refused something",
    "asked": "Mr. Blue asked back",
    "unchanged": "changed nothing",
}


def edits_by_conversation(conversations: list[tuple[int, int | None]], since) -> dict:
    """conversation id → its edits (`insight.Edit`), for (id, page id) pairs of conversations
    started at `since` or later."""
    page_of = dict(conversations)
    made_by: dict[tuple[int, str], tuple[int, int]] = {}
    calls = LogMessage.objects.filter(conversation__in=list(page_of), type="tool_call")
    for conversation, seq, payload in calls.values_list("conversation", "seq", "payload"):
        call_id = payload.get("call_id") if isinstance(payload, dict) else None
        if isinstance(call_id, str) and call_id and page_of[conversation] is not None:
            made_by[(page_of[conversation], call_id)] = (conversation, seq)
    edits = defaultdict(list)
    if not made_by:
        return edits
    revisions = (
        PageRevision.objects.filter(
            page__in={page for page, _ in made_by}, kind="edit", created_at__gte=since
        )
        .exclude(call_id="")
        .order_by("id")
        .values_list("page", "call_id", "note", "created_at", "undone_at")
    )
    for page, call_id, note, made_at, undone_at in revisions:
        if (page, call_id) in made_by:
            conversation, seq = made_by[(page, call_id)]
            edits[conversation].append(Edit(seq, note, made_at, undone_at))
    return edits


def _lines(conversation_ids: list[int]) -> dict[int, list[Line]]:
    lines = defaultdict(list)
    entries = (
        TranscriptEntry.objects.filter(conversation__in=conversation_ids)
        .order_by("conversation", "position", "id")
        .values_list("conversation", "role", "text", "seq")
    )
    for conversation, role, text, seq in entries:
        lines[conversation].append(Line(role, text, seq))
    return lines


def read_page_insight(page, limit: int = RECENT_CONVERSATIONS) -> PageInsight:
    """How editors used Mr. Blue on `page` in its latest `limit` conversations (five queries,
    however many there are)."""
    # Editors' conversations: an admin's trials ("Try it here") are not how editors use him.
    editors = Conversation.objects.filter(page=page, trial=False)
    recent = editors.order_by("-started_at", "-id")[:limit]
    conversations = list(reversed(recent.values_list("pk", "user", "started_at")))
    ids = [pk for pk, _, _ in conversations]
    since = conversations[0][2] if conversations else None
    edits = edits_by_conversation([(pk, page.pk) for pk in ids], since) if ids else {}
    lines = _lines(ids)
    requests = [
        request for pk in ids for request in requests_of(pk, lines.get(pk, []), edits.get(pk, []))
    ]
    timings = TurnTiming.objects.filter(conversation__in=ids).values_list(
        "first_audio_ms", "first_output_ms"
    )
    # A turn's answer began with its first audio, else (a text answer) its first output.
    answers = [ms for ms in (a if a is not None else o for a, o in timings) if ms is not None]
    return page_insight(conversations, requests, answers)


def attach_summaries(conversations: list) -> list:
    """Give each conversation (its transcript prefetched) a `summary` (`insight.Summary`):
    first words, length and edits; two queries for all of them."""
    if not conversations:
        return conversations
    since = min(c.started_at for c in conversations)
    edits = edits_by_conversation([(c.pk, c.page_id) for c in conversations], since)
    for conversation in conversations:
        lines = [Line(e.role, e.text, e.seq) for e in conversation.transcript.all()]
        conversation.summary = summarize(
            lines, edits.get(conversation.pk, []), conversation.started_at, conversation.ended_at
        )
    return conversations


def _edits_of_outer_conversation():
    """The edit revisions the conversation of the outer query made."""
    call_ids = LogMessage.objects.filter(
        conversation=OuterRef(OuterRef("pk")), type="tool_call"
    ).values(call_id=KT("payload__call_id"))
    return PageRevision.objects.filter(
        page=OuterRef("page"), kind="edit", call_id__in=call_ids
    ).exclude(call_id="")


def _said_by_mr_blue(condition: Q):
    return TranscriptEntry.objects.filter(condition, conversation=OuterRef("pk"), role="assistant")


def outcome_filter(outcome: str) -> Q | Exists:
    """Conversations with that outcome (a key of `FILTERS`), as a filter of Conversations."""
    edits = _edits_of_outer_conversation()
    if outcome == "changed":
        return Exists(edits)
    if outcome == "unchanged":
        return ~Exists(edits)
    if outcome == "undone":
        quick = Q(undone_at__isnull=False, undone_at__lte=F("created_at") + UNDO_WINDOW)
        return Exists(edits.filter(quick))
    if outcome == "refused":
        refusal = Q()
        for words in REFUSAL_WORDS:
            refusal |= Q(text__icontains=words)
        return Exists(_said_by_mr_blue(refusal))
    if outcome == "asked":
        return Exists(_said_by_mr_blue(Q(text__regex=QUESTION)))
    raise ValueError(f"unknown outcome {outcome!r}")
