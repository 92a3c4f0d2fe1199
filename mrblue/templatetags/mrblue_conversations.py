"""`{% your_conversations page %}`: the AI tab's list of the user's conversations on a page,
so the editor's template shows it without the editor's view knowing conversations."""

from django import template

from mrblue.models import Conversation

register = template.Library()


@register.inclusion_tag("mrblue/conversations.html", takes_context=True)
def your_conversations(context, page):
    """The request's user's latest conversations on `page`."""
    return {"conversations": Conversation.latest_for(page, context["request"].user)}
