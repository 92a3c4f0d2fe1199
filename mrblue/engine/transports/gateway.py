"""The engine's endpoints in a web process that runs no engine: place, then forward.

With `MRBLUE_ENGINE_ROLE=gateway` the site keeps the engine's URLs (`/v1/realtime/...`), so a
browser needs no second origin, but the work happens in the workers:

- a new client secret is minted on the least-loaded live worker that takes it (each worker is
  asked in turn and may say it is busy, or not answer within `MRBLUE_ENGINE_WORKER_TIMEOUT`);
  an owner's mint goes first to the worker of their newest secret, where a place they have not
  used yet is replaced rather than joined by another; when none takes it, 503 `engine_busy`
  with Retry-After;
- a call's SDP offer goes to the worker that minted its secret (its answer's ICE candidates
  point at that worker, so the media flows straight there), a WebSocket is relayed to it;
- a hangup goes to every live worker (only the one holding the call knows it);
- speech (`/v1/audio/speech`, the admin's voice samples) is made by the least-loaded worker.

Every call to a worker has a short deadline, so a stuck worker costs a caller seconds, not the
30 s of a read timeout. The directory's records are checked before any is used (see
`mrblue.engine.workers.directory`).
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.models import EngineClientSecret
from mrblue.engine.transports.auth import bearer_token, is_engine_key, socket_key
from mrblue.engine.transports.views import OWNER_FIELD, api_error, engine_busy, invalid_key
from mrblue.engine.workers.directory import WorkerRecord, directory

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

logger = logging.getLogger("mrblue.engine.transports.gateway")
SDP_TIMEOUT_FACTOR = 2  # answering an offer (ICE, DTLS set-up) takes longer than a mint
BEATS_TO_REPORT = 2  # a worker's record counts a new secret at the latest two beats later
# Speech is synthesized whole before it is sent: 4,096 characters take seconds on a slow machine.
SPEECH_SECONDS = 30.0


def worker_timeout(factor: float = 1) -> float:
    """Seconds a worker has to answer one request before the site takes it for stuck."""
    return engine_settings.ENGINE_WORKER_TIMEOUT * factor


async def live_workers() -> list[WorkerRecord]:
    """The live workers, least loaded first."""
    return await sync_to_async(directory().live, thread_sensitive=False)()


class Placements:
    """Sessions this process placed on each worker that the worker may not have reported yet:
    counted on top of its published load when ordering the workers, so that mints in quick
    succession spread over them instead of all landing on the one that looked idlest a beat
    ago. A placement counts until the worker has published `BEATS_TO_REPORT` more records (by
    its beat counter: no clock of the worker is compared with this process's)."""

    def __init__(self):
        self._beats: dict[str, list[int]] = {}  # worker id -> the beat each placement saw

    def add(self, record: WorkerRecord) -> None:
        """A secret was just minted on the worker `record` describes."""
        self._beats.setdefault(record.worker_id, []).append(record.beat)

    def adjusted(self, record: WorkerRecord) -> WorkerRecord:
        """The record with the placements it may not know of yet added to its load."""
        placed = self._beats.get(record.worker_id, [])
        unseen = [beat for beat in placed if record.beat < beat + BEATS_TO_REPORT]
        self._beats[record.worker_id] = unseen
        extra = len(unseen) / max(record.capacity, 1)
        return replace(record, load=min(1.0, round(record.load + extra, 3)))

    def forget_all_but(self, worker_ids: set[str]) -> None:
        """Drop what is known of workers that are gone."""
        for gone in set(self._beats) - worker_ids:
            del self._beats[gone]


placements = Placements()


async def placeable_workers() -> list[WorkerRecord]:
    """The live workers that say they take a new session, least loaded first (counting this
    process's own placements they may not have reported yet)."""
    return _placeable(await live_workers())


def _placeable(records: list[WorkerRecord]) -> list[WorkerRecord]:
    # Only a worker knows whether it is full: a placement it has not reported yet reorders the
    # workers but refuses nothing.
    placements.forget_all_but({record.worker_id for record in records})
    adjusted = (placements.adjusted(record) for record in records if record.placeable)
    return sorted(adjusted, key=lambda record: (record.load, record.worker_id))


async def owners_worker(owner: str | None) -> str | None:
    """The worker of the owner's newest live secret: the one that holds their unused place,
    if they have one."""
    if not owner:
        return None
    return await (
        EngineClientSecret.objects.filter(owner=owner, expires_at__gt=timezone.now())
        .exclude(worker="")
        .order_by("-created_at", "-pk")
        .values_list("worker", flat=True)
        .afirst()
    )


async def mint_order(owner: str | None) -> list[WorkerRecord]:
    """The workers to ask for a new secret, in turn: the owner's own first (where a new place
    replaces their unused one, so it is asked even when full), then the placeable ones."""
    records = await live_workers()
    placeable = _placeable(records)
    mine = await owners_worker(owner)
    for record in records:
        if record.worker_id == mine and record.responsive and not record.draining:
            return [record, *(r for r in placeable if r.worker_id != mine)]
    return placeable


def _owner(body: bytes) -> str | None:
    """The owner a mint's body names, if it reads as one (the worker checks it properly)."""
    try:
        owner = json.loads(body or b"{}").get(OWNER_FIELD)
    except (ValueError, AttributeError):
        return None
    return owner if isinstance(owner, str) else None


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


async def _post(url: str, request: HttpRequest, seconds: float) -> httpx.Response:
    """The request forwarded to a worker, answered within `seconds` (else TimeoutError)."""
    headers = {
        "Authorization": request.headers.get("authorization", ""),
        "Content-Type": request.content_type or "application/json",
    }
    # httpx's timeouts bound each read, not the whole answer: the deadline does.
    async with asyncio.timeout(seconds), httpx.AsyncClient(timeout=seconds) as client:
        return await client.post(url, content=request.body, headers=headers, params=request.GET)


def _unreachable(record: WorkerRecord, error: Exception) -> None:
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        logger.warning("worker %s did not answer in time", record.worker_id)
    else:
        logger.warning("worker %s unreachable (%s)", record.worker_id, type(error).__name__)


def _is_busy(answer: httpx.Response) -> bool:
    try:
        return answer.status_code == 503 and answer.json()["error"]["code"] == "engine_busy"
    except (ValueError, KeyError, TypeError):
        return False


@csrf_exempt
@require_POST
async def client_secrets(request: HttpRequest) -> HttpResponse:
    """`POST /v1/realtime/client_secrets`: minted on the least-loaded worker that takes it."""
    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    for record in await mint_order(_owner(request.body)):
        try:
            answer = await _post(
                f"{record.url}/v1/realtime/client_secrets", request, worker_timeout()
            )
        except (httpx.HTTPError, TimeoutError) as error:
            _unreachable(record, error)
            continue
        if not _is_busy(answer):
            if answer.status_code == 200:
                placements.add(record)
            return _forwarded(answer)
    return engine_busy()


@csrf_exempt
@require_POST
async def calls(request: HttpRequest) -> HttpResponse:
    """`POST /v1/realtime/calls`: the SDP offer, forwarded to the secret's worker."""
    token = bearer_token(request.headers)
    record = await worker_for_key(token)
    if record is None:
        if is_engine_key(token):
            return engine_busy()
        if (
            token
            and token.startswith("ek_")
            and await sync_to_async(EngineClientSecret.live)(token)
        ):
            return worker_gone()
        return invalid_key()
    seconds = worker_timeout(SDP_TIMEOUT_FACTOR)
    try:
        return _forwarded(await _post(f"{record.url}/v1/realtime/calls", request, seconds))
    except (httpx.HTTPError, TimeoutError) as error:
        _unreachable(record, error)
        return worker_gone()


@csrf_exempt
@require_POST
async def speech(request: HttpRequest) -> HttpResponse:
    """`POST /v1/audio/speech`: spoken by the least-loaded worker that takes sessions (a
    full worker's cores are its calls')."""
    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    for record in await placeable_workers():
        try:
            answer = await _post(f"{record.url}/v1/audio/speech", request, SPEECH_SECONDS)
        except (httpx.HTTPError, TimeoutError) as error:
            _unreachable(record, error)
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
async def hangup(request: HttpRequest, call_id: str) -> HttpResponse:
    """`POST /v1/realtime/calls/<id>/hangup`: asked of every live worker."""
    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    path = f"/v1/realtime/calls/{call_id}/hangup"
    answers = await asyncio.gather(
        *(_post(f"{w.url}{path}", request, worker_timeout()) for w in await live_workers()),
        return_exceptions=True,
    )
    for answer in answers:
        if isinstance(answer, httpx.Response) and answer.status_code == 200:
            return HttpResponse(status=200)
    return api_error(404, f"No live call {call_id}.", "call_not_found")


async def health(request: HttpRequest) -> JsonResponse:
    """`GET /healthz` on the site: whether any worker can take a session (no addresses)."""
    workers = await live_workers()
    placeable = sum(record.placeable for record in workers)
    status = "ok" if placeable else "busy"
    body = {"status": status, "workers": len(workers), "placeable": placeable}
    return JsonResponse(body)


class RelayConsumer(AsyncWebsocketConsumer):
    """`/v1/realtime` over WebSocket: relayed frame by frame to the key's worker."""

    channel_layer_alias = None  # talks only to its own two sockets
    upstream: "ClientConnection | None" = None  # the socket to the worker, once open
    _pump: asyncio.Task | None = None

    async def connect(self):
        """Open the same socket on the worker, then accept with its subprotocol."""
        import websockets
        from websockets.typing import Subprotocol

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
                subprotocols=[Subprotocol(p) for p in protocols] or None,
                max_size=engine_settings.ENGINE_MAX_MESSAGE_BYTES + 1024 * 1024,
                open_timeout=worker_timeout(),
            )
        except (OSError, websockets.WebSocketException, TimeoutError) as error:
            _unreachable(record, error)
            return await self.close(code=4503)
        await self.accept(self.upstream.subprotocol)
        self._pump = asyncio.ensure_future(self._relay_down())

    async def _relay_down(self) -> None:
        import websockets

        assert self.upstream is not None  # started once the worker's socket is open
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
