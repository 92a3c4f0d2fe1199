"""Fixtures of the fault tests: a user with a conversation, and what the database holds."""

import pytest
from channels.db import database_sync_to_async

from mrblue.models import LogMessage, TranscriptEntry


@pytest.fixture
def conversation(make_conversation, make_page):
    """A conversation of user `owner` (password pw-12345!) on page `mundo-tango`."""
    return make_conversation(page=make_page("mundo-tango", "Mundo Tango"))


@database_sync_to_async
def stored(conversation) -> tuple[list[int], list[str]]:
    """The `seq`s in the conversation's log, and its transcript's texts, in order."""
    seqs = list(LogMessage.objects.filter(conversation=conversation).values_list("seq", flat=True))
    texts = list(
        TranscriptEntry.objects.filter(conversation=conversation)
        .order_by("position")
        .values_list("text", flat=True)
    )
    return seqs, texts


def server_errors(server, since: int = 0) -> list[str]:
    """Lines of a live server's output (from line `since`) that tell of an unhandled
    exception or a 500 (the API's deliberate 502/503/504 are answers, not crashes)."""
    return [
        line
        for line in server.output[since:]
        if "Traceback" in line or "Internal Server Error" in line or '" 500 ' in line
    ]
