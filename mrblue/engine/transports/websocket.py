"""The engine's WebSocket transport: `/v1/realtime`, as OpenAI's Realtime WebSocket.

Authentication as OpenAI takes it: `Authorization: Bearer <key>` (servers, the SDK), or the
`openai-insecure-api-key.<key>` subprotocol next to `realtime` (browsers cannot set headers).
"""

import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from mrblue.engine.brains import load_brain
from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.conversation import MemoryLimits
from mrblue.engine.protocol.core import RealtimeSession
from mrblue.engine.transports.auth import session_for_key, socket_key
from mrblue.engine.transports.connection import EngineConnection
from mrblue.engine.workers import worker
from mrblue.engine.workers.live_sessions import SessionRefused, Slot, sessions

logger = logging.getLogger("mrblue.engine")
# Daphne only sends close codes 1000 and 3000-4999, and no close reason: the reason travels in
# an `error` event just before the close, and the codes mirror HTTP statuses.
BAD_REQUEST, UNAUTHORIZED, TOO_MANY, UNAVAILABLE = 4400, 4401, 4429, 4503


class EngineConsumer(AsyncWebsocketConsumer):
    """One realtime session per WebSocket connection."""

    # A session talks only to its own socket: no channel layer (and no Redis connection per
    # session blocking in a receive it never uses).
    channel_layer_alias = None
    connection: EngineConnection | None = None
    slot: Slot | None = None  # this session's place among the live ones

    async def __call__(self, scope, receive, send):
        """Run the consumer; however it ends (closed, crashed, cancelled by the server),
        the session stops and gives its place back: Channels calls `disconnect` only for a
        close the client made."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._end()

    async def connect(self):
        """Authenticate, check the limits, then start the session."""
        headers, protocols, key = socket_key(self.scope)
        query = parse_qs(self.scope.get("query_string", b"").decode())
        model = (query.get("model") or [None])[0]
        subprotocol = "realtime" if "realtime" in protocols else None
        if headers.get("openai-beta", "").startswith("realtime"):
            return await self._refuse(
                subprotocol,
                "beta_api_shape_disabled",
                "The beta Realtime interface (OpenAI-Beta: realtime=v1) "
                "has been shut down; connect without that header.",
                BAD_REQUEST,
            )
        access = await database_sync_to_async(session_for_key)(key, model)
        if access is None:
            return await self._refuse(
                subprotocol,
                "invalid_api_key",
                "Incorrect API key provided, or the client secret expired.",
                UNAUTHORIZED,
            )
        if not worker.admits(access.secret):
            return await self._refuse(
                subprotocol,
                "engine_busy",
                "Mr. Blue is busy with other calls; try again shortly.",
                UNAVAILABLE,
            )
        try:
            self.slot = sessions.admit(access.secret, access.owner, worker.reserved(access.owner))
        except SessionRefused as refused:
            return await self._refuse(subprotocol, refused.code, refused.message, TOO_MANY)
        await self._start(subprotocol, access.config)
        assert self.connection is not None  # `_start` made it (Channels runs one handler at a time)
        self.slot.end = self.connection.end

    async def _start(self, subprotocol, config):
        # The session's time limit runs from here, the accept.
        await self.accept(subprotocol)
        config["expires_at"] = int(time.time()) + engine_settings.ENGINE_SESSION_SECONDS
        session = RealtimeSession(config, limits=MemoryLimits.from_settings(engine_settings))
        self.connection = EngineConnection(
            session,
            load_brain(engine_settings.ENGINE_BRAIN),
            self._send_event,
            self._close,
            max_message_bytes=engine_settings.ENGINE_MAX_MESSAGE_BYTES,
            max_seconds=engine_settings.ENGINE_SESSION_SECONDS,
            label=config["id"],
        )
        logger.info(
            "engine session %s opened over WebSocket (%d live)", config["id"], len(sessions)
        )
        await self.connection.start()

    async def _refuse(self, subprotocol, code, message, close_code):
        """Accept only to say why, in an `error` event and the close reason, then close."""
        await self.accept(subprotocol)
        for event in RealtimeSession.refusal(code, message).events:
            await self.send(text_data=json.dumps(event))
        await self.close(code=close_code)

    async def receive(self, text_data=None, bytes_data=None):
        """Each text frame is one client event; binary frames are not part of the protocol."""
        if self.connection is None:
            return
        if text_data is None:
            await self.connection.report_error(
                "invalid_json", "Binary frames are not supported; send JSON text events."
            )
            return
        await self.connection.receive_text(text_data)  # answers every problem itself

    async def disconnect(self, code):
        """The client closed: stop the session's work and free its place."""
        await self._end(code)

    async def _end(self, code=None) -> None:
        """Stop the session and give its place back (once; `__call__` makes sure of it)."""
        slot, self.slot = self.slot, None
        connection, self.connection = self.connection, None
        try:
            if connection is not None:
                await connection.shutdown()
                logger.info("engine session %s closed (%s)", connection.label, code or "ended")
        finally:
            if slot is not None:
                slot.release()

    async def _send_event(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event))

    async def _close(self) -> None:
        await self.close(code=1000)
