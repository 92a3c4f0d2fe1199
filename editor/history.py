"""Changing a page through its tools, with one undo/redo history for buttons and voice.

Every edit is a revision that remembers the content it replaced; undo restores that content
and marks the edit undone; redo re-applies the most recently undone edit; a new edit ends the
redo history. All of it under a row lock, so two tabs cannot interleave a change.

Undo and redo only ever replace what they would have produced: undo needs the page to be as
the edit left it, redo as the edit found it. When something else changed the page since (an
admin save, a restored revision) they refuse and say what did, rather than throw it away.
"""

from django.db import transaction
from django.utils import timezone

from editor import operations
from editor.models import Page
from editor.operations import ToolError


def run_tool(page_id: int, user, name: str, arguments: dict, call_id: str = "") -> dict:
    """Carry out a page-changing tool call; return its result for the model and the editor."""
    operations.check_arguments(name, arguments)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page_id)
        if name == "undo":
            said = _undo(page, user, call_id)
        elif name == "redo":
            said = _redo(page, user, call_id)
        elif name in operations.EDITS:
            before = page.content
            page.content, said = operations.apply(page.content, name, arguments)
            page.save(
                author=user,
                note=f"{name}: {said}"[:200],
                kind="edit",
                before=before,
                call_id=call_id,
            )
        else:
            raise ToolError(f"{name} does not change the page.")
    return {"ok": True, "result": said, "blocks": page.content}


def _undo(page: Page, user, call_id: str) -> str:
    edit = page.revisions.filter(kind="edit", undone_at__isnull=True).order_by("-id").first()
    if edit is None:
        raise ToolError("There is nothing to undo.")
    if page.content != edit.content:
        raise ToolError(_changed_since(page, edit, "undo"))
    edit.undone_at = timezone.now()
    edit.save(update_fields=["undone_at"])
    page.content = edit.replaced_content
    page.save(author=user, note=f"undo of revision {edit.pk}", kind="undo", call_id=call_id)
    return f"undid: {edit.note}"


def _redo(page: Page, user, call_id: str) -> str:
    edit = (
        page.revisions.filter(kind="edit", undone_at__isnull=False, redoable=True)
        .order_by("-undone_at", "-id")
        .first()
    )
    if edit is None:
        raise ToolError("There is nothing to redo.")
    if page.content != edit.replaced_content:
        raise ToolError(_changed_since(page, edit, "redo"))
    edit.undone_at = None
    edit.save(update_fields=["undone_at"])
    page.content = edit.content
    page.save(author=user, note=f"redo of revision {edit.pk}", kind="redo", call_id=call_id)
    return f"redid: {edit.note}"


_CHANGES = {"save": "saved", "restore": "restored to an older revision", "edit": "edited"}


def _changed_since(page: Page, edit, action: str) -> str:
    """Why `action` of `edit` is refused: the latest change made to the page since."""
    latest = page.revisions.select_related("author").order_by("-id").first()
    who = f" by {latest.author}" if latest.author else ""
    what = _CHANGES.get(latest.kind, latest.kind)
    when = timezone.localtime(latest.created_at).strftime("%Y-%m-%d %H:%M")
    return f"The page was changed since ({what}{who} at {when}); {action} is not possible."
