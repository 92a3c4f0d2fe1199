"""One object of every kind, so every URL pattern can be filled with a real id."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models.functions import Now


@pytest.fixture
def url_values(make_user, make_page, make_profile):
    """Argument name → a plausible value, for building a path for every URL pattern."""
    from mrblue.engine.models import EngineWorker
    from mrblue.models import Conversation

    owner = make_user("owner", perms=("editor.change_page", "editor.view_page"))
    page = make_page("home", "Home")
    make_profile()
    Group.objects.create(name="editors")
    EngineWorker.objects.create(pool="default", worker_id="w", published="{}", seen_at=Now())
    conversation = Conversation.objects.create(
        user=owner, page=page, page_title="Home", provider="local", model="m", session={}
    )
    return {
        "slug": page.slug,
        "revision_id": page.revisions.first().pk,
        "call_id": "rtc_unknown",
        "id": owner.pk,
        "content_type_id": ContentType.objects.get_for_model(page).pk,
        "object_id": page.pk,
        "app_label": "mrblue",
        "url": "no-such-thing/",
        "conversation_id": conversation.pk,
        "page_id": page.pk,
    }
