"""The editor's pages: the list of pages a user may edit, and the canvas of one page."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render

from editor.models import Page

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
    revisions = page.revisions.select_related("author")[:20]
    return render(
        request,
        "editor/page_editor.html",
        {"page": page, "blocks": page.content, "revisions": revisions},
    )
