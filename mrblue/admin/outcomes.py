"""What editors ask, in the admin: the conversation list's outcome filter, and a page's
insight (its conversations, turn latency, refused, asked-about and undone requests, the most
frequent ones) on its change form.
"""

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse

from mrblue.insight import OUTCOMES
from mrblue.insight_store import FILTERS, RECENT_CONVERSATIONS, outcome_filter, read_page_insight

EXAMPLES = 5  # requests listed under each outcome


class OutcomeFilter(admin.SimpleListFilter):
    """Conversations by how their requests went (`insight`): changed the page, had a change
    undone within a minute, were refused, asked about, or changed nothing."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        """The outcomes offered."""
        return list(FILTERS.items())

    def queryset(self, request, queryset):
        """Keep the conversations with that outcome (none for a value not offered)."""
        if self.value() is None:
            return queryset
        if self.value() not in FILTERS:
            return queryset.none()
        return queryset.filter(outcome_filter(self.value()))


def conversations_url(page, outcome: str | None = None) -> str:
    """The admin's conversation list for a page (and an outcome)."""
    url = f"{reverse('admin:mrblue_conversation_changelist')}?page__id__exact={page.pk}"
    return f"{url}&outcome={outcome}" if outcome else url


def page_insight_html(page) -> str:
    """The page's insight, for its change form."""
    insight = read_page_insight(page)
    lists = [
        {
            "outcome": outcome,
            "label": OUTCOMES[outcome],
            "count": insight.count(outcome),
            "url": conversations_url(page, outcome),
            "requests": insight.with_outcome(outcome)[:EXAMPLES],
        }
        for outcome in ("refused", "asked", "undone")
    ]
    context = {
        "insight": insight,
        "limit": RECENT_CONVERSATIONS,
        "all_url": conversations_url(page),
        "changed": insight.count("changed") + insight.count("undone"),
        "changed_url": conversations_url(page, "changed"),
        "lists": lists,
    }
    return render_to_string("mrblue/admin/page_insight.html", context)
