"""The editor's pages: the list of pages a user may edit, and the canvas of one page."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from editor.history import run_tool
from editor.models import Page
from editor.operations import ToolError
from mrblue.engine.jsonparse import parse_json
from mrblue.ratelimit import limit_per_user, tool_limiter

EDIT_PERMISSION = "editor.change_page"


def _editor_view(view):
    """Login first (anonymous users go to the login page), then the permission (else 403)."""
    return login_required(permission_required(EDIT_PERMISSION, raise_exception=True)(view))


@_editor_view
def page_list(request):
    """Every page the user may edit."""
    return render(request, "editor/page_list.html", {"pages": Page.objects.all()})


@_editor_view
def page_editor(request, slug):
    """One page on the canvas, with the side panel (properties, AI, history)."""
    page = get_object_or_404(Page, slug=slug)
    return render(
        request,
        "editor/page_editor.html",
        {
            "page": page,
            "blocks": page.content,
            "revisions_json": _revisions(page),
            "conversations": _own_conversations(page, request.user),
        },
    )


@_editor_view
def page_conversations(request, slug):
    """The user's latest conversations on a page, as the AI tab lists them (an HTML piece
    the voice panel reloads when a call has been saved)."""
    page = get_object_or_404(Page, slug=slug)
    conversations = _own_conversations(page, request.user)
    return render(request, "editor/conversations.html", {"conversations": conversations})


def _own_conversations(page, user):
    return (
        page.conversations.filter(user=user)
        .prefetch_related("transcript")
        .order_by("-started_at")[:5]
    )


def _json_error(status: int, error: str):
    return JsonResponse({"ok": False, "error": error}, status=status)


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
    """JSON endpoints of the editor: 401/403 as JSON, the page looked up, POST only."""

    @require_POST
    def wrapped(request, slug, **kwargs):
        if not request.user.is_authenticated:
            return _json_error(401, "Log in again to edit this page.")
        if not request.user.has_perm(EDIT_PERMISSION):
            return _json_error(403, "You don't have permission to edit this page.")
        page = Page.objects.filter(slug=slug).first()
        if page is None:
            return _json_error(404, f"There is no page {slug!r}.")
        return view(request, page, **kwargs)

    return wrapped


@_editor_api
@limit_per_user(tool_limiter, "tool", "Too many page changes in a minute; wait a moment.")
def run_tool_view(request, page):
    """`POST /editor/<slug>/tools/` `{"name", "arguments", "call_id"}`: change the page."""
    try:
        body = parse_json(request.body or b"{}")
        arguments = body.get("arguments", {})
        if isinstance(arguments, str):
            arguments = parse_json(arguments or "{}")
        name, call_id = body.get("name"), str(body.get("call_id") or "")[:64]
        if not isinstance(name, str) or not isinstance(arguments, dict):
            raise ValueError
    except (ValueError, AttributeError):
        return _json_error(400, 'Send {"name": <tool>, "arguments": {...}} as JSON.')
    try:
        result = run_tool(page.pk, request.user, name, arguments, call_id)
    except ToolError as exc:
        return _json_error(400, str(exc))
    page.refresh_from_db()
    return JsonResponse({**result, "revisions": _revisions(page)})


@_editor_api
def restore_revision_view(request, page, revision_id):
    """`POST /editor/<slug>/revisions/<id>/restore/`: make an old revision current again."""
    revision = page.revisions.filter(pk=revision_id).first()
    if revision is None:
        return _json_error(404, "There is no such revision of this page.")
    revision.restore(author=request.user)
    page.refresh_from_db()
    return JsonResponse({"ok": True, "blocks": page.content, "revisions": _revisions(page)})
