"""The move of Mr. Blue's per-page settings from editor.Page to mrblue.PageAssistant keeps
every page's profile and instructions, both ways."""

import pytest

from tests.support.migrations import migrate, migrate_to_latest

BEFORE = [
    ("editor", "0002_pagerevision_call_id_pagerevision_content_before_and_more"),
    ("mrblue", "0005_pageassistant"),
]
AFTER = [
    ("editor", "0003_remove_page_assistant_fields"),
    ("mrblue", "0006_copy_page_assistant_settings"),
]


@pytest.mark.django_db(transaction=True)
def test_settings_are_copied_to_page_assistants_and_back():
    try:
        apps = migrate(BEFORE)
        Page = apps.get_model("editor", "Page")
        calm = apps.get_model("mrblue", "AssistantProfile").objects.create(name="Calm")
        Page.objects.create(slug="plain", title="Plain")
        Page.objects.create(slug="calm", title="Calm", assistant_profile=calm)
        Page.objects.create(slug="told", title="Told", assistant_instructions="Be brief.")

        apps = migrate(AFTER)
        PageAssistant = apps.get_model("mrblue", "PageAssistant")
        rows = {a.page.slug: (a.profile_id, a.instructions) for a in PageAssistant.objects.all()}
        assert rows == {"calm": (calm.pk, ""), "told": (None, "Be brief.")}

        apps = migrate(BEFORE)
        pages = apps.get_model("editor", "Page").objects.order_by("slug")
        assert [(p.slug, p.assistant_profile_id, p.assistant_instructions) for p in pages] == [
            ("calm", calm.pk, ""),
            ("plain", None, ""),
            ("told", None, "Be brief."),
        ]
    finally:
        migrate_to_latest()
