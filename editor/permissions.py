"""Who may edit a page: the rule, decided once, for the editor's views and Mr. Blue's."""

from functools import wraps

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

EDIT_PERMISSION = "editor.change_page"


def can_edit(user, page=None) -> bool:
    """May `user` change `page` (or, without one, pages at all)?

    Today one rule covers every page: the `editor.change_page` permission (the Editors group
    has it). `page` is where a per-page rule would go.
    """
    return user.is_authenticated and user.has_perm(EDIT_PERMISSION)


async def acan_edit(user, page=None) -> bool:
    """`can_edit`, for async views."""
    return await sync_to_async(can_edit)(user, page)


def editor_required(view):
    """For HTML views: anonymous users go to the login page, users who may not edit get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_edit(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
