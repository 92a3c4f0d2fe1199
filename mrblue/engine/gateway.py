"""The engine's endpoints in a web process that runs no engine: place, then forward.

With `MRBLUE_ENGINE_ROLE=gateway` the site keeps the engine's URLs (`/v1/realtime/...`), so a
browser needs no second origin, but the work happens in the workers:

- a new client secret is minted on the least-loaded live worker that takes it (each worker is
  asked in turn and may say it is busy); when none does, 503 `engine_busy` with Retry-After;
- a call's SDP offer goes to the worker that minted its secret (its answer's ICE candidates
  point at that worker, so the media flows straight there), a WebSocket is relayed to it;
- a hangup goes to every live worker (only the one holding the call knows it);
- speech (`/v1/audio/speech`, the admin's voice samples) is made by the least-loaded worker.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import replace

import httpx
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mrblue.engine.auth import bearer_token, is_engine_key, socket_key
from mrblue.engine.conf import engine_settings
from mrblue.engine.directory import WorkerRecord, directory
from mrblue.engine.http import api_error, engine_busy, invalid_key
from mrblue.engine.models import EngineClientSecret

logger = logging.getLogger("mrblue.engine.gateway")
TIMEOUT = httpx.Timeout(30.0, connect=2.0)


async def live_workers() -> list[WorkerRecord]:
    """The live workers, least loaded first."""
    return await sync_to_async(directory().live, thread_sensitive=False)()


class Placements:
    """Sessions this process placed on each worker since that worker last published its load:
    counted on top of the published load, so that mints in quick succession spread over the
    workers instead of all landing on the one that looked idlest a beat ago."""

    def __init__(self):
        self._times: dict[str, list[float]] = {}

    def add(self, worker_id: str) -> None:
        """A secret was just minted on this worker."""
        self._times.setdefault(worker_id, []).append(time.time())

    def adjusted(self, record: WorkerRecord) -> WorkerRecord:
        """The record with the placements it does not know of yet added to its load."""
        since = [t for t in self._times.get(record.worker_id, []) if t > record.seen_at]
        self._times[record.worker_id] = since
        extra = len(since) / max(record.capacity, 1)
        return replace(record, load=min(1.0, round(record.load + extra, 3)))


placements = Placements()


async def placeable_workers() -> list[WorkerRecord]:
    """The live workers that may take a new session, least loaded first (counting this
    process's own placements the workers have not yet reported)."""
    records = [placements.adjusted(record) for record in await live_workers()]
    return sorted((r for r in records if r.placeable), key=lambda r: (r.load, r.worker_id))


async def worker_for_key(token: str | None) -> WorkerRecord | None:
    """The worker a key's sessions go to: its secret's minter, or (for the engine key) the
    least-loaded placeable worker; None if there is none (or the key opens nothing)."""
    if is_engine_key(token):
        placeable = await placeable_workers()
        return placeable[0] if placeable else None
    if not token or not token.startswith("ek_"):
        return None
    row = await sync_to_async(EngineClientSecret.live)(token)
    if row is None:
        return None
    return next((w for w in await live_workers() if w.worker_id == row.worker), None)


def _forwarded(answer: httpx.Response) -> HttpResponse:
    response = HttpResponse(
        answer.content,
        status=answer.status_code,
        content_type=answer.headers.get("content-type", "application/json"),
    )
    for header in ("location", "retry-after", "x-request-id"):
        if header in answer.headers:
            response[header] = answer.headers[header]
    return response


async def _post(url: str, request, body: bytes | None = None) -> httpx.Response:
    headers = {
        "Authorization": request.headers.get("authorization", ""),
        "Content-Type": request.content_type or "application/json",
    }
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        return await client.post(
            url, content=request.body if body is None else body, headers=headers, params=request.GET
        )


def _is_busy(answer: httpx.Response) -> bool:
    try:
        return answer.status_code == 503 and answer.json()["error"]["code"] == "engine_busy"
    except (ValueError, KeyError, TypeError):
        return False


@csrf_exempt
@require_POST
async def client_secrets(request):
    """`POST /v1/realtime/client_secrets`: minted on the least-loaded worker that takes it."""
    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    for record in await placeable_workers():
        try:
            answer = await _post(f"{record.url}/v1/realtime/client_secrets", request)
        except httpx.HTTPError as error:
            logger.warning("worker %s unreachable (%s)", record.worker_id, type(error).__name__)
            continue
        if not _is_busy(answer):
            if answer.status_code == 200:
                placements.add(record.worker_id)
            return _forwarded(answer)
    return engine_busy()


@csrf_exempt
@require_POST
async def calls(request):
    """`POST /v1/realtime/calls`: the SDP offer, forwarded to the secret's worker."""
    token = bearer_token(request.headers)
    record = await worker_for_key(token)
    if record is None:
        if is_engine_key(token):
            return engine_busy()
        live = token and token.startswith("ek_")
        if live and await sync_to_async(EngineClientSecret.live)(token):
            return worker_gone()
        return invalid_key()
    try:
        return _forwarded(await _post(f"{record.url}/v1/realtime/calls", request))
    except httpx.HTTPError as error:
        logger.warning("worker %s unreachable (%s)", record.worker_id, type(error).__name__)
        return worker_gone()


@csrf_exempt
@require_POST
async def speech(request):
    """`POST /v1/audio/speech`: spoken by the least-loaded worker that takes sessions (a
    full worker's cores are its calls')."""
    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    for record in await placeable_workers():
        try:
            answer = await _post(f"{record.url}/v1/audio/speech", request)
        except httpx.HTTPError as error:
            logger.warning("worker %s unreachable (%s)", record.worker_id, type(error).__name__)
            continue
        if not _is_busy(answer):
            return _forwarded(answer)
    return engine_busy()


def worker_gone() -> JsonResponse:
    """503 when the worker that holds a secret's place is gone: mint a new secret."""
    return api_error(
        503,
        "The engine worker for this client secret is gone; mint a new secret.",
        "engine_worker_gone",
        type_="server_error",
    )


@csrf_exempt
@require_POST
async def hangup(request, call_id: str):
    """`POST /v1/realtime/calls/<id>/hangup`: asked of every live worker."""
    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    path = f"/v1/realtime/calls/{call_id}/hangup"
    answers = await asyncio.gather(
        *(_post(f"{w.url}{path}", request) for w in await live_workers()),
        return_exceptions=True,
    )
    for answer in answers:
        if isinstance(answer, httpx.Response) and answer.status_code == 200:
            return HttpResponse(status=200)
    return api_error(404, f"No live call {call_id}.", "call_not_found")


async def health(request):
    """`GET /healthz` on the site: whether any worker can take a session (no addresses)."""
    workers = await live_workers()
    placeable = sum(record.placeable for record in workers)
    status = "ok" if placeable else "busy"
    body = {"status": status, "workers": len(workers), "placeable": placeable}
    return JsonResponse(body)


class RelayConsumer(AsyncWebsocketConsumer):
    """`/v1/realtime` over WebSocket: relayed frame by frame to the key's worker."""

    channel_layer_alias = None  # talks only to its own two sockets
    upstream = None
    _pump: asyncio.Task | None = None

    async def connect(self):
        """Open the same socket on the worker, then accept with its subprotocol."""
        import websockets

        headers, protocols, key = socket_key(self.scope)
        record = await worker_for_key(key)
        if record is None:
            return await self.close(code=4503 if is_engine_key(key) else 4401)
        query = self.scope.get("query_string", b"").decode()
        url = record.url.replace("http", "ws", 1) + "/v1/realtime" + (f"?{query}" if query else "")
        forwarded = {k: v for k, v in headers.items() if k == "authorization"}
        try:
            self.upstream = await websockets.connect(
                url,
                additional_headers=forwarded,
                subprotocols=protocols or None,
                max_size=engine_settings.ENGINE_MAX_MESSAGE_BYTES + 1024 * 1024,
                open_timeout=5,
            )
        except (OSError, websockets.WebSocketException, TimeoutError) as error:
            logger.warning("worker %s unreachable (%s)", record.worker_id, type(error).__name__)
            return await self.close(code=4503)
        await self.accept(self.upstream.subprotocol)
        self._pump = asyncio.ensure_future(self._relay_down())

    async def _relay_down(self):
        import websockets

        try:
            async for message in self.upstream:
                if isinstance(message, bytes):
                    await self.send(bytes_data=message)
                else:
                    await self.send(text_data=message)
        except websockets.ConnectionClosed:
            pass
        code = self.upstream.close_code or 1000
        await self.close(code=code if code == 1000 or 3000 <= code < 5000 else 4500)

    async def receive(self, text_data=None, bytes_data=None):
        """A client frame, passed on as it came."""
        import websockets

        if self.upstream is None:
            return
        # If the worker went, the relay's other half closes the client's socket.
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.upstream.send(text_data if text_data is not None else bytes_data)

    async def disconnect(self, code):
        """The client left: close the worker's side."""
        if self._pump is not None:
            self._pump.cancel()
        if self.upstream is not None:
            await self.upstream.close()
