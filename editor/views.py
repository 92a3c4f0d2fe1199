"""The editor's pages: the list of pages a user may edit, and the canvas of one page."""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from editor.history import run_tool
from editor.models import Page
from editor.operations import ToolError
from editor.permissions import can_edit, editor_required
from mrblue.shared.errors import json_error
from mrblue.shared.json_input import read_json
from mrblue.shared.rate_limits import RateLimiter, limit_per_user

tool_limiter = RateLimiter("MRBLUE_TOOL_CALLS_PER_MINUTE")


@editor_required
def page_list(request):
    """Every page the user may edit."""
    return render(request, "editor/page_list.html", {"pages": Page.objects.all()})


@editor_required
def page_editor(request, slug):
    """One page on the canvas, with the side panel (properties, AI, history)."""
    page = get_object_or_404(Page, slug=slug)
    return render(
        request,
        "editor/page_editor.html",
        {"page": page, "blocks": page.content, "revisions_json": _revisions(page)},
    )


def _revisions(page) -> list[dict]:
    return [
        {
            "id": r.pk,
            "created_at": r.created_at.isoformat(),
            "author": str(r.author or "system"),
            "note": r.note,
            "kind": r.kind,
            "undone": r.undone_at is not None,
        }
        for r in page.revisions.select_related("author")[:20]
    ]


def _editor_api(view):
    """JSON endpoints of the editor: 401/403/404 as JSON errors, the page looked up, POST only."""

    @require_POST
    def wrapped(request, slug, **kwargs):
        if not request.user.is_authenticated:
            return json_error(401, "not_authenticated", "Log in again to edit this page.")
        page = Page.objects.filter(slug=slug).first()
        if not can_edit(request.user, page):
            return json_error(403, "forbidden", "You don't have permission to edit this page.")
        if page is None:
            return json_error(404, "page_not_found", f"There is no page {slug!r}.")
        return view(request, page, **kwargs)

    return wrapped


@_editor_api
@limit_per_user(tool_limiter, "tool", "Too many page changes in a minute; wait a moment.")
def run_tool_view(request, page):
    """`POST /editor/<slug>/tools/` `{"name", "arguments", "call_id"}`: change the page."""
    try:
        name, arguments, call_id = _read_call(request.body or b"{}")
    except ValueError as exc:
        return json_error(400, "bad_request", str(exc))
    try:
        result = run_tool(page.pk, request.user, name, arguments, call_id)
    except ToolError as exc:
        return json_error(400, "tool_error", str(exc))
    page.refresh_from_db()
    return JsonResponse({**result, "revisions": _revisions(page)})


def _read_call(raw: bytes) -> tuple[str, dict, str]:
    """(name, arguments, call_id) of a tool call body, or ValueError saying what to send."""
    shape = 'Send {"name": <tool>, "arguments": {...}} as JSON.'
    try:
        body = read_json(raw)
        arguments = body.get("arguments", {}) if isinstance(body, dict) else None
        if isinstance(arguments, str):
            arguments = read_json(arguments or "{}")
    except ValueError as error:
        raise ValueError(f"{shape} ({error})") from None
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not isinstance(arguments, dict):
        raise ValueError(shape)
    return name, arguments, str(body.get("call_id") or "")[:64]


@_editor_api
@limit_per_user(tool_limiter, "tool", "Too many page changes in a minute; wait a moment.")
def restore_revision_view(request, page, revision_id):
    """`POST /editor/<slug>/revisions/<id>/restore/`: make an old revision current again (a
    page change like a tool call's, counted with them)."""
    revision = page.revisions.filter(pk=revision_id).first()
    if revision is None:
        return json_error(404, "revision_not_found", "There is no such revision of this page.")
    revision.restore(author=request.user)
    page.refresh_from_db()
    return JsonResponse({"ok": True, "blocks": page.content, "revisions": _revisions(page)})
