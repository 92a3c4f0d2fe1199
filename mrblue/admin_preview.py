"""A read-only admin field showing the session object Mr. Blue will be started with."""

import json

from django.utils.html import format_html

from mrblue.instructions import InstructionsError


def session_preview_html(session: dict):
    """Render a session object as pretty JSON for an admin read-only field."""
    text = json.dumps(session, indent=2, ensure_ascii=False)
    return format_html(
        '<pre class="mrblue-session-preview" style="{}">{}</pre>',
        "white-space: pre-wrap; max-width: 60em;",
        text,
    )


def page_session_preview(page):
    """The session object `page` produces, or why it cannot be built (so the admin page that
    would fix a broken template still renders)."""
    from mrblue.session import build_session

    try:
        session = build_session(page)
    except InstructionsError as error:
        return format_html('<p class="errornote">{}</p>', str(error))
    return session_preview_html(session)
