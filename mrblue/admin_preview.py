"""A read-only admin field showing the session object Mr. Blue will be started with."""

import json

from django.utils.html import format_html


def session_preview_html(session: dict):
    """Render a session object as pretty JSON for an admin read-only field."""
    text = json.dumps(session, indent=2, ensure_ascii=False)
    return format_html(
        '<pre class="mrblue-session-preview" style="{}">{}</pre>',
        "white-space: pre-wrap; max-width: 60em;",
        text,
    )
