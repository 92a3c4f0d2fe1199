"""The admin's preview of the session Mr. Blue will be started with, written for people: the
instructions as text (the template filled in for an example), voice, turn-taking and listening
in words, the tools by name and description, and the session object as JSON behind a toggle.
"""

import json

from django.template.loader import render_to_string
from django.utils.html import format_html

from mrblue.admin import session_words
from mrblue.admin.layout import Section
from mrblue.admin.voice_player import may_hear_samples, sample_url
from mrblue.instructions import InstructionsError
from mrblue.session import build_session, describe_selected

EXAMPLE_SELECTION = 'heading "Welcome" (id h1)'
TITLE = "What Mr. Blue will be told"


def preview_section(html: str) -> Section:
    """The preview as a collapsed section of a change form."""
    return Section(TITLE, html, "preview", collapsed=True)


def sample_url_for(request) -> str | None:
    """Where the preview's voice sample plays from, if this admin may hear samples."""
    return sample_url() if may_hear_samples(request.user) else None


class ExampleUser:
    """The editor the preview's instructions are filled in for (`{{ user.name }}`)."""

    is_authenticated = True

    def get_full_name(self) -> str:
        """The name `{{ user.name }}` shows."""
        return "Alex Example"

    def get_username(self) -> str:
        """Never shown: the full name is."""
        return "alex"


def example_selection(page) -> str:
    """What the preview takes as selected: the page's first block, else an example heading."""
    blocks = page.content or []
    return blocks[0].get("id", EXAMPLE_SELECTION) if blocks else EXAMPLE_SELECTION


def session_preview_html(page, profile=None, sample_url: str | None = None) -> str:
    """The session `page` produces (with `profile`, else its own) for an example editor and
    selection, readable, with its JSON collapsed; or why it cannot be built, so the admin page
    that would fix a broken template still renders. `sample_url` adds a play button next to
    the voice (for those who may hear samples)."""
    selected = example_selection(page)
    user = ExampleUser()
    try:
        session = build_session(page, user=user, selected=selected, profile=profile)
    except InstructionsError as error:
        return format_html('<p class="errornote">{}</p>', str(error))
    output = session["audio"]["output"]
    context = {
        "page": page,
        "user_name": user.get_full_name(),
        "selected": describe_selected(page, selected),
        "instructions": session["instructions"],
        "voice": session_words.voice(session),
        "voice_name": output["voice"],
        "speed": output["speed"],
        "sample_url": sample_url,
        "turn_taking": session_words.turn_taking(session),
        "listening": session_words.listening(session),
        "answers": session_words.answers(session),
        "tools": session_words.tools(session),
        "json": json.dumps(session, indent=2, ensure_ascii=False),
    }
    return render_to_string("mrblue/admin/session_preview.html", context)
