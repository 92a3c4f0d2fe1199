"""A transcript-log client that behaves like the browser's outbox, and helpers around it.

Every message carries a `seq`; a message stays in the outbox until its `ack` arrives; after a
reconnect everything still in the outbox is sent again (the server stores a `seq` once).
"""

import asyncio
import json
import re
import time

import httpx
import websockets

PASSWORD = "pw-12345!"


async def browser(server_url: str, username: str) -> httpx.AsyncClient:
    """An HTTP client logged in through the login form, sending the CSRF token as the
    editor's scripts do."""
    http = httpx.AsyncClient(base_url=server_url, timeout=60)
    form = await http.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    answer = await http.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302, answer.text
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    http.headers["Origin"] = server_url
    return http


async def log_in(server_url: str, username: str) -> str:
    """Log in through the login form; return the session cookie's value."""
    http = await browser(server_url, username)
    await http.aclose()
    return http.cookies["sessionid"]


def transcript_lines(count: int, start: int = 0) -> list[dict]:
    """`count` final transcript lines, alternating speakers, one item each."""
    return [
        {
            "type": "transcript",
            "seq": seq,
            "item_id": f"item_{seq}",
            "role": "user" if seq % 2 == 0 else "assistant",
            "text": f"line {seq}",
            "final": True,
            "index": seq,
        }
        for seq in range(start, start + count)
    ]


class Outbox:
    """The browser's outbox for one conversation's log socket."""

    def __init__(self, conversation_id: int, session: str = ""):
        self.path = f"/ws/mrblue/conversations/{conversation_id}/"
        self.session = session
        self.pending: dict[int, dict] = {}  # sent or to send, not acknowledged yet
        self.acked: list[int] = []
        self.errors: list[dict] = []
        self.ws = None

    async def connect(self, server_url: str) -> None:
        """Open the socket and send again everything not acknowledged."""
        url = server_url.replace("http", "ws", 1) + self.path
        headers = {"Cookie": f"sessionid={self.session}", "Origin": server_url}
        self.ws = await websockets.connect(url, additional_headers=headers, open_timeout=10)
        for message in list(self.pending.values()):
            await self.ws.send(json.dumps(message))

    async def connect_until(self, server_url: str, deadline: float) -> None:
        """Connect, retrying (as the panel does) while the server refuses, until `deadline`."""
        while True:
            try:
                await self.connect(server_url)
                return
            except (OSError, websockets.InvalidHandshake):  # TimeoutError is an OSError
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)  # the panel's reconnect back-off, not a wait for state

    async def send(self, messages: list[dict]) -> None:
        """Queue and send; a dropped socket keeps them queued for the next connection."""
        for message in messages:
            self.pending[message["seq"]] = message
        try:
            for message in messages:
                await self.ws.send(json.dumps(message))
        except websockets.ConnectionClosed:
            pass

    async def read_acks(self, timeout: float) -> None:
        """Read replies until the outbox is empty; raise TimeoutError after `timeout`."""
        async with asyncio.timeout(timeout):
            while self.pending:
                await self.read_one()

    async def read_one(self) -> dict:
        """Read one reply and apply it to the outbox."""
        reply = json.loads(await self.ws.recv())
        if reply.get("type") == "ack":
            if self.pending.pop(reply["seq"], None) is not None:
                self.acked.append(reply["seq"])
        else:
            self.errors.append(reply)
        return reply

    async def deliver(self, server_url: str, timeout: float = 30.0) -> None:
        """Reconnect as often as needed until every message is acknowledged."""
        deadline = time.monotonic() + timeout
        while self.pending:
            try:
                await self.read_acks(max(0.1, deadline - time.monotonic()))
            except websockets.ConnectionClosed:
                if time.monotonic() > deadline:
                    raise
                await self.connect_until(server_url, deadline)

    async def close(self) -> None:
        """Close the socket if open."""
        if self.ws is not None:
            await self.ws.close()
