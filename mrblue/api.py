"""Mr. Blue's JSON API for the editor: mint a realtime session for a page.

Every answer is JSON; errors are `{"error": {"code", "message"}}` with a fitting status, and
never carry a stack trace, a key or a provider's raw body.
"""

import logging

from asgiref.sync import sync_to_async
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from editor.models import Page
from editor.permissions import acan_edit
from mrblue.instructions import InstructionsError
from mrblue.models import Conversation
from mrblue.project.body_limit import wants_json
from mrblue.providers import ProviderError, get_provider
from mrblue.session import build_instructions, build_session, profile_for
from mrblue.shared.errors import json_error
from mrblue.shared.json_input import read_json_object
from mrblue.shared.rate_limits import RateLimiter, retry_after

logger = logging.getLogger("mrblue.api")
mint_limiter = RateLimiter("MRBLUE_MINT_RATE_PER_MINUTE")
MAX_BODY = 16 * 1024


def csrf_failure(request, reason=""):
    """CSRF refusals as JSON for the API and any JSON request (the editor's tools), Django's
    page for forms."""
    if wants_json(request):
        return json_error(403, "csrf_failed", "CSRF check failed: send the X-CSRFToken header.")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


@require_POST
async def realtime_session(request):
    """`POST /api/realtime/session` `{"page": slug, "selected": ..., "conversation": id}` → a
    client secret. `conversation` (optional) is the conversation a reconnecting panel continues:
    its new session is logged there, rather than in a new conversation holding what was said
    again."""
    found = await _editable_page(request)
    if isinstance(found, JsonResponse):
        return found
    user, page, selected, continued = found
    wait = await mint_limiter.ahit(f"mint:{user.pk}")
    if wait is not None:
        message = "Too many sessions started; wait a moment."
        return json_error(429, "rate_limited", message, retry_after(wait))
    try:
        profile = await sync_to_async(profile_for)(page)
        session = await sync_to_async(build_session)(page, user, selected, profile)
    except InstructionsError as error:
        return json_error(500, "instructions_invalid", str(error))
    return await mint_and_log(request, user, page, session, profile, continued)


async def mint_and_log(request, user, page, session, profile, continued, trial=False):
    """Mint a client secret for `session` and log the conversation it starts (or continue
    `continued`): the answer of `POST /api/realtime/session`, and of the admin's console,
    whose conversations are `trial`s."""
    provider = get_provider(request.build_absolute_uri("/v1"))
    try:
        secret = await provider.mint(session, owner=f"user:{user.pk}")
    except ProviderError as error:
        return json_error(error.status, error.code, error.message, error.retry_after)
    conversation = await _continuable(user, page, continued, trial)
    if conversation is None:
        conversation = await Conversation.objects.acreate(
            user=user,
            page=page,
            page_title=page.title,
            provider=provider.name,
            model=secret.model,
            session=session,
            profile=profile,
            trial=trial,
        )
    logger.info(
        "user %s %s %s %s on %s with %s",
        user.pk,
        "continued" if conversation.pk == continued else "started",
        "trial" if trial else "conversation",
        conversation.pk,
        page.slug,
        provider.name,
    )
    return JsonResponse(
        {
            "value": secret.value,
            "expires_at": secret.expires_at,
            "model": secret.model,
            "calls_url": secret.calls_url,
            "conversation_id": conversation.pk,
            "transcript_ws": conversation.transcript_ws,
        }
    )


async def _continuable(user, page, conversation_id: int | None, trial: bool):
    """The conversation to continue: the user's own, on this page, not ended, a trial if
    this is one; else None (a new one is started: another user's or an ended conversation is
    never continued, nor an editor's by a trial or a trial by the editor)."""
    if conversation_id is None:
        return None
    return await Conversation.objects.filter(
        pk=conversation_id, user=user, page=page, ended_at__isnull=True, trial=trial
    ).afirst()


async def _editable_page(request):
    """(user, page, selected, conversation) for a logged-in user allowed to edit the page the
    JSON body names, or the error answer."""
    user = await request.auser()
    if not user.is_authenticated:
        return json_error(401, "not_authenticated", "Log in to talk to Mr. Blue.")
    if len(request.body) > MAX_BODY:
        message = f"The request body is larger than the limit of {MAX_BODY} bytes."
        return json_error(413, "payload_too_large", message)
    try:
        slug, selected, continued = _read_body(request.body)
    except ValueError as exc:
        return json_error(400, "bad_request", str(exc))
    page = await Page.objects.select_related("assistant__profile").filter(slug=slug).afirst()
    if page is None:
        return json_error(404, "page_not_found", f"There is no page {slug!r}.")
    if not await acan_edit(user, page):
        return json_error(403, "forbidden", "You may not edit this page.")
    return user, page, selected, continued


def _read_body(raw: bytes) -> tuple[str, str | None, int | None]:
    body = read_json_object(raw, '{"page": "<slug>"}')
    slug = body.get("page")
    if not isinstance(slug, str) or not slug:
        raise ValueError('"page" must be the slug of the page you are editing.')
    return slug, read_selected(body), read_continued(body)


def read_selected(body: dict) -> str | None:
    """The body's `selected`: a short text (a block id or description), or None."""
    selected = body.get("selected")
    if selected is not None and (not isinstance(selected, str) or len(selected) > 500):
        raise ValueError('"selected" must be a short text (a block id or description).')
    return selected


def read_continued(body: dict) -> int | None:
    """The body's `conversation`: the id of the conversation a reconnect continues, or None."""
    continued = body.get("conversation")
    if continued is not None and (
        isinstance(continued, bool) or not isinstance(continued, int) or not 0 < continued < 2**63
    ):
        raise ValueError('"conversation" must be the id of the conversation to continue.')
    return continued


@require_POST
async def realtime_instructions(request):
    """`POST /api/realtime/instructions` `{"page", "selected"}` → the rebuilt instructions."""
    found = await _editable_page(request)
    if isinstance(found, JsonResponse):
        return found
    user, page, selected, _ = found
    try:
        instructions = await sync_to_async(build_instructions)(page, user, selected)
    except InstructionsError as error:
        return json_error(500, "instructions_invalid", str(error))
    return JsonResponse({"instructions": instructions})
