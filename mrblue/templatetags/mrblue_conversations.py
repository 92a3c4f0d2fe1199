"""`{% your_conversations page %}`: the AI tab's list of the user's conversations on a page,
so the editor's template shows it without the editor's view knowing conversations."""

from django import template

from mrblue.insight_store import attach_summaries
from mrblue.models import Conversation

register = template.Library()


@register.inclusion_tag("mrblue/conversations.html", takes_context=True)
def your_conversations(context, page):
    """The request's user's latest conversations on `page`, each with its first words, length
    and the edits it made."""
    latest = Conversation.latest_for(page, context["request"].user)
    return {"conversations": attach_summaries(list(latest))}


@register.filter
def mmss(seconds) -> str:
    """Seconds as minutes and seconds: 75 → "1:15"."""
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"
