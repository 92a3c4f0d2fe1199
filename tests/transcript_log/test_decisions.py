"""The built-in engine's account of a guessed request (response.done's `mrblue_decision`), as
the panel logs it: checked, stored, and shown on the conversation's admin page."""

import pytest
from channels.db import database_sync_to_async

from mrblue.conversation_log.store import LogError, validate
from mrblue.models import LogMessage
from tests.transcript_log.test_transcript_log import (  # noqa: F401 (fixtures)
    connect,
    conversation,
    owner_socket,
    send,
)

pytestmark = [pytest.mark.django_db(transaction=True)]
DECISION = {
    "heard": "Move them out in the month of the first paragraph.",
    "heard_logprob": -3.2,
    "candidates": [
        {"sentence": "move the button above the first paragraph", "closeness": 81, "logprob": -9.4},
        {
            "sentence": "move the heading above the first paragraph",
            "closeness": 80,
            "logprob": None,
        },
    ],
    "chosen": "move the button above the first paragraph",
    "outcome": "ask",
    "scoring_ms": 95.1,
}


def message(**decision):
    return {"type": "decision", "seq": 1, "response_id": "resp_1", "decision": decision}


async def test_a_decision_is_stored_and_acknowledged(owner_socket):  # noqa: F811
    assert await send(owner_socket, message(**DECISION)) == {"type": "ack", "seq": 1}
    stored = await database_sync_to_async(lambda: LogMessage.objects.get(type="decision"))()
    assert stored.payload["response_id"] == "resp_1"
    assert stored.payload["decision"]["chosen"] == DECISION["chosen"]
    assert stored.payload["decision"]["candidates"][1]["logprob"] is None


@pytest.mark.parametrize(
    "decision",
    [
        {**DECISION, "outcome": "launch"},
        {**DECISION, "heard": 5},
        {**DECISION, "candidates": [DECISION["candidates"][0]] * 17},
        {**DECISION, "candidates": ["not an object"]},
        {**DECISION, "scoring_ms": 1e12},
        {k: v for k, v in DECISION.items() if k != "heard"},
    ],
)
def test_a_malformed_decision_is_refused(decision):
    with pytest.raises(LogError):
        validate(message(**decision))


def test_the_admin_shows_what_was_heard_the_readings_and_the_choice(
    client,
    make_user,
    conversation,  # noqa: F811
):
    client.force_login(make_user("root", superuser=True))
    LogMessage.objects.create(
        conversation=conversation,
        seq=7,
        type="decision",
        payload=validate(message(**DECISION))["payload"],
    )
    page = client.get(f"/admin/mrblue/conversation/{conversation.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "How Mr. Blue read what it heard" in body
    assert "Heard <q>Move them out in the month of the first paragraph.</q> (-3.2)" in body
    assert "<b>ask</b>: <q>move the button above the first paragraph</q>" in body
    assert "<code>move the button above the first paragraph</code> (-9.4)" in body
    assert "<code>move the heading above the first paragraph</code> </li>" in body
