"""The transcript log's WebSocket: `/ws/mrblue/conversations/<id>/`, for its owner only.

Each message is validated and stored exactly once (see `mrblue.conversation_log.writer`:
messages arriving together share a transaction), then acknowledged with its `seq`; mistakes
get an `error` (with the message's `seq` whenever it can be read, so the client can drop what
will never be stored) and the connection stays open, unless the client keeps making them.
A user holds at most `MRBLUE_LOG_CONNECTIONS_PER_USER` of these connections at once (counted
per web process), and sends at most `MRBLUE_LOG_MESSAGES_PER_10S` messages over all of them
(counted in Redis, or a table of the database, so over every web process). However a socket
ends (closed, its handler raising, cancelled, the server shutting down), it frees its place and
gives back the messages it took and did not use.
"""

import logging
from collections import Counter

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from mrblue.app_settings import app_settings
from mrblue.conversation_log import writer as log_writer
from mrblue.conversation_log.store import LogError, peek_seq, validate
from mrblue.models import Conversation
from mrblue.shared.json_input import parse_json
from mrblue.shared.rate_limits import Lease, RateLimiter

logger = logging.getLogger("mrblue.conversation_log.store")
# Daphne sends no close reason: the reason goes in an `error` message just before the close.
FORBIDDEN, TOO_MANY = 4403, 4429
MAX_ERRORS = 50
# The largest message: a tool call's arguments and output at their limits, in any script.
MAX_MESSAGE_BYTES = 256 * 1024
log_limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=10)
# Open log connections per user id, in this process (connect/disconnect run on its one loop).
_open_per_user: Counter = Counter()


def _owned_by(user, conversation_id) -> Conversation | None:
    if user is None or not user.is_authenticated:
        return None
    return Conversation.objects.filter(pk=conversation_id, user=user).first()


class TranscriptLogConsumer(AsyncJsonWebsocketConsumer):
    """Stores one conversation's log, sent by the browser that holds it."""

    # It talks only to its own socket: no channel layer, so no Redis connection blocks per
    # socket in a receive it never uses.
    channel_layer_alias = None
    conversation: Conversation | None = None
    counted_user: int | None = None  # whose open connections this one counts among
    allowance: Lease | None = None  # the user's messages this connection may send

    async def __call__(self, scope, receive, send):
        """Run the socket; however it ends, give its place and lease back. Channels calls
        `disconnect` only for a close it is told of: a handler that raises (a database or
        Redis outage), a cancelled task or a server shutting down would keep them forever."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._give_back()

    async def dispatch(self, message):
        """Handle one ASGI message, without Channels' `aclose_old_connections` first.

        Channels closes stale database connections before every message, as Django does per
        request: a hop to its sync thread each time, which under load was a large share of the
        log's CPU (the transcript-log benchmark shows the cost per message). Here the database
        is reached through `database_sync_to_async` (which closes its own), the log writer
        (which keeps its own, see `log_writer`), and, without Redis, the rate limit's counts on
        the sync thread, whose connections Django closes as each request starts and ends.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']!r}")
        await handler(message)

    async def connect(self):
        """Only the conversation's owner may connect."""
        await self.accept()
        user = self.scope.get("user")
        conversation_id = self.scope["url_route"]["kwargs"]["conversation_id"]
        self.conversation = await self._owned(user, conversation_id)
        if self.conversation is None:
            await self._refuse(
                "forbidden", "This conversation is not yours, or you are not logged in.", FORBIDDEN
            )
            return
        if not self._take_a_place(self.conversation.user_id):
            limit = app_settings.LOG_CONNECTIONS_PER_USER
            message = f"At most {limit} transcript-log connections per user; close a tab."
            await self._refuse("too_many_connections", message, TOO_MANY)
            return
        self.allowance = Lease(log_limiter, f"log:{self.conversation.user_id}")
        self.refused, self.errors = 0, 0

    def _take_a_place(self, user_id) -> bool:
        if _open_per_user[user_id] >= app_settings.LOG_CONNECTIONS_PER_USER:
            return False
        _open_per_user[user_id] += 1
        self.counted_user = user_id
        return True

    async def disconnect(self, code):
        """The client closed: free this connection's place, give back unused messages."""
        await self._give_back()

    async def _give_back(self) -> None:
        """Free the place at once, then give back the lease's unused messages (once; a
        store that is down keeps them only until their window passes)."""
        user_id, self.counted_user = self.counted_user, None
        if user_id is not None:
            _open_per_user[user_id] -= 1
            if _open_per_user[user_id] <= 0:
                del _open_per_user[user_id]
        allowance, self.allowance = self.allowance, None
        if allowance is None:
            return
        try:
            await allowance.arelease()
        except Exception as error:  # logged: the socket is gone either way
            logger.warning("a log socket could not give back its unused messages: %r", error)

    async def _owned(self, user, conversation_id):
        return await database_sync_to_async(_owned_by, thread_sensitive=False)(
            user, conversation_id
        )

    async def _refuse(self, code, message, close_code):
        self.conversation = None  # messages still on their way are not read
        await self.send_json({"type": "error", "code": code, "message": message})
        await self.close(code=close_code)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Parse JSON ourselves, so bad JSON is an error message, not a dropped socket."""
        if self.conversation is None:
            return
        data = text_data if text_data is not None else bytes_data
        if len(data) > MAX_MESSAGE_BYTES:
            message = f"A message is at most {MAX_MESSAGE_BYTES} bytes."
            await self._error(peek_seq(data), LogError("too_large", message))
            return
        try:
            content = parse_json(data)
        except (TypeError, ValueError):
            error = LogError("invalid_json", "The message is not valid JSON.")
            await self._error(peek_seq(data), error)
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        """Validate, store once, acknowledge."""
        seq = content.get("seq") if isinstance(content, dict) else None
        wait_ms = await self._over_rate()
        if wait_ms is not None:
            await self._rate_limited(seq, wait_ms)
            return
        try:
            checked = validate(content)
        except LogError as error:
            await self._error(seq, error)
            return
        try:
            # Stored with the messages of every other socket that arrived meanwhile; this
            # returns once the transaction holding it has committed.
            await log_writer.store(self.conversation, checked)
        except LogError as error:
            await self._error(checked["seq"], error)
            return
        await self.send_json({"type": "ack", "seq": checked["seq"]})

    async def _over_rate(self) -> int | None:
        """None while the user is within the rate; else the milliseconds until they are."""
        wait = await self.allowance.atake()
        if wait is None:
            self.refused = 0
            return None
        self.refused += 1
        return max(1, round(wait * 1000))

    async def _rate_limited(self, seq, wait_ms: int):
        """Refuse for now (the client keeps the message and resends it after `retry_after_ms`);
        a client that goes on sending a window's worth meanwhile is not listening, and is
        closed."""
        if self.refused > app_settings.LOG_MESSAGES_PER_10S:
            await self._refuse("too_many_messages", "Far too many messages.", TOO_MANY)
            return
        message = "Too many messages; resend this one later."
        await self._send_error(seq, "rate_limited", message, retry_after_ms=wait_ms)

    async def _error(self, seq, error: LogError):
        """An invalid message: say so; a client that keeps sending them is closed."""
        await self._send_error(seq, error.code, error.message)
        self.errors += 1
        if self.errors > MAX_ERRORS:
            await self._refuse("too_many_errors", "Too many invalid messages.", TOO_MANY)

    async def _send_error(self, seq, code: str, message: str, **extra):
        reply = {"type": "error", "code": code, "message": message, **extra}
        if isinstance(seq, int) and not isinstance(seq, bool):
            reply["seq"] = seq
        await self.send_json(reply)
