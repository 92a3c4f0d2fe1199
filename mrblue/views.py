"""Mr. Blue's HTML pieces for the editor: the user's conversations on a page."""

from django.shortcuts import get_object_or_404, render

from editor.models import Page
from editor.permissions import editor_required
from mrblue.insight_store import attach_summaries
from mrblue.models import Conversation


@editor_required
def page_conversations(request, slug):
    """`GET /editor/<slug>/conversations/`: the user's latest conversations on a page, as the
    AI tab lists them (an HTML piece the voice panel reloads when a call has been saved)."""
    page = get_object_or_404(Page, slug=slug)
    conversations = attach_summaries(list(Conversation.latest_for(page, request.user)))
    return render(request, "mrblue/conversations.html", {"conversations": conversations})
