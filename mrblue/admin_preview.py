"""A read-only admin field showing the session object Mr. Blue will be started with."""

import json

from django.utils.html import format_html

from mrblue.instructions import InstructionsError
from mrblue.session import build_session


def session_preview_html(page, profile=None):
    """The session object `page` produces (with `profile`, else its own), as pretty JSON for
    an admin read-only field; or why it cannot be built, so the admin page that would fix a
    broken template still renders."""
    try:
        session = build_session(page, profile=profile)
    except InstructionsError as error:
        return format_html('<p class="errornote">{}</p>', str(error))
    return format_html(
        '<pre class="mrblue-session-preview" style="{}">{}</pre>',
        "white-space: pre-wrap; max-width: 60em;",
        json.dumps(session, indent=2, ensure_ascii=False),
    )
